"""Grading tools for the lock assignment: a lock, a semaphore and an event, checked from outside.

The learner writes three child-side functions, each in a module file written with ``%%writefile``
(a child started with spawn must import them): ``bank.deposit(balance, lock, amount, times)``,
``limited.run_with_slot(semaphore, func, item)`` and ``starting.wait_for_start(start, func, item,
results, timeout=10)``; and one parent-side function in the notebook, ``start_together(func,
items)``. The test cells never run them directly. They call the checks below through
:func:`helpers.grading.run_bounded`, so that a hang, a crash or a leaked process costs one test:

- :func:`deposit_race` runs several depositor processes at once on a :class:`SharedBalance`, whose
  read-modify-write window is widened on purpose (every read of ``.value`` pauses 1 ms), so that
  a deposit without the lock loses updates on *every* run and a correct one never does. A
  :class:`TracedLock` counts how the lock was used, and each process reports when it first and
  last touched the balance, so that a lock held around the whole loop (the processes ran one after
  another) is told apart from one held around each update (their deposits interleave).
- :func:`slot_check` runs more processes than a :class:`TracedSemaphore` has slots, each calling
  ``run_with_slot`` with an instrumented task, so that the most tasks running at once can be
  measured, and a slot that was never given back is reported instead of hanging.
- :func:`start_check` runs ``wait_for_start`` in several processes on a :class:`TracedEvent` that
  the grader sets at a known time, once every worker said "ready".
- :func:`together_run` calls ``start_together`` in the calling process (the sandbox) with
  ``multiprocessing`` patched: it records when ``Event.set()`` is called, checks every process
  target before it starts (a lambda or a function defined in the notebook is refused with a
  message), notes when each of the learner's ``wait_for_start`` workers says "ready"
  (:class:`TracedResults`), and stops a call that waits for ever with a watchdog. No answer to the
  assignment ships in this package: the workers run the learner's own ``wait_for_start``.

:func:`race_report`, :func:`slot_report`, :func:`start_report` and :func:`together_report` turn a
:class:`~helpers.grading.BoundedRun` into the run's report, or raise ``AssertionError`` with a
message that says what to fix. Everything that runs in a child process is top-level in this
module, so it pickles under fork, spawn and forkserver.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing import process as mp_process
from multiprocessing import queues as mp_queues
from multiprocessing import synchronize as mp_synchronize
from multiprocessing.context import BaseContext
from types import FrameType
from typing import Any, NoReturn

from helpers.grading.assignments.common import (
    checks_context,
    drain,
    error_of,
    run_group,
    stop,
    wait_at,
)
from helpers.grading.bounded import BoundedRun, hint_for, last_lines, process_state
from helpers.grading.watchdog import Watchdog, line_in
from helpers.instruments.safety import NotSpawnSafeError, _describe, _problem
from helpers.instruments.timeline import TaskRecord, max_concurrency, overlapping_pairs
from helpers.tasks.protocols import PutQueue

__all__ = [
    "DepositRace",
    "DepositorReport",
    "LockWaitTooLong",
    "SharedBalance",
    "SlotReport",
    "SlotRun",
    "SlotWaitTooLong",
    "StartRun",
    "TogetherRun",
    "TracedEvent",
    "TracedLock",
    "TracedResults",
    "TracedSemaphore",
    "UnboundedWait",
    "WaiterReport",
    "deposit_race",
    "depositor",
    "race_report",
    "signal_waiter",
    "slot_check",
    "slot_report",
    "slot_taker",
    "start_check",
    "start_report",
    "together_report",
    "together_run",
]


# ================================================================================================
# Instruments: shared objects that record, in each process, how the learner's code used them
# ================================================================================================


class LockWaitTooLong(RuntimeError):
    """A :class:`TracedLock` was waited for longer than its time limit: it was never released."""


class SlotWaitTooLong(RuntimeError):
    """A :class:`TracedSemaphore` had no free slot for longer than its time limit."""


class UnboundedWait(RuntimeError):
    """``TracedEvent.wait()`` was called without a timeout and the event was not set in time."""


# Writes to any SharedBalance made by this process; TracedLock reads it to count the deposits made
# while it was held.
_writes_here = 0


class SharedBalance:
    """A shared integer (like ``multiprocessing.RawValue("q")``) whose updates are easy to lose.

    Every read of ``.value`` pauses ``pause`` seconds after reading, so the gap between reading the
    balance and writing it back (``balance.value += amount``) is wide: processes that update it
    without a lock lose updates on every run, not once in a while. It has no lock of its own
    (``get_lock()`` raises ``AttributeError``, as for a ``RawValue``).

    It travels to a child only as a ``Process`` argument. Each process's copy counts its own
    ``reads`` and ``writes`` of ``.value`` and notes the ``time.time()`` of its ``first`` and
    ``last`` access. :meth:`peek` reads the number without pausing or counting.
    """

    def __init__(
        self, initial: int = 0, pause: float = 0.001, ctx: BaseContext | None = None
    ) -> None:
        ctx = ctx or multiprocessing.get_context()
        self._raw = ctx.RawValue("q", initial)
        self.pause = pause
        self.reads = 0
        self.writes = 0
        self.first: float | None = None
        self.last: float | None = None

    def _touch(self) -> None:
        now = time.time()
        if self.first is None:
            self.first = now
        self.last = now

    @property
    def value(self) -> int:
        """The balance. Reading it pauses ``pause`` seconds before returning what was read."""
        seen = int(self._raw.value)
        self._touch()
        self.reads += 1
        time.sleep(self.pause)
        return seen

    @value.setter
    def value(self, new: int) -> None:
        global _writes_here
        self._raw.value = new
        self._touch()
        self.writes += 1
        _writes_here += 1

    def peek(self) -> int:
        """The balance now, read at once and not counted as an access."""
        return int(self._raw.value)

    def get_lock(self) -> NoReturn:
        """There is none: the balance is a RawValue. Use the lock you are given."""
        raise AttributeError(
            "this balance has no lock of its own (it is like a RawValue): use the `lock` "
            "argument of deposit"
        )

    def __repr__(self) -> str:
        return f"SharedBalance(value={self.peek()})"


class _BoundedGuard:
    """What :class:`TracedLock` and :class:`TracedSemaphore` share: ``acquire`` whose unlimited
    wait gives up, and ``with``.

    A subclass sets ``_primitive`` (the real lock or semaphore) and ``timeout``, and says what a
    wait that gave up means (:meth:`_too_long`) and what to note when it took the primitive
    (:meth:`_took`). As for a real lock, ``__enter__`` returns what ``acquire()`` returned.
    """

    _primitive: mp_synchronize.SemLock
    timeout: float

    def acquire(self, block: bool = True, timeout: float | None = None, **kwargs: bool) -> bool:
        """Like ``acquire`` of a real lock, but an unlimited wait ends after ``self.timeout`` s.

        Accepts ``blocking=`` (the ``threading`` spelling) as well as ``block=``.
        """
        if "blocking" in kwargs:
            block = kwargs.pop("blocking")
        if kwargs:
            raise TypeError(f"acquire() got unexpected keyword arguments {sorted(kwargs)}")
        if not block:
            got = self._primitive.acquire(False)
        elif timeout is None or timeout < 0:
            got = self._primitive.acquire(True, self.timeout)
            if not got:
                raise self._too_long()
        else:
            got = self._primitive.acquire(True, timeout)
        if got:
            self._took()
        return got

    def _too_long(self) -> RuntimeError:
        raise NotImplementedError

    def _took(self) -> None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class TracedLock(_BoundedGuard):
    """A ``multiprocessing.Lock`` that records, in each process, how it was held.

    Use it like a lock: ``with lock:``, or ``acquire()`` and ``release()``. Each process's copy
    counts its ``acquisitions`` and ``most_writes_per_hold``: the most :class:`SharedBalance`
    writes it made during one hold (1 when the lock is held around each update; the whole count
    when it is held around the whole loop). A wait with no timeout gives up after ``timeout``
    seconds with :class:`LockWaitTooLong`, so a lock that is never released cannot hang a grader.

    multiprocessing locks are not fair: a process that releases the lock can take it straight
    back before a waiting process wakes up. After each release this lock pauses
    ``pause_after_release`` seconds, so a waiting process gets its turn.
    """

    def __init__(
        self,
        ctx: BaseContext | None = None,
        timeout: float = 5.0,
        pause_after_release: float = 0.0002,
    ) -> None:
        ctx = ctx or multiprocessing.get_context()
        self._primitive = ctx.Lock()
        self.timeout = timeout
        self.pause_after_release = pause_after_release
        self.acquisitions = 0
        self.most_writes_per_hold = 0
        self._writes_at: int | None = None

    def _too_long(self) -> RuntimeError:
        return LockWaitTooLong(
            f"waited {self.timeout:g} s for the lock: a process that took it never "
            "released it. Release the lock after each update, best with `with lock:`."
        )

    def _took(self) -> None:
        self.acquisitions += 1
        self._writes_at = _writes_here

    def release(self) -> None:
        """Release the lock, then pause briefly so that a waiting process can take it."""
        if self._writes_at is not None:
            self.most_writes_per_hold = max(
                self.most_writes_per_hold, _writes_here - self._writes_at
            )
            self._writes_at = None
        self._primitive.release()
        if self.pause_after_release:
            time.sleep(self.pause_after_release)

    def __repr__(self) -> str:
        return f"<TracedLock acquisitions={self.acquisitions}>"


class TracedSemaphore(_BoundedGuard):
    """A ``multiprocessing.Semaphore(value)`` that counts, in each process, acquires and releases.

    Use it like a semaphore: ``with semaphore:``, or ``acquire()`` and ``release()``. ``held``
    is how many slots this process holds now (``acquired - released``). A wait with no timeout
    gives up after ``timeout`` seconds with :class:`SlotWaitTooLong`, so slots that are never
    given back cannot hang a grader.
    """

    _primitive: mp_synchronize.Semaphore

    def __init__(
        self, value: int = 1, ctx: BaseContext | None = None, timeout: float = 4.0
    ) -> None:
        ctx = ctx or multiprocessing.get_context()
        self._primitive = ctx.Semaphore(value)
        self.slots = value
        self.timeout = timeout
        self.acquired = 0
        self.released = 0

    @property
    def held(self) -> int:
        """Slots this process has taken and not given back."""
        return self.acquired - self.released

    # The hooks _BoundedGuard calls, as in TracedLock: each guard words its own timeout and count.
    def _too_long(self) -> RuntimeError:
        return SlotWaitTooLong(
            f"waited {self.timeout:g} s for a free slot of Semaphore({self.slots}), in vain: "
            "the processes that took the slots never gave them back."
        )

    def _took(self) -> None:
        self.acquired += 1

    def release(self) -> None:
        """Give one slot back."""
        self._primitive.release()
        self.released += 1

    def get_value(self) -> int:
        """The number of free slots (not available on macOS)."""
        return int(self._primitive.get_value())

    def __repr__(self) -> str:
        return f"<TracedSemaphore slots={self.slots} held here={self.held}>"


class TracedEvent:
    """A ``multiprocessing.Event`` that records, in each process, every call of ``wait``.

    ``waits`` lists ``(timeout, returned, time.time() when it returned)`` for each ``wait()``.
    A ``wait()`` with no timeout gives up after ``timeout`` seconds with
    :class:`UnboundedWait`, so a worker that waits for ever cannot hang a grader.
    """

    def __init__(self, ctx: BaseContext | None = None, timeout: float = 10.0) -> None:
        ctx = ctx or multiprocessing.get_context()
        self._event = ctx.Event()
        self.timeout = timeout
        self.waits: list[tuple[float | None, bool, float]] = []

    def is_set(self) -> bool:
        return bool(self._event.is_set())

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """Like ``Event.wait``; without a timeout, raise :class:`UnboundedWait` after ``self.timeout`` seconds."""
        if timeout is None:
            ok = bool(self._event.wait(self.timeout))
            self.waits.append((None, ok, time.time()))
            if not ok:
                raise UnboundedWait(
                    f"start.wait() has no time limit, and no signal came in {self.timeout:g} s: "
                    "the worker would have waited for ever. Pass the timeout: "
                    "start.wait(timeout)."
                )
            return ok
        ok = bool(self._event.wait(timeout))
        self.waits.append((timeout, ok, time.time()))
        return ok

    def __repr__(self) -> str:
        return f"<TracedEvent set={self.is_set()}>"


# ================================================================================================
# Child side: what each grader-started process runs around the learner's function
# ================================================================================================


@dataclass(frozen=True)
class DepositorReport:
    """What one depositor process did: its accesses to the balance and its use of the lock.

    ``first`` and ``last`` are when (``time.time()``) it first and last read or wrote the balance;
    ``error`` is ``(type, message)`` of what ``deposit`` raised, or None.
    """

    name: str
    pid: int
    reads: int
    writes: int
    first: float | None
    last: float | None
    acquisitions: int
    most_writes_per_hold: int
    error: tuple[str, str] | None


def depositor(
    deposit: Callable[[SharedBalance, TracedLock, int, int], object],
    balance: SharedBalance,
    lock: TracedLock,
    amount: int,
    times: int,
    gate: mp_synchronize.Barrier,
    results: PutQueue,
    name: str,
) -> None:
    """``Process`` target: wait at ``gate``, call ``deposit(balance, lock, amount, times)``, report.

    Puts one :class:`DepositorReport` on ``results``, whatever ``deposit`` did.
    """
    wait_at(gate)
    error = None
    try:
        deposit(balance, lock, amount, times)
    except BaseException as exc:  # noqa: BLE001 - reported to the learner
        error = error_of(exc)
    results.put(
        DepositorReport(
            name,
            os.getpid(),
            balance.reads,
            balance.writes,
            balance.first,
            balance.last,
            lock.acquisitions,
            lock.most_writes_per_hold,
            error,
        )
    )


@dataclass(frozen=True)
class SlotReport:
    """What one call of ``run_with_slot(semaphore, func, item)`` did, in its own process.

    ``value`` is what it returned, ``error`` ``(type, message)`` of what it raised (or None);
    ``acquired`` and ``released`` count what it did with the semaphore.
    """

    index: int
    item: Any
    pid: int
    value: Any
    error: tuple[str, str] | None
    acquired: int
    released: int

    @property
    def held(self) -> int:
        """Slots still held when run_with_slot returned (or raised)."""
        return self.acquired - self.released


def slot_taker(
    run_with_slot: Callable[[TracedSemaphore, Callable[[Any], Any], Any], Any],
    semaphore: TracedSemaphore,
    func: Callable[[Any], Any],
    item: Any,
    gate: mp_synchronize.Barrier,
    results: PutQueue,
    index: int,
) -> None:
    """``Process`` target: wait at ``gate``, call ``run_with_slot(semaphore, func, item)``, report.

    Puts one :class:`SlotReport` on ``results``, whatever happened.
    """
    wait_at(gate)
    value, error = None, None
    try:
        value = run_with_slot(semaphore, func, item)
    except BaseException as exc:  # noqa: BLE001 - reported to the learner
        error = error_of(exc)
    report = SlotReport(
        index, item, os.getpid(), value, error, semaphore.acquired, semaphore.released
    )
    try:
        results.put(report)
    except Exception as exc:  # noqa: BLE001 - e.g. a value that does not pickle
        results.put(
            SlotReport(
                index,
                item,
                os.getpid(),
                None,
                ("PicklingError", f"its result could not be sent back: {exc}"),
                semaphore.acquired,
                semaphore.released,
            )
        )


@dataclass(frozen=True)
class WaiterReport:
    """What one call of ``wait_for_start(...)`` did: its waits on the event, and any error.

    ``waits`` is :attr:`TracedEvent.waits` from its process; ``error`` is ``(type, message)`` of
    what it raised, or None; ``ended`` is when (``time.time()``) it returned.
    """

    index: int
    pid: int
    waits: tuple[tuple[float | None, bool, float], ...]
    error: tuple[str, str] | None
    ended: float


def signal_waiter(
    wait_for_start: Callable[[TracedEvent, Callable[[Any], Any], Any, PutQueue, float], object],
    start: TracedEvent,
    func: Callable[[Any], Any],
    item: Any,
    results: PutQueue,
    wait_timeout: float,
    log: PutQueue,
    index: int,
) -> None:
    """``Process`` target: say "alive" on ``log``, call ``wait_for_start``, report on ``log``.

    Calls ``wait_for_start(start, func, item, results, wait_timeout)`` and puts
    ``("alive", index)`` before it and ``("done", WaiterReport)`` after it on ``log``.
    """
    log.put(("alive", index))
    error = None
    try:
        wait_for_start(start, func, item, results, wait_timeout)
    except BaseException as exc:  # noqa: BLE001 - reported to the learner
        error = error_of(exc)
    log.put(("done", WaiterReport(index, os.getpid(), tuple(start.waits), error, time.time())))


class TracedResults:
    """The learner's ``results`` queue, handed on to its worker, noting when "ready" is put.

    :func:`together_run` gives each ``wait_for_start`` worker this wrapper instead of the queue
    itself: every ``put`` goes to the learner's queue unchanged, and a ``"ready"`` is also noted,
    with its process and time, on the grader's ``log``. It is an instrument, not an answer: the
    learner's own ``wait_for_start`` still does all the work.
    """

    def __init__(self, queue: mp_queues.Queue[Any], log: PutQueue) -> None:
        self._queue = queue
        self._log = log

    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        if isinstance(obj, str) and obj == "ready":
            self._log.put(("ready", os.getpid(), time.time()))
        self._queue.put(obj, block, timeout)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._queue, name)


def _trace_results(process: Any, log: PutQueue) -> bool:
    """Wrap the ``results`` argument of a ``wait_for_start`` process; True if it was found.

    ``process`` is a ``Process`` (``Any``: its ``_args`` and ``_kwargs`` are private, undeclared).
    """
    args = list(process._args)
    if len(args) >= 4:
        args[3] = TracedResults(args[3], log)
        process._args = tuple(args)
        return True
    if "results" in process._kwargs:
        process._kwargs = {
            **process._kwargs,
            "results": TracedResults(process._kwargs["results"], log),
        }
        return True
    return False


# ================================================================================================
# Parent side: run the learner's child-side function in several processes (through run_bounded)
# ================================================================================================


@dataclass
class DepositRace:
    """What happened when ``processes`` processes each called ``deposit(balance, lock, amount,
    times)`` at the same moment, on a balance that started at ``initial``.

    ``final`` is the balance at the end; ``reports`` holds one :class:`DepositorReport` per
    process that reported back; ``exit_codes`` are the processes' exit codes.
    """

    processes: int
    times: int
    amount: int
    initial: int
    final: int
    reports: list[DepositorReport]
    exit_codes: list[int | None]
    seconds: float

    @property
    def expected(self) -> int:
        """The balance if no deposit was lost."""
        return self.initial + self.processes * self.times * self.amount

    @property
    def lost(self) -> int:
        """How much money went missing (0 when every deposit counted)."""
        return self.expected - self.final

    @property
    def missing(self) -> int:
        """Processes that never reported back."""
        return self.processes - len(self.reports)

    def records(self) -> list[TaskRecord]:
        """One :class:`TaskRecord` per process, from its first to its last access of the balance."""
        return [
            TaskRecord(r.name, r.writes, r.pid, 0, r.first, r.last)
            for r in self.reports
            if r.first is not None and r.last is not None
        ]

    @property
    def interleaved(self) -> bool:
        """True when at least two processes were updating the balance during the same time."""
        return bool(overlapping_pairs(self.records()))

    def summary(self) -> str:
        """A few lines that say what happened, for a learner who wants to see the race."""
        lines = [
            f"{self.processes} processes x {self.times} deposits of {self.amount}: balance "
            f"{self.final}, expected {self.expected} (lost {self.lost}), "
            f"{self.seconds:.2f} s"
        ]
        t0 = min((r.first for r in self.reports if r.first is not None), default=0.0)
        for r in sorted(self.reports, key=lambda r: r.name):
            span = (
                f"{r.first - t0:.3f} s to {(r.last or r.first) - t0:.3f} s"
                if r.first is not None
                else "never touched the balance"
            )
            lines.append(
                f"  {r.name}: {r.writes} writes, lock taken {r.acquisitions} times, "
                f"busy from {span}"
            )
        return "\n".join(lines)

    def explain_total(self) -> str:
        """Why the balance after one process's deposits is wrong, for the learner."""
        made = [r.writes for r in self.reports]
        text = (
            f"After deposit(balance, lock, {self.amount}, {self.times}) on a balance of "
            f"{self.initial}, the balance was {self.final}, expected {self.expected}."
        )
        if made and any(w != self.times for w in made):
            text += (
                f" deposit changed balance.value {made[0]} time(s). Make `times` separate "
                "deposits, one after another: each one reads balance.value, adds `amount` "
                "and writes it back."
            )
        return text

    def explain_lost(self) -> str:
        """Why money went missing when several processes deposited at once, for the learner."""
        lost_deposits = self.lost / self.amount if self.amount else self.lost
        text = (
            f"{self.processes} processes each made {self.times} deposits of {self.amount} at "
            f"the same time: the balance should have ended at {self.expected}, but it ended "
            f"at {self.final}, so {lost_deposits:g} deposits were lost. "
        )
        if not any(r.acquisitions for r in self.reports):
            text += (
                "deposit never took the lock, so two processes could read the same old "
                "balance and the second write overwrote the first. "
            )
        else:
            text += (
                "The lock was taken, but not around the whole update: the read and the "
                "write of one deposit must both happen while holding it. "
            )
        return text + (
            "Hold the lock around each read-modify-write:\n"
            "    with lock:\n        balance.value += amount"
        )

    def explain_serialised(self) -> str:
        """Why the processes' deposits did not interleave, for the learner."""
        most = max((r.most_writes_per_hold for r in self.reports), default=0)
        held = min((r.acquisitions for r in self.reports), default=0)
        if most > 1:
            text = (
                f"The processes ran one after another, never together: each took the lock "
                f"{held} time(s) and made up to {most} deposits while holding it once, so "
                "the other processes had to wait until its whole loop was done. "
            )
        else:
            text = (
                "The processes' deposits never overlapped in time: each process made all "
                "its deposits before the next one started. "
            )
        return text + (
            "Hold the lock only around each read-modify-write (`with lock:` inside "
            "the loop), so that the processes take turns deposit by deposit and the "
            "work that needs no lock can run in parallel."
        )


def deposit_race(
    deposit: Callable[[SharedBalance, TracedLock, int, int], object],
    processes: int = 4,
    times: int = 30,
    amount: int = 1,
    initial: int = 0,
    *,
    pause: float = 0.001,
    limit: float = 8.0,
    start_method: str | None = None,
) -> DepositRace:
    """Run ``deposit(balance, lock, amount, times)`` in ``processes`` processes at the same moment.

    The balance is a :class:`SharedBalance` starting at ``initial`` (each read pauses ``pause``
    seconds), the lock a :class:`TracedLock`; a ``Barrier`` releases the processes together.
    ``limit`` bounds the whole run; ``start_method`` picks the context (default: forkserver
    where it exists, see :func:`_context`; else the one in force). Raises :class:`helpers.NotSpawnSafeError` at once if ``deposit`` cannot be found by
    a spawned child.
    """
    ctx = checks_context(start_method, __name__, deposit)
    began = time.monotonic()
    balance = SharedBalance(initial, pause, ctx)
    lock = TracedLock(ctx)
    gate = ctx.Barrier(processes)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=depositor,
            args=(deposit, balance, lock, amount, times, gate, results, f"depositor {i + 1}"),
            name=f"depositor {i + 1}",
        )
        for i in range(processes)
    ]
    reports, codes = run_group(procs, results, processes, limit)
    return DepositRace(
        processes,
        times,
        amount,
        initial,
        balance.peek(),
        sorted(reports, key=lambda r: r.name),
        codes,
        time.monotonic() - began,
    )


