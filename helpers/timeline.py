"""Instrumentation: record which process ran each task, and when.

Wrap any picklable task function with :func:`timed`; every call then returns a
:class:`TaskRecord` with the task's argument, its result, the PID and thread that ran it, and
its start and end times. Lessons draw the records with :func:`helpers.plot_timeline`; tests use
them to prove that work really ran in several processes at once.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any


@dataclass(frozen=True)
class TaskRecord:
    """One task's run: what it got, what it returned, who ran it and when (``time.time()``)."""

    task: Any
    result: Any
    pid: int
    thread: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        """Seconds the task took."""
        return self.end - self.start


class Timed:
    """A picklable wrapper that runs ``func(task)`` and returns a :class:`TaskRecord`.

    It pickles whenever ``func`` does, so it works with every start method when ``func`` is a
    top-level function of an importable module (for example one from :mod:`helpers.workers`).
    With ``star=True`` the task is a tuple of arguments, as for ``Pool.starmap``.
    """

    def __init__(self, func: Callable[..., Any], star: bool = False) -> None:
        if not callable(func):
            raise TypeError(f"timed() needs a function, got {type(func).__name__}")
        self.func = func
        self.star = star

    def __call__(self, task: Any) -> TaskRecord:
        start = time.time()
        result = self.func(*task) if self.star else self.func(task)
        end = time.time()
        return TaskRecord(task, result, os.getpid(), threading.get_ident(), start, end)

    def __repr__(self) -> str:
        name = getattr(self.func, "__qualname__", repr(self.func))
        return f"timed({name})"


def timed(func: Callable[..., Any], star: bool = False) -> Timed:
    """Return a picklable version of ``func`` whose calls return :class:`TaskRecord` objects.

    >>> from helpers.workers import square
    >>> record = timed(square)(3)
    >>> record.result
    9
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
