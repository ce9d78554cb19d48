"""Grading tools for the shared-memory assignment: a lost update made certain, leaks made visible.

Who imports this: the shared_memory assignment's setup cell and the course's tests. Everything
here runs inside :func:`helpers.grading.run_bounded`.

- :func:`add_race` runs the learner's ``add_many(counter, times)`` in several processes at the
  same moment on a :class:`PausingValue`: a shared integer whose every read pauses a millisecond,
  so that an update made without the value's lock loses other processes' updates on *every* run,
  on one CPU as on many.
- :func:`shm_check` calls a function and reports the shared-memory blocks (``/dev/shm``) that
  appeared during the call and were still there after it: a block that was never unlinked.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from multiprocessing.synchronize import Barrier
from typing import Any

from helpers.grading.assignments.common import checks_context, run_group, wait_at
from helpers.tasks.protocols import PutQueue, SupportsAcquire

__all__ = ["AddRace", "PausingValue", "ShmCheck", "add_race", "shm_check"]


class PausingValue:
    """A shared integer like ``mp.Value("q")`` (with its lock), whose reads pause ``pause`` s.

    ``counter.value += 1`` reads, pauses, then writes: without ``counter.get_lock()`` (or
    ``with counter:``) around it, the processes overwrite each other's updates every time.
    """

    def __init__(self, ctx: BaseContext, pause: float = 0.001) -> None:
        self._value = ctx.Value("q", 0)
        self.pause = pause

    @property
    def value(self) -> int:
        seen = int(self._value.value)
        time.sleep(self.pause)
        return seen

    @value.setter
    def value(self, new: int) -> None:
        self._value.value = new

    def get_lock(self) -> SupportsAcquire:
        """The value's own lock, as ``mp.Value(...).get_lock()``."""
        return self._value.get_lock()

    def __enter__(self) -> bool:
        return self._value.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._value.release()

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        return self._value.acquire(block, timeout)

    def release(self) -> None:
        self._value.release()

    def peek(self) -> int:
        """The value now, without pausing."""
        return int(self._value.value)


def _adder(
    add_many: Callable[[PausingValue, int], object],
    counter: PausingValue,
    times: int,
    gate: Barrier,
    results: PutQueue,
) -> None:
    try:
        wait_at(gate)
        add_many(counter, times)
        results.put(None)
    except BaseException as exc:  # noqa: BLE001 - reported to the learner
        results.put(f"{type(exc).__name__}: {exc}")


@dataclass
class AddRace:
    """What :func:`add_race` saw: the final count, the count expected, and errors."""

    final: int
    expected: int
    errors: list[str] = field(default_factory=list)
    exitcodes: list[int | None] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.expected - self.final

    def explain(self) -> str:
        """What to fix, for a learner, or ''."""
        if self.errors:
            return f"add_many raised {self.errors[0]}"
        if self.final == self.expected:
            return ""
        if self.final > self.expected:
            return (
                f"the counter ended at {self.final}, more than the {self.expected} additions: add "
                "exactly 1 per round, `times` rounds."
            )
        return (
            f"{self.lost} of {self.expected} additions were lost: `counter.value += 1` reads, then "
            "writes, and another process can write in between. Hold the value's own lock around "
            "each addition: `with counter.get_lock(): counter.value += 1`."
        )


def add_race(
    add_many: Callable[[PausingValue, int], object],
    processes: int = 4,
    times: int = 40,
    *,
    pause: float = 0.001,
    start_method: str | None = None,
) -> AddRace:
    """Run ``add_many(counter, times)`` in ``processes`` processes released at the same moment."""
    ctx = checks_context(start_method, __name__, add_many)
    counter = PausingValue(ctx, pause)
    gate = ctx.Barrier(processes)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_adder, args=(add_many, counter, times, gate, results))
        for _ in range(processes)
    ]
    reports, codes = run_group(procs, results, processes, 20.0)
    errors = [r for r in reports if r]
    if len(reports) < processes and not errors:
        errors.append("an error that ended its process (see the exit codes)")
    return AddRace(counter.peek(), processes * times, errors, codes)


@dataclass
class ShmCheck:
    """A call's value, and the shared-memory blocks it left behind (never unlinked)."""

    value: Any
    leaked: list[str]


def _blocks() -> set[str]:
    try:
        return {n for n in os.listdir("/dev/shm") if n.startswith(("psm_", "wnsm_"))}
    except OSError:
        return set()


def shm_check(func: Callable[..., Any], *args: Any) -> ShmCheck:
    """Call ``func(*args)``; report the ``/dev/shm`` blocks it created and did not unlink.

    On systems without ``/dev/shm`` (macOS, Windows) nothing is reported as leaked.
    """
    before = _blocks()
    value = func(*args)
    time.sleep(0.05)
    return ShmCheck(value, sorted(_blocks() - before))