@dataclass
class SlotRun:
    """What happened when one process per item called ``run_with_slot(semaphore, func, item)``
    at the same moment, with a semaphore of ``slots`` slots.

    ``reports`` holds one :class:`SlotReport` per process that reported back, in item order.
    """

    slots: int
    items: list[Any]
    reports: list[SlotReport]
    exit_codes: list[int | None]
    seconds: float

    @property
    def missing(self) -> int:
        """Processes that never reported back."""
        return len(self.items) - len(self.reports)

    @property
    def records(self) -> list[TaskRecord]:
        """The :class:`TaskRecord` results (from a task such as ``probe``) run_with_slot returned."""
        return [r.value for r in self.reports if isinstance(r.value, TaskRecord)]

    @property
    def max_concurrency(self) -> int:
        """The most tasks that ran at the same instant."""
        return max_concurrency(self.records)

    def wrong_values(self) -> list[SlotReport]:
        """Calls that returned normally but not ``func(item)``'s record for their own item."""
        return [
            r
            for r in self.reports
            if r.error is None and not (isinstance(r.value, TaskRecord) and r.value.task == r.item)
        ]

    def explain_values(self) -> str:
        """Why the values returned are wrong, for the learner."""
        bad = self.wrong_values()
        if not bad:
            return ""
        return (
            f"run_with_slot(semaphore, func, {bad[0].item!r}) returned {bad[0].value!r}: it "
            "should return what func(item) returned."
        )

    def explain_too_many(self) -> str:
        """Why more tasks ran at once than the semaphore has slots, for the learner."""
        text = (
            f"{self.max_concurrency} tasks ran at the same time, but the semaphore has only "
            f"{self.slots} slot(s). "
        )
        if not any(r.acquired for r in self.reports):
            text += "run_with_slot never acquired the semaphore. "
        else:
            text += "The task must run while the slot is held, not before or after. "
        return text + (
            "Call func(item) inside the block:\n    with semaphore:\n        return func(item)"
        )

    def explain_too_few(self) -> str:
        """Why fewer tasks than slots ran at once, for the learner."""
        return (
            f"At most {self.max_concurrency} task(s) ran at the same time, although the "
            f"semaphore has {self.slots} slots and {len(self.items)} processes wanted one. "
            "Take exactly one slot per call (one `with semaphore:`), so that "
            f"{self.slots} tasks can run at once."
        )


def slot_check(
    run_with_slot: Callable[[TracedSemaphore, Callable[[Any], Any], Any], Any],
    func: Callable[[Any], Any],
    items: Sequence[Any],
    slots: int = 2,
    *,
    slot_timeout: float = 3.0,
    limit: float = 10.0,
    start_method: str | None = None,
) -> SlotRun:
    """Call ``run_with_slot(semaphore, func, item)`` for every item, each in its own process.

    All the processes start together (a ``Barrier``) and share a :class:`TracedSemaphore` of
    ``slots`` slots, which gives up a slot wait after ``slot_timeout`` seconds. ``limit`` bounds the
    whole run; ``start_method`` picks the context (as for :func:`deposit_race`). Raises
    :class:`helpers.NotSpawnSafeError` at once if ``run_with_slot`` or ``func`` cannot be found
    by a spawned child.
    """
    ctx = checks_context(start_method, __name__, run_with_slot, func)
    items = list(items)
    began = time.monotonic()
    semaphore = TracedSemaphore(slots, ctx, slot_timeout)
    gate = ctx.Barrier(len(items))
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=slot_taker,
            args=(run_with_slot, semaphore, func, item, gate, results, i),
            name=f"slot taker {i + 1}",
        )
        for i, item in enumerate(items)
    ]
    reports, codes = run_group(procs, results, len(items), limit)
    return SlotRun(
        slots, items, sorted(reports, key=lambda r: r.index), codes, time.monotonic() - began
    )


@dataclass
class StartRun:
    """What happened when one process per item ran ``wait_for_start`` on an event set by the grader.

    ``set_time`` is when (``time.time()``) the grader called ``set()`` (None if it did not);
    ``readys_before_set`` how many ``"ready"`` had arrived on ``results`` by then; ``records`` the
    :class:`TaskRecord` results that arrived, ``others`` anything else put on ``results``
    besides ``"ready"``. ``reports`` holds a :class:`WaiterReport` per worker that returned;
    ``still_waiting`` lists the workers that had not returned when the grader stopped them.
    """

    items: list[Any]
    wait_timeout: float
    set_time: float | None
    readys_before_set: int
    readys: int
    records: list[TaskRecord]
    others: list[Any]
    reports: list[WaiterReport]
    never_started: int
    still_waiting: list[int]
    exit_codes: list[int | None]

    @property
    def never_waited(self) -> list[WaiterReport]:
        """Workers that returned without ever calling ``start.wait(...)``."""
        return [r for r in self.reports if not r.waits]

    def started_early(self) -> list[TaskRecord]:
        """Tasks that began before the signal was given."""
        if self.set_time is None:
            return list(self.records)
        return [r for r in self.records if r.start < self.set_time]

    def explain_not_waiting(self) -> str:
        """Why the workers did not wait for the signal, for the learner."""
        early = self.started_early()
        lead = (
            max(self.set_time - r.start for r in early)
            if early and self.set_time is not None
            else 0.0
        )
        text = (
            f"{len(self.never_waited)} of the {len(self.items)} workers never called "
            "start.wait(...): "
        )
        if early:
            text += f"their tasks started up to {lead:.2f} s before the signal was given. "
        else:
            text += "they did not wait for the signal. "
        return text + (
            "Wait for the event before running the task:\n"
            "    if start.wait(timeout):\n        results.put(func(item))"
        )

    def explain_early(self) -> str:
        """Why some tasks started before the signal, for the learner."""
        early = self.started_early()
        return (
            f"{len(early)} of the {len(self.items)} tasks started before the grader called "
            "start.set(). Run func(item) only once start.wait(timeout) has returned True."
        )

    def explain_ready(self) -> str:
        """Why the workers did not say "ready" before waiting, for the learner."""
        some = "None" if not self.readys_before_set else f"Only {self.readys_before_set}"
        return (
            f'{some} of the {len(self.items)} workers put "ready" on '
            "`results` before the signal was given (the grader waited for them). Put "
            '"ready" on `results` first, then wait: the parent waits for one "ready" per '
            "worker before it calls start.set()."
        )

    def explain_results(self) -> str:
        """Why the results are incomplete, for the learner."""
        got = len(self.records)
        text = (
            f"{got} of the {len(self.items)} workers put the result of func(item) on "
            "`results` after the signal."
        )
        if self.others:
            text += f' It also held {self.others[0]!r}, which is neither "ready" nor a result.'
        return text + " After start.wait(timeout) returns True, put func(item) on `results`."

    def explain_gave_up(self) -> str:
        """Why the workers did not give up in time without a signal, for the learner."""
        if self.still_waiting:
            return (
                f"With timeout={self.wait_timeout:g} and no signal, "
                f"{len(self.still_waiting)} of the {len(self.items)} workers were still "
                "waiting several seconds later and had to be stopped. Pass the timeout on: "
                "start.wait(timeout)."
            )
        if self.records:
            return (
                "The signal never came, yet the task ran: start.wait(timeout) returns False "
                "when it times out. Run func(item) only when it returned True."
            )
        return ""


def start_check(
    wait_for_start: Callable[[TracedEvent, Callable[[Any], Any], Any, PutQueue, float], object],
    func: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    set_event: bool = True,
    wait_timeout: float = 10.0,
    hold: float = 0.25,
    ready_timeout: float = 3.0,
    event_timeout: float | None = None,
    settle: float = 5.0,
    limit: float = 8.0,
    start_method: str | None = None,
) -> StartRun:
    """Run ``wait_for_start(start, func, item, results, wait_timeout)`` in one process per item.

    The grader waits until every worker process runs and (up to ``ready_timeout`` seconds) has
    put ``"ready"`` on ``results``, then ``hold`` seconds more, then sets the event (unless
    ``set_event`` is False) and collects what the workers put on ``results``. The event is a
    :class:`TracedEvent`; an untimed ``wait()`` gives up after ``event_timeout`` seconds (default:
    ``wait_timeout + 1``). Workers still running ``settle`` seconds after the signal (without a
    signal: ``wait_timeout + 2.5`` seconds after the moment it would have come) are stopped.
    ``limit`` bounds the start-up; ``start_method`` picks the context (as for
    :func:`deposit_race`).
    """
    ctx = checks_context(start_method, __name__, wait_for_start, func)
    items = list(items)
    n = len(items)
    start = TracedEvent(ctx, event_timeout if event_timeout is not None else wait_timeout + 1.0)
    results, log = ctx.Queue(), ctx.Queue()
    procs = [
        ctx.Process(
            target=signal_waiter,
            args=(wait_for_start, start, func, item, results, wait_timeout, log, i),
            name=f"waiter {i + 1}",
        )
        for i, item in enumerate(items)
    ]
    for p in procs:
        p.start()
    messages: list[Any] = []
    reports: dict[int, WaiterReport] = {}
    alive: set[int] = set()

    def take_log(timeout: float) -> bool:
        try:
            kind, what = log.get(timeout=timeout)
        except queue_module.Empty:
            return False
        if kind == "alive":
            alive.add(what)
        else:
            reports[what.index] = what
        return True

    deadline = time.monotonic() + limit
    while len(alive) < n and time.monotonic() < deadline:
        if not take_log(0.2) and not any(p.is_alive() for p in procs):
            break
    ready_deadline = time.monotonic() + ready_timeout
    while messages.count("ready") < n and time.monotonic() < ready_deadline:
        try:
            messages.append(results.get(timeout=0.1))
        except queue_module.Empty:
            if not any(p.is_alive() for p in procs):
                break
    time.sleep(hold)
    messages.extend(drain(results, 0.05))
    readys_before_set = messages.count("ready")
    set_time = None
    if set_event:
        set_time = time.time()
        start.set()
    finish = time.monotonic() + (settle if set_event else wait_timeout + 2.5)
    while len(reports) < len(alive) and time.monotonic() < finish:
        take_log(0.1)
        messages.extend(drain(results, 0.0))
    messages.extend(drain(results, 0.2))
    while take_log(0.05):
        pass
    still = [i for i, p in enumerate(procs) if i in alive and i not in reports and p.is_alive()]
    codes = stop(procs, grace=0.2)
    return StartRun(
        items=items,
        wait_timeout=wait_timeout,
        set_time=set_time,
        readys_before_set=readys_before_set,
        readys=messages.count("ready"),
        records=[m for m in messages if isinstance(m, TaskRecord)],
        others=[m for m in messages if m != "ready" and not isinstance(m, TaskRecord)],
        reports=[reports[i] for i in sorted(reports)],
        never_started=n - len(alive),
        still_waiting=still,
        exit_codes=codes,
    )


# ================================================================================================
# Parent side: start_together, traced in the sandbox
# ================================================================================================


@dataclass(frozen=True)
class StartedProcess:
    """A process that ``start_together`` started.

    ``state`` is what it was when ``start_together`` returned: ``"joined"`` (ended and reaped),
    ``"finished"`` (ended, never joined) or ``"running"``; ``exitcode`` is its exit code a moment
    later (None if it had to be killed); ``reference`` is True when its target was the learner's
    ``wait_for_start`` and its "ready" was traced (:class:`TracedResults`).
    """

    pid: int | None
    started: float
    state: str
    exitcode: int | None
    reference: bool


@dataclass
class TogetherRun:
    """What one call of ``start_together(func, items)`` did, recorded by :func:`together_run`.

    ``value`` is what it returned, ``error`` ``(type, message, traceback)`` of what it raised;
    ``stuck`` says why the watchdog stopped it (``"no set"``, ``"ended"`` or ``"deadline"``) and
    ``line`` where it was waiting then. ``set_times`` are the times ``Event.set()`` was called,
    ``ready_times`` when each traced worker said "ready".
    """

    items: list[Any]
    value: Any
    error: tuple[str, str, str] | None
    stuck: str | None
    line: str
    after: float
    set_times: list[float]
    ready_times: list[float]
    processes: list[StartedProcess]
    parent_pid: int

    @property
    def records(self) -> list[TaskRecord]:
        """The :class:`TaskRecord` results among what start_together returned."""
        if not isinstance(self.value, (list, tuple)):
            return []
        return [r for r in self.value if isinstance(r, TaskRecord)]

    def explain_results(self) -> str:
        """Why the returned value is not one result per item, or ''."""
        value = self.value
        if not isinstance(value, (list, tuple)):
            return (
                f"start_together should return a list of the results, got "
                f"{type(value).__name__}: {value!r}"
            )
        tasks = sorted(r.task for r in self.records)
        if tasks == sorted(self.items) and len(value) == len(self.items):
            return ""
        text = (
            f"start_together(func, {self.items}) returned {len(value)} value(s), "
            f"{len(self.records)} of them results of func; expected one result per item."
        )
        if "ready" in value:
            text += (
                ' It returned "ready" messages too: read one "ready" per worker before '
                "you call start.set(), then one result per worker after it."
            )
        return text

    def explain_processes(self) -> str:
        """Why the tasks did not run in several worker processes, or ''."""
        pids = {r.pid for r in self.records}
        if not self.processes:
            return (
                "start_together started no process: start one mp.Process per item, with "
                "target=starting.wait_for_start."
            )
        if self.parent_pid in pids:
            return "some tasks ran in start_together's own process, not in the worker processes."
        if len(pids) < min(2, len(self.items)):
            return f"the tasks ran in {len(pids)} process(es): start one process per item."
        return ""

    def explain_signal(self) -> str:
        """Why the start signal was not given properly, or ''."""
        if not self.set_times:
            return (
                "start_together never called start.set(), so the workers were never told to "
                "begin. Call start.set() once every worker is ready."
            )
        fired = self.set_times[0]
        unready = [t for t in self.ready_times if t > fired]
        if unready:
            return (
                f"start_together called start.set() before every worker was ready "
                f"({len(unready)} of {len(self.ready_times)} were still starting up). "
                'Read one "ready" from `results` per worker first (results.get(timeout='
                "...)), then call start.set()."
            )
        early = [r for r in self.records if r.start < fired]
        if early:
            return (
                f"{len(early)} task(s) started before start.set() was called. The workers run "
                "your own starting.wait_for_start: it must wait for the event (start.wait("
                "timeout)) before it runs the task."
            )
        return ""

    def explain_joins(self) -> str:
        """Why the worker processes were not all joined on return, or ''."""
        if not self.processes:
            return "start_together started no process."
        left = [p for p in self.processes if p.state != "joined"]
        if not left:
            return ""
        running = sum(1 for p in left if p.state == "running")
        return (
            f"When start_together returned, {len(left)} of its {len(self.processes)} worker "
            f"processes had not been joined ({running} still running). Call "
            "p.join(timeout=...) on every process after collecting the results."
        )


