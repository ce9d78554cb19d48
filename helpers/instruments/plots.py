"""Plots of task timelines and speedups. Import matplotlib only here, and set no global style.

Who imports this: lesson notebooks and benchmark scripts (never a worker process). Every
``plot_*`` function takes an optional ``ax`` and returns the axes it drew on. Reference figures,
measured once on a multi-core machine and stored with the course in ``notebooks/reference/``, are
read with :func:`load_reference`.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers.instruments.timeline import TaskRecord

__all__ = [
    "REFERENCE_DIR",
    "load_reference",
    "plot_speedup",
    "plot_timeline",
    "plot_timings",
    "thread_rows",
]

#: Where the course keeps reference measurements (next to the lessons).
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "notebooks" / "reference"

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


def thread_rows(
    records: Sequence[TaskRecord], here: int | None = None
) -> tuple[dict[tuple[int, int], int], list[str]]:
    """Number the (pid, thread) pairs, the process ``here`` first, and label each row.

    A row is labelled with its PID (or "notebook" for ``here``, by default the calling process),
    plus a thread number when one process ran tasks in several threads.
    """
    here = os.getpid() if here is None else here
    lanes: dict[tuple[int, int], int] = {}
    for r in sorted(records, key=lambda r: (r.pid != here, r.pid, r.start)):
        lanes.setdefault((r.pid, r.thread), len(lanes))
    threads_of = Counter(pid for pid, _ in lanes)
    seen: Counter[int] = Counter()
    labels = []
    for pid, _ in lanes:
        seen[pid] += 1
        who = "notebook" if pid == here else f"PID {pid}"
        labels.append(who if threads_of[pid] == 1 else f"{who}, thread {seen[pid]}")
    return lanes, labels


def plot_timeline(
    records: Iterable[TaskRecord],
    ax: Axes | None = None,
    *,
    title: str | None = None,
    label_tasks: bool = True,
    t0: float | None = None,
    by_thread: bool = False,
    number_tasks: bool = False,
    show_cpu: bool = True,
) -> Axes:
    """Draw a Gantt chart of ``records``: one row per process, one bar per task.

    Each task's bar spans its wall-clock interval. When the records carry CPU times (records made
    by :func:`helpers.timed` do) and ``show_cpu`` is true, the wall bar is drawn light and a
    solid inner bar shows the CPU seconds the task used, with a legend. Bars that overlap in time
    ran at the same time only if their CPU bars are (nearly) as long as their wall bars: two
    processes sharing one CPU both span the whole run, but each computes for half of it.

    Returns the axes, so the caller can add to the figure. ``t0`` sets time zero (default: the
    first task's start). ``records`` may be any iterable (a list, or ``pool.imap(...)``). With
    ``by_thread``, each thread of a process gets its own row (see :func:`thread_rows`), so tasks
    run by a thread pool do not hide each other. Bars show their task, or with ``number_tasks``
    their position. The x axis is left to autoscale (it starts at the first bar), so axes shared
    with ``sharex`` keep one common scale.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    records = list(records)  # read it once: an iterator would be empty the second time
    if not records:
        raise ValueError("plot_timeline needs at least one TaskRecord; got none")
    if by_thread:
        lanes, labels = thread_rows(records)
        rows = [lanes[(r.pid, r.thread)] for r in records]
    else:
        pids = sorted({r.pid for r in records})
        row_of = {pid: i for i, pid in enumerate(pids)}
        rows = [row_of[r.pid] for r in records]
        labels = [f"PID {pid}" for pid in pids]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 1.2 + 0.5 * len(labels)))
    start0 = min(r.start for r in records) if t0 is None else t0
    colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    with_cpu = show_cpu and any(r.cpu is not None for r in records)
    for i, (r, y) in enumerate(zip(records, rows)):
        left = r.start - start0
        colour = colours[i % len(colours)]
        ax.barh(
            y,
            r.duration,
            left=left,
            height=0.6,
            color=colour,
            alpha=0.35 if with_cpu else 1.0,
            edgecolor="black",
            linewidth=0.5,
        )
        if with_cpu and r.cpu is not None:
            # A collection, not a patch: ax.patches keeps one bar per task.
            ax.broken_barh(
                [(left, min(r.cpu, r.duration) if r.duration > 0 else r.cpu)],
                (y - 0.15, 0.3),
                facecolors=colour,
            )
        if label_tasks:
            ax.text(
                left + r.duration / 2,
                y,
                str(i + 1) if number_tasks else str(r.task),
                ha="center",
                va="center",
                fontsize=8,
                clip_on=True,
            )
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # first row on top, and room for a single row
    ax.set_xlabel(
        "seconds since the first task started" if t0 is None else "seconds since the run began"
    )
    if with_cpu:
        ax.legend(
            handles=[
                Patch(facecolor="grey", alpha=0.35, edgecolor="black", label="wall time"),
                Patch(facecolor="grey", label="CPU time"),
            ],
            loc="lower right",
            fontsize=8,
        )
    if title:
        ax.set_title(title)
    return ax


def plot_speedup(
    workers: Sequence[int],
    seconds: Sequence[float],
    ax: Axes | None = None,
    *,
    title: str | None = None,
    label: str = "measured",
    spread: Sequence[tuple[float, float]] | None = None,
) -> Axes:
    """Plot measured speedup against the number of workers.

    The speedup of run ``i`` is ``seconds[0] * workers[0] / seconds[i]``: relative to the first
    run, counted as ``workers[0]`` times faster than one worker (with ``workers[0] == 1``, that
    is ``seconds[0] / seconds[i]``). ``label`` names the curve in the legend, so several curves
    can share one axes (the dashed "ideal" line is drawn once). ``spread`` gives each run's
    ``(fastest, slowest)`` seconds; it is drawn as an error bar around the speedup. Returns the
    axes.
    """
    import matplotlib.pyplot as plt

    if len(workers) != len(seconds) or not workers:
        raise ValueError("plot_speedup needs as many timings as worker counts, and at least one")
    if any(s <= 0 for s in seconds):
        raise ValueError(f"plot_speedup needs positive timings, got {list(seconds)}")
    if spread is not None and len(spread) != len(seconds):
        raise ValueError("plot_speedup needs one (fastest, slowest) pair per timing in spread")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    base = seconds[0] * workers[0]
    speedups = [base / s for s in seconds]
    (line,) = ax.plot(workers, speedups, "o-", label=label)
    if spread is not None:
        low = [max(0.0, sp - base / max(hi, 1e-12)) for sp, (_, hi) in zip(speedups, spread)]
        high = [base / max(lo, 1e-12) - sp for sp, (lo, _) in zip(speedups, spread)]
        ax.errorbar(workers, speedups, yerr=[low, high], fmt="none", ecolor=line.get_color())
    if not any(other.get_gid() == "ideal" for other in ax.get_lines()):
        ax.plot(workers, list(workers), "--", color="grey", label="ideal", gid="ideal")
    ax.set_xlabel("worker processes")
    ax.set_ylabel("speedup")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_timings(
    timings: dict[str, Sequence[float]],
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Axes:
    """Draw one bar per way of running the same work: its median seconds, with min-max whiskers.

    ``timings`` maps a label (``"serial"``, ``"4 threads"``...) to the seconds of each repeat.
    Every repeat is also drawn as a dot, so the spread is visible at a glance. Returns the axes.
    """
    import statistics

    import matplotlib.pyplot as plt

    if not timings or any(len(v) == 0 for v in timings.values()):
        raise ValueError("plot_timings needs at least one label with at least one timing")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    labels = list(timings)
    medians = [statistics.median(timings[k]) for k in labels]
    low = [m - min(timings[k]) for m, k in zip(medians, labels)]
    high = [max(timings[k]) - m for m, k in zip(medians, labels)]
    ax.bar(range(len(labels)), medians, yerr=[low, high], capsize=6, color="C0", alpha=0.6)
    for i, k in enumerate(labels):
        ax.plot([i] * len(timings[k]), timings[k], "k.", markersize=5)
        ax.text(i, medians[i], f"{medians[i]:.2f} s", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("seconds (median, min-max)")
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title)
    return ax


def load_reference(
    name: str, folder: str | os.PathLike[str] | None = None
) -> dict[str, Any] | None:
    """Read the reference measurement ``name`` (a JSON file in ``notebooks/reference/``).

    Returns None when it is missing (an install without the course's notebooks), so a lesson can
    say so instead of failing. The file holds the figures and a ``"machine"`` entry that says
    where and when they were measured.
    """
    path = Path(folder) if folder is not None else REFERENCE_DIR
    try:
        data = json.loads((path / name).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
