"""Plots of task timelines and speedups. Import matplotlib only here, and set no global style."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from helpers.timeline import TaskRecord

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


def plot_timeline(
    records: Iterable[TaskRecord],
    ax: Axes | None = None,
    *,
    title: str | None = None,
    label_tasks: bool = True,
    t0: float | None = None,
) -> Axes:
    """Draw a Gantt chart of ``records``: one row per process, one bar per task.

    Bars that sit above one another at the same time ran in parallel. Returns the axes, so the
    caller can add to the figure. ``t0`` sets time zero (default: the first task's start).
    ``records`` may be any iterable (a list, or ``pool.imap(...)``).
    """
    import matplotlib.pyplot as plt

    records = list(records)  # read it once: an iterator would be empty the second time
    if not records:
        raise ValueError("plot_timeline needs at least one TaskRecord; got none")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 1.2 + 0.5 * len({r.pid for r in records})))
    start0 = min(r.start for r in records) if t0 is None else t0
    pids = sorted({r.pid for r in records})
    rows = {pid: i for i, pid in enumerate(pids)}
    colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    for i, r in enumerate(records):
        y = rows[r.pid]
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
                str(r.task),
                ha="center",
                va="center",
                fontsize=8,
                clip_on=True,
            )
    ax.set_yticks(range(len(pids)))
    ax.set_yticklabels([f"PID {pid}" for pid in pids])
    ax.set_xlabel("seconds since the first task started")
    ax.set_xlim(left=0)
    ax.invert_yaxis()
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