def _is_learner_waiter(target: object) -> bool:
    return (
        getattr(target, "__module__", None) == "starting"
        and getattr(target, "__name__", None) == "wait_for_start"
    )


def together_run(
    start_together: Callable[[Callable[[Any], Any], list[Any]], Any],
    func: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    timeout: float = 7.0,
    quiet_after_ready: float = 1.5,
    ended_grace: float = 1.5,
    trace_ready: bool = True,
) -> TogetherRun:
    """Call ``start_together(func, items)`` here, traced; call it through ``run_bounded``.

    While it runs, ``multiprocessing`` is patched in this process only: ``Event.set()`` records
    when it is called; ``Process.start()`` refuses (with :class:`helpers.NotSpawnSafeError`) a
    target that a spawned child could not find, and, with ``trace_ready``, hands each learner's
    ``starting.wait_for_start`` a :class:`TracedResults` that notes when it says "ready". The
    workers run the learner's own ``wait_for_start``. A watchdog interrupts the call
    (SIGUSR1) when every worker was ready ``quiet_after_ready`` seconds ago and no event was set,
    when every process it started has ended ``ended_grace`` seconds ago, or after
    ``timeout`` seconds in all. Processes it left running are stopped afterwards.
    """
    from multiprocessing import managers as mp_managers  # only the sandbox needs it

    items = list(items)
    me = os.getpid()
    ctx = multiprocessing.get_context()
    log = ctx.Queue()
    set_times: list[float] = []
    ready_times: list[float] = []
    started: list[tuple[mp_process.BaseProcess, float, bool]] = []

    original_start = mp_process.BaseProcess.start
    original_set = mp_synchronize.Event.set
    original_proxy_set = mp_managers.EventProxy.set  # type: ignore[attr-defined]

    def start(self: mp_process.BaseProcess) -> None:
        if os.getpid() != me:
            return original_start(self)
        target = getattr(self, "_target", None)  # private: typeshed does not declare it
        problem = _problem(target) if target is not None else None
        if problem:
            raise NotSpawnSafeError(
                f"Process(target={_describe(target)}): the target {problem}. A process started "
                "with spawn finds its target by importing it, so the target must be a top-level "
                "function of a module file: use target=starting.wait_for_start, and pass what it "
                "needs in args=(...)."
            )
        traced = trace_ready and _is_learner_waiter(target) and _trace_results(self, log)
        original_start(self)
        started.append((self, time.time(), traced))

    def event_set(self: mp_synchronize.Event) -> None:
        if os.getpid() == me:
            set_times.append(time.time())
        original_set(self)

    def proxy_set(self: Any) -> Any:
        if os.getpid() == me:
            set_times.append(time.time())
        return original_proxy_set(self)

    def read_log() -> None:
        while True:
            try:
                _, _, at = log.get_nowait()
            except (queue_module.Empty, OSError, ValueError):
                return
            ready_times.append(at)

    code = getattr(start_together, "__code__", None)
    found: dict[str, Any] = {}
    t0 = time.monotonic()
    since: dict[str, float | None] = {"ended": None}

    def check(elapsed: float) -> str | None:
        read_log()
        now = time.monotonic()
        reason = None
        swapped = [p for p, _, s in started if s]
        if elapsed >= timeout:
            reason = "deadline"
        elif (
            swapped
            and not set_times
            and len(ready_times) >= len(swapped)
            and time.time() - max(ready_times) >= quiet_after_ready
        ):
            reason = "no set"
        if started and not any(process_state(p) == "running" for p, _, _ in started):
            since["ended"] = since["ended"] or now
            if now - (since["ended"] or now) >= ended_grace:
                reason = reason or "ended"
        else:
            since["ended"] = None
        return reason

    def on_stuck(reason: str, frame: FrameType | None) -> None:
        found["reason"] = reason
        found["after"] = time.monotonic() - t0
        found["line"] = line_in(frame, code)

    mp_process.BaseProcess.start = start  # type: ignore[method-assign]
    mp_synchronize.Event.set = event_set  # type: ignore[method-assign]
    mp_managers.EventProxy.set = proxy_set  # type: ignore[attr-defined]
    dog = Watchdog(check, on_stuck, name="start-together-watchdog")
    try:
        value, error = dog.call(start_together, func, items)
    finally:
        mp_process.BaseProcess.start = original_start  # type: ignore[method-assign]
        mp_synchronize.Event.set = original_set  # type: ignore[method-assign]
        mp_managers.EventProxy.set = original_proxy_set  # type: ignore[attr-defined]
    interrupted = dog.interrupted
    after = time.monotonic() - t0
    states = [(p, at, s, process_state(p)) for p, at, s in started]
    codes = stop([p for p, _, _, _ in states], grace=0.5 if interrupted else 2.0)
    time.sleep(0.05)
    read_log()
    processes = [
        StartedProcess(p.pid, at, state, c, s)
        for (p, at, s, state), c in zip(states, codes, strict=True)
    ]
    return TogetherRun(
        items=items,
        value=value,
        error=error,
        stuck=found.get("reason") if interrupted else None,
        line=found.get("line", "") if interrupted else "",
        after=found.get("after", after) if interrupted else after,
        set_times=set_times,
        ready_times=sorted(ready_times),
        processes=processes,
        parent_pid=me,
    )


