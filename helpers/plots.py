"""Plots of task timelines and speedups. Import matplotlib only here, and set no global style."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from helpers.timeline import TaskRecord

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
) -> Axes:
    """Draw a Gantt chart of ``records``: one row per process, one bar per task.

    Bars that sit above one another at the same time ran in parallel. Returns the axes, so the
    caller can add to the figure. ``t0`` sets time zero (default: the first task's start).
    ``records`` may be any iterable (a list, or ``pool.imap(...)``). With ``by_thread``, each
    thread of a process gets its own row (see :func:`thread_rows`), so tasks run by a thread pool
    do not hide each other. Bars show their task, or with ``number_tasks`` their position.
    """
    import matplotlib.pyplot as plt

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
    for i, (r, y) in enumerate(zip(records, rows)):
        left = r.start - start0
        ax.barh(
            y,
            r.duration,
            left=left,
            height=0.6,
            color=colours[i % len(colours)],
            edgecolor="black",
            linewidth=0.5,
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
    ax.set_xlim(left=0)
    if title:
        ax.set_title(title)
    return ax


def plot_speedup(
    workers: Sequence[int],
    seconds: Sequence[float],
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Axes:
    """Plot measured speedup against the number of workers.

    The speedup of run ``i`` is ``seconds[0] * workers[0] / seconds[i]``: relative to the first
    run, counted as ``workers[0]`` times faster than one worker (with ``workers[0] == 1``, that
    is ``seconds[0] / seconds[i]``). The dashed line is ideal, linear speedup. Returns the axes.
    """
    import matplotlib.pyplot as plt

    if len(workers) != len(seconds) or not workers:
        raise ValueError("plot_speedup needs as many timings as worker counts, and at least one")
    if any(s <= 0 for s in seconds):
        raise ValueError(f"plot_speedup needs positive timings, got {list(seconds)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    base = seconds[0] * workers[0]
    ax.plot(workers, [base / s for s in seconds], "o-", label="measured")
    ax.plot(workers, list(workers), "--", color="grey", label="ideal")
    ax.set_xlabel("worker processes")
    ax.set_ylabel("speedup")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax
