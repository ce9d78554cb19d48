"""The performance explorer of lesson 09: change a pool's settings, press Run, see why it is fast
or slow.

:class:`PerformanceExplorer` is a small ipywidgets panel. Its controls set the pool size
(``workers``, up to past :func:`helpers.usable_cpus`), the ``chunksize``, the CPU work of each task
(fixed work: :func:`helpers.tasks.workers.count_primes` up to a chosen limit), the size of the argument
sent with each task, the number of tasks, the number of repeats and the start method. **Run**
starts a fresh ``ctx.Pool(workers)`` and times its start-up apart, then ``repeats`` interleaved
rounds of:

1. the tasks' work in a plain loop in this process (the serial baseline);
2. the same tasks on the pool, ``pool.imap_unordered(explorer_chunk, chunks)``, cut into chunks
   of ``chunksize``.

Interleaving, as lesson 09 teaches, lets a busy moment of the machine hit both sides of a round;
each round's speedup is its loop time over its pool time.

It then draws the task timeline of the median pass (wall interval and CPU time of every task) and
adds a point to a speedup and efficiency plot, next to Amdahl's curve for the parallel fraction
fitted from the points of the same workload, and explains the run in sentences computed from the
measurement. The measuring runs in a background thread of the kernel, so the notebook stays
responsive and **Cancel** can stop it: the pool is terminated and joined, and nothing is left
running. Figures are drawn with matplotlib's Agg renderer into PNG images (no pyplot state is
touched, which is safe from a thread).

The same measurement is available without widgets: ``explorer.run(wait=True)`` returns an
:class:`ExplorerRun`; tests and ``benchmarks/explorer_overhead.py`` use that.

Child side: :func:`explorer_chunk` (a list of :func:`explorer_task` calls) is the only function a
worker runs. Importing this module is cheap (ipywidgets and matplotlib are imported only by the process that shows the explorer), so a
worker started by spawn or forkserver finds the task quickly.
"""

from __future__ import annotations

import gc
import io
import itertools
import math
import multiprocessing as mp
import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from helpers.instruments.cpus import usable_cpus
from helpers.instruments.timeline import TaskRecord
from helpers.tasks.workers import count_primes, whoami

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "ARG_SIZES",
    "TASK_SIZES",
    "ExplorerRun",
    "PerformanceExplorer",
    "Settings",
    "draw_speedup",
    "draw_timeline",
    "explain",
    "explore",
    "default_start_method",
    "explorer_chunk",
    "explorer_task",
    "fit_parallel_fraction",
    "make_chunks",
    "make_tasks",
    "measure_transfer",
    "serial_loop",
]

#: The task sizes offered: the limit given to ``count_primes`` (fixed CPU work per task).
TASK_SIZES: tuple[int, ...] = (500, 2_000, 5_000, 10_000, 20_000, 40_000, 80_000, 150_000)

#: The argument sizes offered, in bytes: a payload sent to the worker with each task.
ARG_SIZES: tuple[int, ...] = (0, 1_000, 10_000, 100_000, 1_000_000, 4_000_000)

#: How long a wait for the pool may block before the cancel flag is looked at again (seconds).
POLL = 0.1


def _offered(steps: tuple[int, ...], chosen: int) -> list[int]:
    """A slider's steps, with the value a caller chose added where it is not one of them."""
    return sorted({*steps, chosen})


def _bytes_label(n: int) -> str:
    if n == 0:
        return "no data"
    for unit, size in (("MB", 1_000_000), ("KB", 1_000)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} B"


def default_start_method() -> str:
    """The start method in force, without fixing it: ``mp.get_start_method()`` would fix the
    default for good, and a later ``mp.set_start_method(...)`` would then fail."""
    return mp.get_start_method(allow_none=True) or mp.get_all_start_methods()[0]


# --- child side ------------------------------------------------------------------------------


