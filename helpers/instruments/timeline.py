"""Instrumentation: record which process ran each task, and when.

Wrap any picklable task function with :func:`timed`; every call then returns a
:class:`TaskRecord` with the task's argument, its result, the PID and thread that ran it, its
start and end times (wall clock) and the CPU time it used. Lessons draw the records with
:func:`helpers.plot_timeline`; tests use them to prove that work really ran in several processes
at once.

Overlapping wall-clock intervals alone prove nothing about parallelism: two processes that share
one CPU both "run" from start to end, taking turns. The CPU time tells them apart: when tasks
really run in parallel, their CPU seconds add up to more than the wall-clock seconds they span
(see :func:`busy_cpus`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

__all__ = [
    "TaskRecord",
    "Timed",
    "busy_cpus",
    "max_concurrency",
    "overlapping_pairs",
    "processes_used",
    "records_from_dicts",
    "records_to_dicts",
    "timed",
    "wall_span",
]


@dataclass(frozen=True)
class TaskRecord:
    """One task's run: what it got, what it returned, who ran it and when (``time.time()``).

    ``cpu`` is the CPU time, in seconds, that the thread running the task used during it
    (``time.thread_time()``), or None when it was not measured. On a busy or single CPU a task's
    ``cpu`` is much smaller than its :attr:`duration`: it was waiting for a CPU (or, in a thread
    pool, for the GIL), not computing.
    """

    task: Any
    result: Any
    pid: int
    thread: int
    start: float
    end: float
    cpu: float | None = None

    @property
    def duration(self) -> float:
        """Seconds the task took."""
        return self.end - self.start


class Timed:
    """A picklable wrapper that runs ``func(task)`` and returns a :class:`TaskRecord`.

    It pickles whenever ``func`` does, so it works with every start method when ``func`` is a
    top-level function of an importable module (for example one from :mod:`helpers.tasks.workers`).
    With ``star=True`` the task is a tuple of arguments, as for ``Pool.starmap``.
    """

    def __init__(self, func: Callable[..., Any], star: bool = False) -> None:
        if not callable(func):
            raise TypeError(f"timed() needs a function, got {type(func).__name__}")
        self.func = func
        self.star = star

    def __call__(self, task: Any) -> TaskRecord:
        cpu0 = time.thread_time()
        start = time.time()
        result = self.func(*task) if self.star else self.func(task)
        end = time.time()
        cpu = time.thread_time() - cpu0
        return TaskRecord(task, result, os.getpid(), threading.get_ident(), start, end, cpu)

    def __repr__(self) -> str:
        name = getattr(self.func, "__qualname__", repr(self.func))
        return f"timed({name})"


def timed(func: Callable[..., Any], star: bool = False) -> Timed:
    """Return a picklable version of ``func`` whose calls return :class:`TaskRecord` objects.

    >>> from helpers.tasks.workers import square
    >>> record = timed(square)(3)
    >>> record.result
    9
    >>> record.cpu >= 0.0
    True
    """
    return Timed(func, star=star)


def processes_used(records: Iterable[TaskRecord]) -> set[int]:
    """Return the set of PIDs that ran the tasks."""
    return {r.pid for r in records}


def overlapping_pairs(
    records: Sequence[TaskRecord], *, across_processes: bool = True
) -> list[tuple[TaskRecord, TaskRecord]]:
    """Return the pairs of tasks whose run intervals overlap in time.

    With ``across_processes`` (the default) only pairs run by different processes count: that is
    the evidence that work ran in parallel, not one task after another.
    """
    pairs = []
    for a, b in combinations(records, 2):
        if across_processes and a.pid == b.pid:
            continue
        if a.start < b.end and b.start < a.end:
            pairs.append((a, b))
    return pairs


# Order of the events that happen at one instant, in max_concurrency.
_END, _INSTANT, _START = 0, 1, 2


def max_concurrency(records: Iterable[TaskRecord]) -> int:
    """Return the largest number of tasks that were running at the same instant."""
    # Sweep through the starts and ends in time order. At one instant, tasks that end are
    # removed before tasks that start are added, so touching intervals do not overlap (as in
    # overlapping_pairs). A task too short for the clock (start == end) still ran: it counts
    # once at its instant, with the tasks that run across it, and overlaps nothing else.
    events: list[tuple[float, int]] = []
    for r in records:
        if r.end > r.start:
            events.append((r.start, _START))
            events.append((r.end, _END))
        else:
            events.append((r.start, _INSTANT))
    events.sort()
    running = best = 0
    for _, kind in events:
        if kind == _END:
            running -= 1
        elif kind == _START:
            running += 1
            best = max(best, running)
        else:
            best = max(best, running + 1)
    return best


def wall_span(records: Iterable[TaskRecord]) -> float:
    """Seconds from the first task's start to the last task's end."""
    records = list(records)
    if not records:
        raise ValueError("wall_span needs at least one TaskRecord; got none")
    return max(r.end for r in records) - min(r.start for r in records)


def busy_cpus(records: Iterable[TaskRecord]) -> float:
    """The average number of CPUs the tasks kept busy: their CPU seconds over their wall span.

    About 1.0 means the work ran one task at a time, whatever the timeline's bars suggest (two
    processes taking turns on one CPU); about 2.0 means two tasks really computed at the same
    time. Records without CPU time (``cpu is None``) raise ``ValueError``.

    >>> busy_cpus([TaskRecord("a", 0, 1, 1, 0.0, 1.0, 0.5), TaskRecord("b", 0, 2, 1, 0.0, 1.0, 0.5)])
    1.0
    """
    records = list(records)
    if not records or any(r.cpu is None for r in records):
        raise ValueError("busy_cpus needs TaskRecords with CPU times (made by timed())")
    span = wall_span(records)
    total = sum(r.cpu for r in records if r.cpu is not None)
    return total / span if span > 0 else float("nan")


def records_to_dicts(records: Iterable[TaskRecord]) -> list[dict[str, Any]]:
    """The records as plain dicts (for JSON), times made relative to the first start."""
    records = list(records)
    t0 = min((r.start for r in records), default=0.0)
    return [
        {
            "task": r.task,
            "result": r.result,
            "pid": r.pid,
            "thread": r.thread,
            "start": r.start - t0,
            "end": r.end - t0,
            "cpu": r.cpu,
        }
        for r in records
    ]


def records_from_dicts(rows: Iterable[dict[str, Any]]) -> list[TaskRecord]:
    """Rebuild :class:`TaskRecord` objects from :func:`records_to_dicts` output."""
    return [
        TaskRecord(
            row["task"],
            row["result"],
            row["pid"],
            row["thread"],
            row["start"],
            row["end"],
            row.get("cpu"),
        )
        for row in rows
    ]
