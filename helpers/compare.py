"""Run the same tasks serially, in threads and in processes, and compare (lesson 08).

Used by ``notebooks/08_processes_vs_threads.ipynb``. Everything a child process runs here
(:func:`bump`, :func:`crash_in_a_thread`) is a top-level function of an importable module, so it
works under fork, spawn and forkserver. The other functions run in the caller's process only.

- :func:`race` runs one task function over a list of tasks three ways (serially, with a
  ``ThreadPoolExecutor`` and with a ``ProcessPoolExecutor`` of the same size) and returns a
  :class:`Run` for each: its wall time and a :class:`~helpers.timeline.TaskRecord` per task.
- :func:`limit_for` picks a ``count_primes`` limit that takes about a given time on this machine,
  so a lesson's CPU work stays small on slow and fast computers alike.
- :func:`plot_lanes` draws a timeline with one row per *thread* (``helpers.plot_timeline`` has
  one row per process, so all the threads of one process would share a row), and
  :func:`plot_wall_times` draws the wall times of several races as a grouped bar chart.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from helpers.plots import plot_timeline
from helpers.timeline import TaskRecord, timed
from helpers.workers import count_primes

if TYPE_CHECKING:  # pragma: no cover
    from multiprocessing.context import BaseContext

    from matplotlib.axes import Axes

KINDS = ("serial", "threads", "processes")
"""The three ways :func:`race` runs the tasks, in the order it runs them."""

COUNTER = 0
"""A module global that :func:`bump` changes, in whichever process runs it."""


@dataclass(frozen=True)
class Run:
    """One way of running a list of tasks, measured.

    ``began`` is the ``time.time()`` at which the run began (before any pool was created), so
    ``first_start`` shows how long the run took to get going: for a process pool, mostly the time
    to start its workers. ``seconds`` is the wall time of the whole run, from before the pool was
    created until after it had shut down.
    """

    kind: str
    workers: int
    began: float
    seconds: float
    records: list[TaskRecord] = field(repr=False)

    @property
    def first_start(self) -> float:
        """Seconds from the start of the run until its first task started."""
        return min(r.start for r in self.records) - self.began

    @property
    def results(self) -> list[Any]:
        """The tasks' return values, in the order of the tasks."""
        return [r.result for r in self.records]


def run_serial(func: Callable[[Any], Any], tasks: Sequence[Any]) -> Run:
    """Call ``func(task)`` for each task, one after another, in this thread."""
    job = timed(func)
    began, start = time.time(), time.perf_counter()
    records = [job(task) for task in tasks]
    return Run("serial", 1, began, time.perf_counter() - start, records)