def explorer_task(task: tuple[int, int, bytes]) -> TaskRecord:
    """Run one explorer task in a worker: ``count_primes(limit)``, with ``payload`` received.

    ``task`` is ``(index, limit, payload)``. The payload is only there to be sent (its cost is
    pickling and copying it); the work is fixed: the same ``limit`` costs the same CPU time
    whatever the clock says. Returns a :class:`helpers.TaskRecord` whose ``task`` is the index
    (not the payload, so the answer stays small), with the wall interval and the CPU time of the
    call.

    >>> record = explorer_task((0, 100, b"xx"))
    >>> record.task, record.result
    (0, 25)
    """
    index, limit, payload = task
    cpu0 = time.thread_time()
    start = time.time()
    result = count_primes(limit)
    end = time.time()
    cpu = time.thread_time() - cpu0
    del payload  # received and unpickled by the worker; that was its cost
    return TaskRecord(index, result, os.getpid(), threading.get_ident(), start, end, cpu)


def explorer_chunk(chunk: list[tuple[int, int, bytes]]) -> list[TaskRecord]:
    """Run a chunk of tasks one after another in a worker (what ``chunksize`` does inside a pool:
    several tasks travel in one message, and their answers come back in one)."""
    return [explorer_task(task) for task in chunk]


# --- settings and results --------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """One configuration of the workload and the pool."""

    workers: int = 2
    chunksize: int = 1
    limit: int = 40_000
    arg_bytes: int = 0
    tasks: int = 24
    repeats: int = 3
    start_method: str = field(default_factory=lambda: default_start_method())

    def __post_init__(self) -> None:
        if self.workers < 1 or self.chunksize < 1 or self.tasks < 1 or self.repeats < 1:
            raise ValueError(f"workers, chunksize, tasks and repeats must be at least 1: {self}")
        if self.limit < 0 or self.arg_bytes < 0:
            raise ValueError(f"limit and arg_bytes must not be negative: {self}")
        if self.start_method not in mp.get_all_start_methods():
            raise ValueError(f"unknown start method {self.start_method!r}")

    @property
    def workload(self) -> tuple[int, int, int, int, str]:
        """Everything but the pool size: runs that differ only in ``workers`` share Amdahl's fit."""
        return (self.limit, self.arg_bytes, self.tasks, self.chunksize, self.start_method)

    def describe(self) -> str:
        """The settings in words."""
        return (
            f"{self.tasks} x count_primes({self.limit:,}) with {_bytes_label(self.arg_bytes)} "
            f"each, Pool({self.workers}), chunksize {self.chunksize}, {self.start_method}"
        )


def make_tasks(settings: Settings) -> Iterator[tuple[int, int, bytes]]:
    """Yield the tasks ``(index, limit, payload)`` lazily: a new payload object for each task.

    Each task gets its own bytes object (as real data would be), so a chunk of several tasks
    pickles every payload. They are made one at a time, when the pool's task-feeding thread asks
    for the next one; that thread waits while the pipe to the workers is full, so the parent does
    not hold every task's payload at once.
    """
    for i in range(settings.tasks):
        yield (i, settings.limit, bytes(settings.arg_bytes))


def make_chunks(settings: Settings) -> Iterator[list[tuple[int, int, bytes]]]:
    """Yield the tasks of :func:`make_tasks` in lists of ``settings.chunksize``: one message each.

    This is what ``pool.imap_unordered(func, tasks, chunksize)`` does inside the pool; the explorer
    does it in plain sight because with ``chunksize > 1`` that method returns a plain generator,
    whose ``next()`` cannot time out (so a Cancel could not be noticed while it waits).

    >>> [len(c) for c in make_chunks(Settings(tasks=5, chunksize=2))]
    [2, 2, 1]
    """
    tasks = make_tasks(settings)
    while chunk := list(itertools.islice(tasks, settings.chunksize)):
        yield chunk


def serial_loop(settings: Settings, cancel: threading.Event | None = None) -> float | None:
    """Run the tasks' work in a plain loop in this process; return its seconds.

    The serial baseline: the best simple serial code, ``count_primes`` for every task, no pool,
    no pickling (the data would already be in this process). Returns None if ``cancel`` was set
    (it is looked at between tasks).
    """
    start = time.perf_counter()
    for _ in range(settings.tasks):
        if cancel is not None and cancel.is_set():
            return None
        count_primes(settings.limit)
    return time.perf_counter() - start