# ================================================================================================
# Reports for the learner
# ================================================================================================


def _raised(what: str, error: tuple[str, str] | None, module: str = "") -> str:
    """``"deposit raised TypeError: message."``, with advice for the stub's NotImplementedError."""
    etype, message = error or ("an exception", "")
    text = f"{what} raised {etype}" + (f": {message}" if message else "")
    if text[-1] not in ".!?":
        text += "."
    if etype == "NotImplementedError":
        where = f"the {module} cell" if module else f"the cell of {what}"
        text += (
            f" Replace `raise NotImplementedError()` in {where} with your code, then run that "
            "cell" + (" and the import cell below it." if module else ".")
        )
    return text


def _fail_run(run: BoundedRun, what: str) -> None:
    """Raise AssertionError if the sandbox itself failed (timeout, exception)."""
    if not run.ok:
        raise AssertionError(f"{what}: {run.explain()}")


def _fail_missing(
    run: BoundedRun, missing: int, total: int, codes: Sequence[int | None], kind: str
) -> None:
    if not missing:
        return
    failed = [c for c in codes if c not in (0, None)]
    text = (
        f"{missing} of the {total} {kind} processes never reported back"
        + (f" (exit code {failed[0]})" if failed else "")
        + "."
    )
    hint = hint_for(run.stderr)
    if hint:
        text += " " + hint
    tail = last_lines(run.stderr)
    if tail:
        text += "\nThe processes' error output ended with:\n" + tail
    raise AssertionError(text)


def race_report(run: BoundedRun) -> DepositRace:
    """The :class:`DepositRace` of a :func:`deposit_race` run, or AssertionError saying what to fix."""
    _fail_run(run, "deposit_race")
    race: DepositRace = run.value
    _fail_missing(run, race.missing, race.processes, race.exit_codes, "depositor")
    errors = [r for r in race.reports if r.error is not None]
    if errors:
        raise AssertionError(_raised("deposit", errors[0].error, "bank.py"))
    return race


def slot_report(run: BoundedRun, failing: Sequence[Any] = ()) -> SlotRun:
    """The :class:`SlotRun` of a :func:`slot_check` run, or AssertionError saying what to fix.

    ``failing`` are the items for which ``func`` raises ``ValueError`` (``probe`` of a negative
    number): those calls must raise it too, and give their slot back.
    """
    _fail_run(run, "slot_check")
    slots: SlotRun = run.value
    _fail_missing(run, slots.missing, len(slots.items), slots.exit_codes, "worker")
    failing = list(failing)
    kept_after_error = [r for r in slots.reports if r.held > 0 and r.item in failing]
    if kept_after_error:
        r = kept_after_error[0]
        raise AssertionError(
            f"When func({r.item!r}) raised {r.error[0] if r.error else 'an exception'}, "
            "run_with_slot did not give its slot back, so the other workers waited for a slot "
            "in vain. Release the slot whatever happens: use `with semaphore:` (or release it "
            "in a `finally:` block)."
        )
    kept = [r for r in slots.reports if r.held > 0]
    if kept:
        r = kept[0]
        raise AssertionError(
            f"run_with_slot returned while still holding its slot: it acquired the semaphore "
            f"{r.acquired} time(s) and released it {r.released} time(s), so the other workers "
            "waited for a free slot in vain. Give the slot back after the task: use `with "
            "semaphore:`, which releases it when the block ends."
        )
    for r in slots.reports:
        if r.item in failing:
            if r.error is None:
                raise AssertionError(
                    f"func({r.item!r}) raised ValueError, but run_with_slot returned {r.value!r}: "
                    "let the exception reach the caller (a `with` block releases the slot and "
                    "lets the exception through)."
                )
        elif r.error is not None:
            raise AssertionError(
                _raised(f"run_with_slot(semaphore, func, {r.item!r})", r.error, "limited.py")
            )
    return slots


def start_report(run: BoundedRun) -> StartRun:
    """The :class:`StartRun` of a :func:`start_check` run, or AssertionError saying what to fix."""
    _fail_run(run, "start_check")
    start: StartRun = run.value
    _fail_missing(run, start.never_started, len(start.items), start.exit_codes, "worker")
    errors = [r for r in start.reports if r.error is not None]
    if errors:
        raise AssertionError(_raised("wait_for_start", errors[0].error, "starting.py"))
    return start


def together_report(run: BoundedRun) -> TogetherRun:
    """The :class:`TogetherRun` of a :func:`together_run` run, or AssertionError saying what to fix."""
    _fail_run(run, "start_together")
    together: TogetherRun = run.value
    if together.error is not None:
        etype, message, tb = together.error
        if etype == "NotSpawnSafeError":
            raise AssertionError(f"start_together could not start its workers. {message}")
        text = _raised("start_together", (etype, message))
        if etype == "Empty":
            text += " A results.get(timeout=...) waited in vain: nothing arrived in time."
            if not together.set_times:
                text += " " + together.explain_signal()
        hint = hint_for(run.stderr, f"{message}\n{tb}")
        if hint:
            text += " " + hint
        raise AssertionError(text)
    if together.stuck is not None:
        text = f"start_together did not return: it was stopped after {together.after:.0f} s"
        text += (
            f", while it was waiting at this line:\n    {together.line}\n"
            if together.line
            else ". "
        )
        if not together.set_times:
            text += together.explain_signal()
        elif together.stuck == "ended":
            text += (
                "Every worker process had already ended, so nothing more could arrive: "
                'read exactly one "ready" and one result per worker.'
            )
            hint = hint_for(run.stderr)
            if hint:
                text += " " + hint
        else:
            text += (
                'Look for a wait that never ends: read one "ready" and one result per '
                "worker, with results.get(timeout=...), and join with a timeout."
            )
        raise AssertionError(text)
    return together