def run_threads(
    func: Callable[[Any], Any], tasks: Sequence[Any], workers: int, timeout: float = 30.0
) -> Run:
    """Map ``func`` over ``tasks`` with a ``ThreadPoolExecutor`` of ``workers`` threads."""
    job = timed(func)
    began, start = time.time(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        records = list(ex.map(job, tasks, timeout=timeout))
    return Run("threads", workers, began, time.perf_counter() - start, records)


def run_processes(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    workers: int,
    ctx: BaseContext | None = None,
    timeout: float = 30.0,
) -> Run:
    """Map ``func`` over ``tasks`` with a ``ProcessPoolExecutor`` of ``workers`` processes.

    ``ctx`` is the multiprocessing context (start method) to use; ``None`` means the default.
    ``func`` must be picklable: a top-level function of an importable module.
    """
    job = timed(func)
    began, start = time.time(), time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        records = list(ex.map(job, tasks, timeout=timeout))
    return Run("processes", workers, began, time.perf_counter() - start, records)


def race(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    workers: int,
    ctx: BaseContext | None = None,
    timeout: float = 30.0,
) -> dict[str, Run]:
    """Run ``func`` over ``tasks`` serially, in ``workers`` threads and in ``workers`` processes.

    Returns ``{"serial": Run, "threads": Run, "processes": Run}``. Each wall time includes
    creating and shutting down the pool, as it would in a real program. Every wait is bounded
    by ``timeout`` seconds.

    >>> from helpers.workers import square
    >>> runs = race(square, [1, 2, 3], workers=2)
    >>> [runs[kind].results for kind in KINDS]
    [[1, 4, 9], [1, 4, 9], [1, 4, 9]]
    """
    if workers < 1:
        raise ValueError(f"race needs at least one worker, got {workers}")
    if not tasks:
        raise ValueError("race needs at least one task")
    return {
        "serial": run_serial(func, tasks),
        "threads": run_threads(func, tasks, workers, timeout),
        "processes": run_processes(func, tasks, workers, ctx, timeout),
    }


def limit_for(seconds: float, probe: int = 40_000) -> int:
    """Return a ``count_primes`` limit that takes about ``seconds`` on this machine, now.

    Times ``count_primes(probe)`` once and scales it: the work grows about as
    ``limit ** 1.5`` (each number up to ``limit`` is tried by divisors up to its square root).
    The answer is rounded to a thousand and is at least 1,000.
    """
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    start = time.perf_counter()
    count_primes(probe)
    took = max(time.perf_counter() - start, 1e-6)
    limit = probe * (seconds / took) ** (2 / 3)
    return max(1_000, int(round(limit, -3)))


def bump(amount: int = 1) -> tuple[int, int, int]:
    """Add ``amount`` to this process's :data:`COUNTER`; return ``(pid, before, after)``.

    Run it in a thread and the caller's ``COUNTER`` changes (threads share one memory); run it
    in a child process and only the child's copy changes.
    """
    global COUNTER
    before = COUNTER
    COUNTER = before + amount
    return os.getpid(), before, COUNTER


def _crash_now(after: float, exit_code: int) -> None:
    time.sleep(after)
    os._exit(exit_code)  # ends the whole process at once, as a crash in C code would


def crash_in_a_thread(after: float = 0.05, main_waits: float = 2.0, exit_code: int = 3) -> None:
    """A process target: start a thread that crashes the process, while the main thread waits.

    The helper thread ends the whole process with ``os._exit(exit_code)`` after ``after``
    seconds. The main thread meanwhile sleeps ``main_waits`` seconds and then returns normally,
    which would give exit code 0. So an exit code of ``exit_code``, well before ``main_waits``
    seconds, shows that one thread's crash took down every thread of its process.
    Run it only in a throwaway child process: ``ctx.Process(target=crash_in_a_thread)``.
    """
    threading.Thread(target=_crash_now, args=(after, exit_code), daemon=True).start()
    time.sleep(main_waits)


def plot_lanes(
    records: Iterable[TaskRecord],
    ax: Axes | None = None,
    *,
    title: str | None = None,
    t0: float | None = None,
    label_tasks: bool = True,
) -> Axes:
    """Draw a timeline of ``records`` with one row per thread of each process.

    ``helpers.plot_timeline(..., by_thread=True, number_tasks=True)``: tasks run by different
    threads of one process get rows of their own instead of hiding each other in one row per
    process; rows are labelled with the PID, or "notebook" for the process that draws, plus a
    thread number; bars are numbered in the order of the tasks. Returns the axes.
    """
    return plot_timeline(
        records, ax, title=title, t0=t0, label_tasks=label_tasks, by_thread=True, number_tasks=True
    )


def plot_wall_times(
    races: dict[str, dict[str, Run]], ax: Axes | None = None, *, title: str | None = None
) -> Axes:
    """Draw a grouped bar chart: one group per race (workload), one bar per way of running it.

    ``races`` maps a workload's name to what :func:`race` returned for it. Each bar is the wall
    time, written above it; its hatched bottom part is the time before the first task started
    (for a process pool, mostly starting the workers). Returns the axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if not races:
        raise ValueError("plot_wall_times needs at least one race")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    kinds = [k for k in KINDS if any(k in runs for runs in races.values())]
    width = 0.8 / len(kinds)
    for j, kind in enumerate(kinds):
        xs, heights, waits = [], [], []
        for i, runs in enumerate(races.values()):
            if kind in runs:
                xs.append(i + (j - (len(kinds) - 1) / 2) * width)
                heights.append(runs[kind].seconds)
                waits.append(runs[kind].first_start)
        bars = ax.bar(
            xs, heights, width, color=f"C{j}", edgecolor="black", linewidth=0.5, label=kind
        )
        shown = [(x, w) for x, w in zip(xs, waits, strict=True) if w >= 0.005]  # skip slivers
        if shown:
            ax.bar(
                [x for x, _ in shown],
                [w for _, w in shown],
                width,
                color="none",
                edgecolor="black",
                linewidth=0,
                hatch="///",
            )
        ax.bar_label(bars, fmt="%.2f s", fontsize=8)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(
        Patch(
            facecolor="none",
            edgecolor="black",
            hatch="///",
            linewidth=0,
            label="before the first task started",
        )
    )
    ax.set_xticks(range(len(races)))
    ax.set_xticklabels(list(races))
    ax.set_ylabel("wall time (s)")
    ax.margins(y=0.15)
    ax.legend(handles=handles, fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def summarize(runs: dict[str, Run]) -> str:
    """Return a small text table of :func:`race`'s runs, with speedups against the serial run.

    Columns: the wall time; the part of it before the first task started; the rest ("working");
    and how many times faster than serial the run was, in total and counting only its working
    part. A speedup below 1 means slower than serial.
    """
    if "serial" not in runs:
        raise ValueError("summarize needs the serial run to compare with")
    base = runs["serial"].seconds
    lines = [
        f"{'':10} {'workers':>7} {'wall':>7} {'start-up':>9} {'working':>8} "
        f"{'speedup':>8} {'once started':>13}"
    ]
    for kind, run in runs.items():
        working = max(run.seconds - run.first_start, 1e-9)
        lines.append(
            f"{kind:10} {run.workers:>7} {run.seconds:>6.2f}s {run.first_start:>8.2f}s "
            f"{working:>7.2f}s {base / run.seconds:>7.2f}x {base / working:>12.2f}x"
        )
    return "\n".join(lines)


def verdict(runs: dict[str, Run], cpus: int, *, threshold: float = 1.3) -> str:
    """Put a computing race's measurements into words, for the CPUs this machine has.

    ``runs`` is what :func:`race` returned for CPU-bound tasks; ``cpus`` is how many CPUs may be
    used (``helpers.usable_cpus()``). A speedup counts as real from ``threshold`` on. The text
    says whether the threads computed in parallel, and whether the processes did once their
    workers had started, and gives a likely reason when they did not: one CPU, or busy CPUs.
    """
    base = runs["serial"].seconds
    threads, processes = runs["threads"], runs["processes"]
    lines = []
    t = base / threads.seconds
    if t < threshold:
        lines.append(
            f"threads:   {t:.2f}x the serial speed: no parallel computing (the GIL "
            "let one thread compute at a time)"
        )
    else:
        lines.append(
            f"threads:   {t:.2f}x the serial speed: they computed in parallel, so the "
            "GIL was off or the work released it"
        )
    working = max(processes.seconds - processes.first_start, 1e-9)
    p = base / working
    best = min(processes.workers, cpus)
    if cpus == 1:
        reason = "with one usable CPU, processes can only take turns"
    elif p >= threshold:
        reason = f"they computed in parallel (at most {best}x is possible here)"
    else:
        reason = (
            f"less than the {best}x that {cpus} CPUs allow: other programs were probably "
            "busy on them; run the race again"
        )
    lines.append(
        f"processes: {processes.first_start:.2f} s of start-up, then {p:.2f}x the serial "
        f"speed: {reason}"
    )
    return "\n".join(lines)