def measure_transfer(nbytes: int, repeat: int = 5) -> float:
    """Seconds to send one task ``(0, limit, bytes(nbytes))`` through a pipe: the median of
    ``repeat`` sends (pickle, copy through the operating system, unpickle), measured here with a
    thread on the other end, as a pool's parent sends each task to a worker."""
    parent_end, child_end = mp.Pipe(duplex=False)
    times: list[float] = []
    try:
        for _ in range(repeat):
            data = (0, 0, bytes(nbytes))
            start = time.perf_counter()
            sender = threading.Thread(target=child_end.send, args=(data,))
            sender.start()
            parent_end.recv()
            times.append(time.perf_counter() - start)
            sender.join()
    finally:
        parent_end.close()
        child_end.close()
    return statistics.median(times)


@dataclass
class ExplorerRun:
    """What one press of Run measured (``pooled`` may be short if it was cancelled)."""

    settings: Settings
    cpus: int
    serial: tuple[float, ...] = ()
    startup: float | None = None
    pooled: tuple[float, ...] = ()
    records: list[TaskRecord] = field(default_factory=list)
    transfer: float = 0.0
    load: float | None = None
    cancelled: bool = False
    error: str | None = None

    @property
    def complete(self) -> bool:
        """True when every repeat ran to the end."""
        return (
            not self.cancelled
            and self.error is None
            and len(self.pooled) == self.settings.repeats
            and bool(self.serial)
        )

    @property
    def serial_median(self) -> float:
        """Median seconds of the plain loop."""
        return statistics.median(self.serial)

    @property
    def pooled_median(self) -> float:
        """Median seconds of the pooled passes (start-up excluded)."""
        return statistics.median(self.pooled)

    @property
    def speedups(self) -> list[float]:
        """The speedup of each round: its plain loop's seconds over its pool pass's seconds."""
        return [s / p for s, p in zip(self.serial, self.pooled) if p > 0]

    @property
    def speedup(self) -> float:
        """The median of the rounds' speedups."""
        return float(statistics.median(self.speedups))

    @property
    def efficiency(self) -> float:
        """Speedup per worker."""
        return self.speedup / self.settings.workers

    @property
    def task_seconds(self) -> float:
        """Serial seconds of one task's work."""
        return self.serial_median / self.settings.tasks

    @property
    def busy_cpus(self) -> float:
        """CPU seconds of the drawn pass's tasks per second of its wall span."""
        if not self.records:
            return float("nan")
        span = max(r.end for r in self.records) - min(r.start for r in self.records)
        total = sum(r.cpu or 0.0 for r in self.records)
        return total / span if span > 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """The measurement as plain data (for JSON), without the task records."""
        return {
            "settings": asdict(self.settings),
            "cpus": self.cpus,
            "serial": list(self.serial),
            "startup": self.startup,
            "pooled": list(self.pooled),
            "transfer": self.transfer,
            "load": self.load,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExplorerRun:
        """Rebuild a run stored by :meth:`to_dict` (no task records: no timeline)."""
        return cls(
            Settings(**data["settings"]),
            int(data["cpus"]),
            serial=tuple(data["serial"]),
            startup=data.get("startup"),
            pooled=tuple(data["pooled"]),
            transfer=float(data.get("transfer", 0.0)),
            load=data.get("load"),
        )

    def summary(self) -> str:
        """One line: settings, speedup with its spread, efficiency."""
        if not self.complete:
            return f"{self.settings.describe()}: {'cancelled' if self.cancelled else self.error}"
        s = self.speedups
        return (
            f"{self.settings.describe()}: serial {self.serial_median * 1000:.0f} ms, pooled "
            f"{self.pooled_median * 1000:.0f} ms (median of {len(self.pooled)}), speedup "
            f"{self.speedup:.2f} (rounds {min(s):.2f} to {max(s):.2f}), efficiency "
            f"{self.efficiency:.0%}"
        )


def fit_parallel_fraction(runs: list[ExplorerRun], cpus: int) -> float | None:
    """Amdahl's parallel fraction ``p`` implied by the runs with 2 to ``cpus`` workers (median of
    each run's :func:`helpers.instruments.perf.parallel_fraction`), or None when no run can say anything
    about it (one CPU, or only runs with one worker or more workers than CPUs)."""
    from helpers.instruments.perf import parallel_fraction

    usable = [r for r in runs if r.complete and 2 <= r.settings.workers <= cpus]
    if not usable:
        return None
    return float(
        statistics.median(parallel_fraction(r.speedup, r.settings.workers) for r in usable)
    )


# --- explanations computed from the measurement -----------------------------------------------


def explain(run: ExplorerRun) -> list[str]:
    """Plain sentences about ``run``, each computed from what it measured."""
    s = run.settings
    if run.error:
        return [f"The run failed: {run.error}"]
    if run.cancelled or not run.complete:
        return ["Cancelled: the pool was terminated and its workers are gone; nothing was plotted."]
    cpus, active = run.cpus, min(s.workers, run.cpus)
    task_ms = run.task_seconds * 1000
    spread = run.speedups
    lines = [
        f"{s.tasks} tasks of {task_ms:.2f} ms of computing each, {_bytes_label(s.arg_bytes)} "
        f"sent with each: the plain loop took {run.serial_median * 1000:.0f} ms, Pool({s.workers}) "
        f"{run.pooled_median * 1000:.0f} ms (start-up of {run.startup or 0:.2f} s not counted): "
        f"speedup {run.speedup:.2f} (rounds from {min(spread):.2f} to {max(spread):.2f}), "
        f"efficiency {run.efficiency:.0%}."
    ]
    if cpus == 1:
        who = "the workers took turns on it" if s.workers > 1 else "one worker, one CPU"
        lines.append(
            f"Only ONE CPU is usable here: {who} ({run.busy_cpus:.2f} CPUs busy on average), so "
            "no speedup is possible: a speedup below 1 is the pool's overhead, one above 1 is "
            "noise."
        )
    elif s.workers > cpus:
        lines.append(
            f"{s.workers} workers on {cpus} CPUs: oversubscribed. At most {cpus} tasks computed at "
            f"once ({run.busy_cpus:.2f} CPUs busy on average); the other workers waited for a CPU."
        )
    chunks = math.ceil(s.tasks / s.chunksize)
    if chunks < active:
        lines.append(
            f"chunksize {s.chunksize} cuts {s.tasks} tasks into only {chunks} chunk(s) for "
            f"{s.workers} workers: {active - chunks} CPU(s) had nothing to do. Use a smaller "
            "chunksize or more tasks."
        )
    per_worker = sorted(Counter(r.pid for r in run.records).values(), reverse=True)
    if active > 1 and per_worker and per_worker[0] >= 1.25 * s.tasks / active:
        fewest = per_worker[-1] if len(per_worker) >= active else 0
        uneven = (
            f"the busiest worker ran {per_worker[0]} of the {s.tasks} tasks, another only "
            f"{fewest}, where {s.tasks / active:.0f} each would be even"
        )
        if s.chunksize > 1:
            lines.append(
                f"Load imbalance: {uneven}; the pool was done only when the busiest one was. "
                "Smaller chunks share the work out better."
            )
        elif s.workers <= cpus and task_ms >= 5:
            lines.append(
                f"Uneven shares: {uneven}. With chunksize 1 a free worker takes the next task, "
                "so a worker that was slowed down (another program took its CPU) ran fewer."
            )
    if s.arg_bytes:
        share = run.transfer / (run.transfer + run.task_seconds)
        if share >= 0.05:
            lines.append(
                f"Sending one task's {_bytes_label(s.arg_bytes)} argument (pickle, pipe, unpickle) "
                f"took {run.transfer * 1000:.2f} ms here, against {task_ms:.2f} ms of computing: "
                f"{share:.0%} of each task's time is spent moving its data, and the parent "
                "pickles every argument in one thread. Send a description (a range, a file "
                "name), not the data."
            )
    pooled_work = run.pooled_median * active
    overhead = (pooled_work - run.serial_median) / s.tasks
    if overhead > 0 and overhead > 0.2 * run.task_seconds and cpus > 1:
        lines.append(
            f"About {overhead * 1000:.2f} ms per task went to something other than computing "
            f"(messages, pickling, waiting), against {task_ms:.2f} ms of work per task."
            + (
                " The tasks are tiny: a bigger chunksize sends several per message."
                if task_ms < 2 and s.chunksize < 8 and run.transfer < 0.05 * run.task_seconds
                else ""
            )
        )
    if s.workers == 1 and run.speedup > 1.05:
        lines.append(
            "One worker cannot beat the plain loop: it does the same work plus messages. A "
            f"speedup of {run.speedup:.2f} is noise: other programs took the CPU from one side "
            "of a round more than from the other."
        )
    elif run.speedup < 0.9:
        lines.append("The pool was slower than the plain loop: here it only added overhead.")
    elif run.speedup < 1.1 and s.workers > 1:
        lines.append("The pool was no faster than the plain loop.")
    elif (
        cpus > 1
        and 1 < s.workers <= cpus
        and run.efficiency >= 0.8
        and run.busy_cpus >= 0.8 * active
        and len(lines) == 1
    ):
        lines.append(
            f"Big enough tasks, evenly shared: {run.busy_cpus:.2f} CPUs were busy on average, "
            f"close to the {active} the pool could use."
        )
    if run.load is not None and run.load > cpus:
        lines.append(
            f"Load average {run.load:.1f} on {cpus} usable CPU(s): other programs were competing "
            "for the CPUs, so these timings are noisy. Run again and compare."
        )
    return lines


# --- drawing (Agg, no pyplot state) -----------------------------------------------------------


def draw_timeline(run: ExplorerRun, ax: Axes) -> Axes:
    """Draw the median pass's tasks on ``ax``: wall interval and CPU time of each; return ``ax``."""
    from helpers.instruments.plots import plot_timeline

    s = run.settings
    plot_timeline(
        run.records,
        ax=ax,
        label_tasks=len(run.records) <= 32,
        title=(
            f"{s.tasks} tasks, Pool({s.workers}), chunksize {s.chunksize}, {s.start_method}: "
            f"{run.busy_cpus:.2f} CPUs busy on average ({run.cpus} usable)"
        ),
    )
    return ax


def draw_speedup(
    runs: list[ExplorerRun], cpus: int, ax: Axes, ax_eff: Axes, max_workers: int
) -> tuple[Axes, Axes]:
    """Plot every complete run's speedup (median, with the rounds' range) and efficiency against
    its pool size: the runs with the last run's settings (but any pool size) in colour, the others
    in grey; the ideal line, the CPU limit and Amdahl's curve fitted to the coloured runs. Returns
    the axes."""
    from helpers.instruments.perf import amdahl_speedup

    done = [r for r in runs if r.complete]
    current = done[-1].settings.workload if done else None
    ns = list(range(1, max_workers + 1))
    ax.plot(ns, ns, "--", color="grey", lw=1, label="ideal: n times faster")
    ax.axhline(cpus, color="k", ls=":", lw=1, label=f"{cpus} usable CPU(s): the ceiling")
    mine = [r for r in done if r.settings.workload == current]
    p = fit_parallel_fraction(mine, cpus)
    if p is not None:
        fitted = [amdahl_speedup(p, min(n, cpus)) for n in ns]
        ax.plot(
            ns,
            fitted,
            "-",
            color="C1",
            label=f"Amdahl, p = {p:.2f}, serial {1 - p:.0%} (fitted; n capped at the CPUs)",
        )
        ax_eff.plot(ns, [f / n for f, n in zip(fitted, ns)], "-", color="C1", label="Amdahl")
    for r in done:
        colour = "C0" if r.settings.workload == current else "0.7"
        n, sp = r.settings.workers, r.speedups
        ax.errorbar(
            [n],
            [r.speedup],
            yerr=[[r.speedup - min(sp)], [max(sp) - r.speedup]],
            fmt="o",
            color=colour,
            capsize=3,
        )
        ax_eff.plot([n], [r.efficiency], "o", color=colour)
    ax.plot([], [], "o", color="C0", label="measured: the last run's settings, any pool size")
    if any(r.settings.workload != current for r in done):
        ax.plot([], [], "o", color="0.7", label="measured: other settings")
    ticks = range(1, max_workers + 1, max(1, max_workers // 8))
    ax.set_xticks(list(ticks))
    ax_eff.set_xticks(list(ticks))
    ax.set_xlabel("worker processes")
    ax.set_ylabel("speedup over the plain loop")
    ax.set_xlim(0.5, max_workers + 0.5)
    ax.set_ylim(0, max(max_workers, 1) + 0.5)
    ax.legend(fontsize=7, loc="upper left")
    ax_eff.axhline(1.0, color="grey", ls="--", lw=1)
    ax_eff.set_xlabel("worker processes")
    ax_eff.set_ylabel("efficiency (speedup per worker)")
    ax_eff.set_xlim(0.5, max_workers + 0.5)
    ax_eff.set_ylim(0, 1.3)
    if p is None:
        ax.set_title(
            "no Amdahl fit: one usable CPU"
            if cpus == 1
            else f"Amdahl fit needs a run with 2 to {cpus} workers",
            fontsize=9,
        )
    return ax, ax_eff


def _png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


# --- the explorer -----------------------------------------------------------------------------


class PerformanceExplorer:
    """Widgets to configure a pool, run it in a background thread, and see what happened.

    ``explorer.widget`` is the panel (a notebook shows the explorer itself as that panel).
    Programmatic use: set ``explorer.controls[...]`` values or pass :class:`Settings` to
    :meth:`run`; ``run(wait=True)`` blocks until the run ends and returns its
    :class:`ExplorerRun`; :meth:`cancel` stops a run; :meth:`close` cancels, waits and closes
    the widgets.
    """

    def __init__(self, settings: Settings | None = None, *, max_workers: int | None = None):
        import ipywidgets as w  # type: ignore[import-untyped]  # no type information

        self.cpus = usable_cpus()
        if settings is None:
            settings = Settings(workers=max(1, self.cpus))
        self.max_workers = max_workers or max(4, 2 * self.cpus, settings.workers)
        self.runs: list[ExplorerRun] = []
        self.last: ExplorerRun | None = None
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._lock = threading.Lock()

        style = {"description_width": "110px"}
        layout = w.Layout(width="420px")
        self.controls: dict[str, Any] = {
            "workers": w.IntSlider(
                settings.workers, 1, max(self.max_workers, settings.workers), description="workers", style=style,
                layout=layout,
            ),
            "chunksize": w.SelectionSlider(
                options=_offered((1, 2, 4, 8, 16, 32, 64), settings.chunksize), value=settings.chunksize,
                description="chunksize", style=style, layout=layout,
            ),
            "limit": w.SelectionSlider(
                options=[(f"count_primes({n:,})", n) for n in _offered(TASK_SIZES, settings.limit)],
                value=settings.limit,
                description="work per task", style=style, layout=layout,
            ),
            "arg_bytes": w.SelectionSlider(
                options=[(_bytes_label(n), n) for n in _offered(ARG_SIZES, settings.arg_bytes)],
                value=settings.arg_bytes,
                description="argument size", style=style, layout=layout,
            ),
            "tasks": w.IntSlider(
                settings.tasks, 1, max(64, settings.tasks), description="tasks", style=style, layout=layout
            ),
            "repeats": w.IntSlider(
                settings.repeats, 1, max(5, settings.repeats), description="repeats", style=style, layout=layout
            ),
            "start_method": w.Dropdown(
                options=mp.get_all_start_methods(), value=settings.start_method,
                description="start method", style=style, layout=layout,
            ),
        }  # fmt: skip
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.cancel_button = w.Button(description="Cancel", icon="stop", disabled=True)
        self.progress = w.IntProgress(0, 0, 1, description="idle", style=style)
        self.points = w.Label("points on the plot: 0")
        self.header = w.HTML(self._header_html())
        self.explanation = w.HTML("<i>Press Run to measure the settings above.</i>")
        self.timeline_image = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.speedup_image = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.run_button.on_click(lambda _: self.run())
        self.cancel_button.on_click(lambda _: self.cancel())
        left = list(self.controls.values())
        self.widget = w.VBox(
            [
                self.header,
                w.HBox([w.VBox(left[:4]), w.VBox(left[4:])]),
                w.HBox([self.run_button, self.cancel_button, self.progress, self.points]),
                self.explanation,
                self.timeline_image,
                self.speedup_image,
            ]
        )
        self._draw_speedup()

    # -- display -------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _header_html(self) -> str:
        host = os.cpu_count()
        if self.cpus == 1:
            cpus = (
                f"<b>Only ONE CPU is usable here</b> (the host has {host} cores): a pool cannot "
                "make CPU-bound work faster, so expect speedups of about 1 or below. Everything "
                "is still measured for real; more workers only take turns on the one CPU."
            )
        else:
            cpus = (
                f"{self.cpus} usable CPUs (host cores: {host}): CPU-bound work can get at most "
                f"{self.cpus} times faster here."
            )
        return f"<b>Performance explorer</b>: {cpus}"

    # -- the programmatic API ------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while a run's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def settings(self) -> Settings:
        """The settings the controls show now."""
        return Settings(**{name: c.value for name, c in self.controls.items()})

    def run(
        self, settings: Settings | None = None, *, wait: bool = False, timeout: float = 300
    ) -> ExplorerRun | None:
        """Start a run with ``settings`` (default: the controls) in a background thread.

        Returns at once (None), or with ``wait=True`` when the run has ended, with its
        :class:`ExplorerRun`. A run already in progress is not disturbed: None is returned.
        """
        with self._lock:
            if self.running:
                return None
            settings = settings or self.settings()
            self._cancel.clear()
            self._set_busy(True, settings=settings)
            result = ExplorerRun(settings, self.cpus)
            self._thread = threading.Thread(
                target=self._background, args=(result,), name="explorer", daemon=True
            )
            self._thread.start()
        if wait:
            self.wait(timeout)
            return result
        return None

    def wait(self, timeout: float = 300) -> bool:
        """Wait up to ``timeout`` seconds for the run in progress; True when none is left."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def cancel(self, timeout: float = 10) -> bool:
        """Stop the run in progress (its pool is terminated); True when it has ended."""
        self._cancel.set()
        return self.wait(timeout)

    def close(self) -> None:
        """Cancel any run, then close the widgets."""
        self.cancel()
        self.widget.close()
        for c in [*self.controls.values(), self.run_button, self.cancel_button, self.progress]:
            c.close()

    # -- the background thread -----------------------------------------------------------------
    def _background(self, result: ExplorerRun) -> None:
        try:
            self._measure(result, self._cancel, self._tick)
        except Exception as exc:  # a thread must not die with a traceback on stderr
            result.error = f"{type(exc).__name__}: {exc}"
        try:
            self.last = result
            if result.complete:
                self.runs.append(result)
                self._draw_timeline(result)
                self._draw_speedup()
            lines = explain(result)
            self.explanation.value = "<br>".join(
                f"<b>{line}</b>" if i == 0 else line for i, line in enumerate(lines)
            )
        except Exception as exc:
            self.explanation.value = f"Could not draw the run: {type(exc).__name__}: {exc}"
        finally:
            self._set_busy(False, "cancelled" if result.cancelled else "done")

    def _measure(
        self, result: ExplorerRun, cancel: threading.Event, tick: Callable[[str, int], None]
    ) -> None:
        """The measurement: a pool, its start-up timed apart, then ``repeats`` rounds of the
        plain loop and a pass of imap_unordered. Checks ``cancel`` at least every POLL seconds
        (between tasks in the loop); the pool is terminated and joined whatever happens."""
        s = result.settings
        result.load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        result.transfer = measure_transfer(s.arg_bytes) if s.arg_bytes else 0.0
        ctx = mp.get_context(s.start_method)
        begin = time.perf_counter()
        pool = ctx.Pool(s.workers)
        try:
            started = pool.map_async(whoami, range(s.workers), chunksize=1)
            while not started.ready():  # the pool has started and answered: its start-up
                if cancel.is_set() or time.perf_counter() - begin > 60:
                    result.cancelled = cancel.is_set()
                    result.error = None if result.cancelled else "the pool did not start in 60 s"
                    return
                started.wait(POLL)
            started.get()
            result.startup = time.perf_counter() - begin
            passes = []
            for _ in range(s.repeats):  # interleaved rounds: the loop, then the pool
                tick("plain loop", 0)
                gc.collect()  # old garbage (earlier figures) is not collected while timing
                seconds = serial_loop(s, cancel)  # here, in the kernel's thread
                if seconds is None:
                    result.cancelled = True
                    return
                result.serial += (seconds,)
                tick("plain loop", s.tasks)

                records: list[TaskRecord] = []
                gc.collect()
                start = time.perf_counter()
                # one message per chunk of tasks; answers in the order they finish
                answers = pool.imap_unordered(explorer_chunk, make_chunks(s))
                while len(records) < s.tasks:
                    if cancel.is_set():
                        result.cancelled = True
                        return
                    try:
                        chunk = answers.next(timeout=POLL)
                    except mp.TimeoutError:
                        continue
                    records += chunk
                    tick(f"Pool({s.workers})", len(chunk))
                result.pooled += (time.perf_counter() - start,)
                passes.append(records)
            median = sorted(range(len(passes)), key=lambda i: result.pooled[i])[len(passes) // 2]
            result.records = passes[median]  # the timeline shows the median pass
        finally:
            pool.terminate()  # stops the workers at once, even in the middle of a task
            pool.join()

    # -- widgets -------------------------------------------------------------------------------
    def _set_busy(self, busy: bool, status: str = "", settings: Settings | None = None) -> None:
        self.run_button.disabled = busy
        self.cancel_button.disabled = not busy
        for c in self.controls.values():
            c.disabled = busy
        if busy:
            self.progress.value = 0
            self.progress.description = "starting"
            self._last_tick = 0.0
            s = settings or self.settings()
            self.progress.max = s.tasks * s.repeats * 2
        else:
            self.progress.description = status
            self.points.value = f"points on the plot: {len(self.runs)}"

    def _tick(self, phase: str, n: int) -> None:
        self.progress.value = min(self.progress.max, self.progress.value + n)
        self.progress.description = phase

    def _draw_timeline(self, run: ExplorerRun) -> None:
        from matplotlib.figure import Figure

        rows = len({r.pid for r in run.records})
        fig = Figure(figsize=(9, 1.4 + 0.45 * rows))
        draw_timeline(run, fig.add_subplot())
        fig.tight_layout()
        self.timeline_image.value = _png(fig)

    def _draw_speedup(self) -> None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9, 3.4))
        ax, ax_eff = fig.subplots(1, 2)
        draw_speedup(self.runs, self.cpus, ax, ax_eff, self.max_workers)
        fig.tight_layout()
        self.speedup_image.value = _png(fig)


def explore(settings: Settings | None = None, **kwargs: Any) -> PerformanceExplorer:
    """Create a :class:`PerformanceExplorer`, show it (in a notebook) and return it.

    ``settings`` (or keyword arguments of :class:`Settings`, e.g. ``workers=4``) set the
    controls' starting values. Assign the result (``explorer = explore()``) so that the panel is
    not shown twice.
    """
    if kwargs:
        base = settings or Settings(workers=max(1, usable_cpus()))
        settings = replace(base, **kwargs)
    explorer = PerformanceExplorer(settings)
    try:
        from IPython.display import display

        display(explorer)
    except ImportError:  # pragma: no cover - IPython comes with JupyterLab
        pass
    return explorer
