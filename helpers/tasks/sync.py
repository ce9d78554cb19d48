"""Child-side functions for lesson 05: locks, semaphores, events, conditions and barriers.

Every function here is a top-level function of an importable module, so it can be the target of
a ``Process`` (or a ``Pool`` task) under fork, spawn and forkserver alike. The synchronisation
objects they use (``Lock``, ``Semaphore``, ``Event`` ...) must reach the child when it is
*created*: as ``Process(args=...)``, or through a ``Pool`` initializer such as :func:`init_guard`.
Passing one as a ``Pool`` task argument raises ``RuntimeError`` ("... objects should only be
shared between processes through inheritance").

A ``Process`` target cannot return a value to the parent, so the functions that report something
take a ``results`` queue and put their report on it; they also return it, so that they can be
called directly in the parent as well (pass ``results=None`` there). The signal demonstrations
first put the string ``"ready"`` on ``results``, so that the parent can wait until every worker
is running before it sends the signal.

Groups of functions:

- A shared counter, with and without a lock: :func:`racy_increment`, :func:`plain_increment`,
  :func:`locked_increment`,
  :func:`value_lock_increment`.
- Instrumented critical sections, whose :class:`~helpers.instruments.timeline.TaskRecord` intervals
  :func:`helpers.max_concurrency` can check: :func:`critical_section`,
  :func:`record_critical_section`, :func:`init_guard` with :func:`guarded_task`.
- Signals: :func:`wait_for_go`, :func:`work_until_stopped` (``Event``),
  :func:`wait_until_at_least` (``Condition``), :func:`two_phase` (``Barrier``).
- Lock ordering: :func:`transfer`, which deadlocks (safely, with timeouts) or not.
- Lock granularity: :func:`count_items` with the strategies in :data:`STRATEGIES`, and
  :func:`seconds_per_item` to size its work for about a second per run.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized, SynchronizedArray
from multiprocessing.synchronize import Barrier, Condition, Event
from typing import TypeVar

from helpers.instruments.timeline import TaskRecord
from helpers.tasks.protocols import HasValue, PutQueue, SupportsAcquire
from helpers.tasks.workers import count_primes

__all__ = [
    "STRATEGIES",
    "Signal",
    "TransferOutcome",
    "count_items",
    "count_once",
    "critical_section",
    "guarded_task",
    "init_guard",
    "locked_increment",
    "plain_increment",
    "racy_increment",
    "record_critical_section",
    "seconds_per_item",
    "transfer",
    "two_phase",
    "value_lock_increment",
    "wait_for_go",
    "wait_until_at_least",
    "work_until_stopped",
]


_T = TypeVar("_T")


def _record(task: object, result: object, start: float, end: float) -> TaskRecord:
    return TaskRecord(task, result, os.getpid(), threading.get_ident(), start, end)


def _report(results: PutQueue | None, item: _T) -> _T:
    if results is not None:
        results.put(item)
    return item


# --------------------------------------------------------------------------------------------
# A shared counter
# --------------------------------------------------------------------------------------------


def racy_increment(counter: HasValue, n: int, pause: float = 0.001) -> None:
    """Add 1 to ``counter.value`` ``n`` times, WITHOUT a lock: updates get lost.

    Each step reads the value, pauses ``pause`` seconds, then writes ``value + 1``. The pause
    stands for any work between the read and the write; it widens the window in which another
    process can read the same old value, so that lost updates show on every run instead of only
    now and then. ``counter`` is a ``multiprocessing.Value`` (synchronised or not; its own lock
    guards each single read or write, never the read-modify-write as a whole) or a ``RawValue``.
    """
    for _ in range(n):
        value = counter.value
        time.sleep(pause)
        counter.value = value + 1


def plain_increment(counter: HasValue, n: int) -> None:
    """Do ``counter.value += 1`` ``n`` times, with no lock and no pause.

    The read and the write are a few hundred nanoseconds apart, so an update is lost only when
    another process reads in that window. With several CPUs that happens often. On one CPU it
    depends on the counter: a ``RawValue`` is interrupted between its read and its write only
    when a time slice happens to end there (rarely); a synchronised ``Value`` takes its own lock
    for the read and again for the write, and a process that must wait for that lock gives the
    CPU away in the middle of its read-modify-write, so updates are lost even on one CPU. The
    bug is the same as in :func:`racy_increment`; it just shows less predictably.
    """
    for _ in range(n):
        counter.value += 1


def locked_increment(
    counter: HasValue, lock: SupportsAcquire, n: int, pause: float = 0.001
) -> None:
    """Like :func:`racy_increment`, but each read-pause-write holds ``lock``: no update is lost.

    ``lock`` is any lock shared by all the processes that touch ``counter`` (a
    ``multiprocessing.Lock`` or ``RLock``).
    """
    for _ in range(n):
        with lock:
            value = counter.value
            time.sleep(pause)
            counter.value = value + 1


def value_lock_increment(counter: Synchronized[int], n: int, pause: float = 0.001) -> None:
    """Like :func:`locked_increment`, using the lock that a synchronised ``Value`` carries.

    ``counter`` must be made with ``multiprocessing.Value(typecode, value)`` (``lock=True``, the
    default); a ``RawValue`` or ``Value(..., lock=False)`` has no ``get_lock()``.
    """
    for _ in range(n):
        with counter.get_lock():
            value = counter.value
            time.sleep(pause)
            counter.value = value + 1


# --------------------------------------------------------------------------------------------
# Instrumented critical sections
# --------------------------------------------------------------------------------------------


def critical_section(guard: SupportsAcquire, task: object, seconds: float = 0.2) -> TaskRecord:
    """Hold ``guard`` for ``seconds`` and return a :class:`TaskRecord` of the time inside it.

    ``guard`` is anything usable in a ``with`` statement that limits who may enter: a ``Lock``,
    an ``RLock``, a ``Semaphore`` or a ``BoundedSemaphore``. The record's ``start`` and ``end``
    are taken inside the ``with`` block (time spent waiting to enter does not count), so
    :func:`helpers.max_concurrency` over all the records is the largest number of processes that
    were inside at the same time: at most 1 for a lock, at most N for ``Semaphore(N)``. The
    work is a sleep, so that many workers can share few CPUs. The result is the time spent
    waiting to enter, in seconds.
    """
    asked = time.time()
    with guard:
        start = time.time()
        time.sleep(seconds)
        end = time.time()
    return _record(task, round(start - asked, 4), start, end)


def record_critical_section(
    guard: SupportsAcquire, task: object, seconds: float, results: PutQueue | None
) -> TaskRecord:
    """``Process`` target: run :func:`critical_section` and put its record on ``results``."""
    return _report(results, critical_section(guard, task, seconds))


# The primitive a Pool initializer installed in this worker process (see init_guard).
_guard: SupportsAcquire | None = None


def init_guard(guard: SupportsAcquire) -> None:
    """``Pool`` initializer: keep ``guard`` (a Lock, Semaphore ...) for :func:`guarded_task`.

    Use ``Pool(n, initializer=init_guard, initargs=(guard,))``. The primitive travels to each
    worker when the worker is created, which is allowed; sending it with every task is not.
    """
    global _guard
    _guard = guard


def guarded_task(task: object, seconds: float = 0.2) -> TaskRecord:
    """``Pool`` task: :func:`critical_section` with the guard that :func:`init_guard` installed."""
    if _guard is None:
        raise RuntimeError(
            "guarded_task needs a lock or semaphore in the worker: create the pool with "
            "Pool(n, initializer=helpers.tasks.sync.init_guard, initargs=(guard,))"
        )
    return critical_section(_guard, task, seconds)


# --------------------------------------------------------------------------------------------
# Event, Condition, Barrier
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signal:
    """What a worker saw of a signal: ``ok`` is False when its wait timed out.

    ``at`` is when (``time.time()``) the worker went on; ``waited`` how long it waited, in
    seconds; ``detail`` anything else worth reporting (rounds of work done, a counter's value).
    """

    name: str
    pid: int
    ok: bool
    at: float
    waited: float
    detail: int | None = None


def wait_for_go(name: str, go: Event, results: PutQueue | None, timeout: float = 10.0) -> Signal:
    """Report ready, wait for the ``go`` Event (at most ``timeout`` s), then report when it woke.

    Puts two things on ``results``: the string ``"ready"`` as soon as the worker runs, then a
    :class:`Signal` once ``go.wait(timeout)`` returns. The parent can wait for every "ready"
    before it sets the event, so all workers are really waiting when it fires.
    """
    _report(results, "ready")
    asked = time.time()
    ok = go.wait(timeout)
    now = time.time()
    return _report(results, Signal(name, os.getpid(), ok, now, now - asked))


def work_until_stopped(
    name: str,
    stop: Event,
    results: PutQueue | None,
    primes_below: int = 30_000,
    max_rounds: int = 2_000,
) -> Signal:
    """Do rounds of FIXED work (count the primes below ``primes_below``) until ``stop`` is set.

    Puts ``"ready"`` on ``results`` when it starts, then a :class:`Signal` when it stops. The
    worker checks the flag between rounds, so it finishes the round it is in and exits
    cleanly: no half-written result, and no lock left held, unlike ``terminate()``. A round is
    the same amount of work every time (a few tens of milliseconds of CPU, more when the CPU is
    shared). ``max_rounds`` is a safety net in case nobody ever sets the flag (then ``ok`` is
    False). The :class:`Signal`'s ``detail`` is the number of rounds done, and ``at`` is when
    the worker noticed the flag.
    """
    _report(results, "ready")
    began = time.time()
    rounds = 0
    while not stop.is_set() and rounds < max_rounds:
        count_primes(primes_below)
        rounds += 1
    now = time.time()
    return _report(results, Signal(name, os.getpid(), stop.is_set(), now, now - began, rounds))


def wait_until_at_least(
    name: str,
    cond: Condition,
    counter: HasValue,
    target: int,
    results: PutQueue | None,
    timeout: float = 10.0,
) -> Signal:
    """Sleep on ``cond`` until ``counter.value >= target`` (at most ``timeout`` s), then report.

    Puts ``"ready"`` on ``results`` when it starts, then a :class:`Signal` when it goes on.
    The process that changes ``counter`` must do so while holding ``cond`` and then call
    ``cond.notify_all()``. ``wait_for`` re-checks the condition each time it is woken, so a
    worker whose target is not reached yet simply goes back to sleep. The :class:`Signal`'s
    ``detail`` is the counter's value the worker saw.
    """
    _report(results, "ready")
    asked = time.time()
    with cond:
        ok = cond.wait_for(lambda: counter.value >= target, timeout)
        seen = counter.value
    now = time.time()
    return _report(results, Signal(name, os.getpid(), ok, now, now - asked, seen))


def two_phase(
    name: str,
    barrier: Barrier,
    setup_seconds: float,
    results: PutQueue | None,
    work_seconds: float = 0.2,
    timeout: float = 10.0,
) -> list[TaskRecord]:
    """Phase 1 takes ``setup_seconds``, then wait at ``barrier``; phase 2 takes ``work_seconds``.

    Returns (and puts on ``results``) two :class:`TaskRecord` objects, ``"<name> setup"`` and
    ``"<name> work"``, for :func:`helpers.plot_timeline`. No process starts phase 2 before every
    party has finished phase 1. The setup record's result is the barrier's ``wait()`` value (a
    distinct number from 0 to parties-1, handy to pick one process for a one-off job), or
    ``"broken"`` when the wait timed out or the barrier was broken.
    """
    start = time.time()
    time.sleep(setup_seconds)
    end = time.time()
    try:
        index: int | str = barrier.wait(timeout)
    except threading.BrokenBarrierError:
        index = "broken"
    setup = _record(f"{name} setup", index, start, end)
    start = time.time()
    time.sleep(work_seconds)
    work = _record(f"{name} work", None, start, time.time())
    return _report(results, [setup, work])


# --------------------------------------------------------------------------------------------
# Lock ordering: a bank transfer between two accounts
# --------------------------------------------------------------------------------------------


_ACCOUNT_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class TransferOutcome:
    """How a :func:`transfer` went: ``done`` is False when it gave up waiting for a lock."""

    name: str
    pid: int
    lock_order: str
    done: bool
    waited: float
    note: str


def transfer(
    name: str,
    balances: SynchronizedArray[int],
    locks: Sequence[SupportsAcquire],
    src: int,
    dst: int,
    amount: int,
    together: Barrier,
    results: PutQueue | None,
    ordered: bool = False,
    hold: float = 0.2,
    timeout: float = 1.0,
) -> TransferOutcome:
    """Move ``amount`` from account ``src`` to ``dst``, holding both accounts' locks.

    ``balances`` is a shared ``Array('i', ...)`` and ``locks[i]`` guards account ``i``.
    ``together`` is a ``Barrier`` for all the transferring processes, so that they start at the
    same moment. The first lock is held ``hold`` seconds (some bookkeeping) before the second
    is asked for.

    With ``ordered=False`` the locks are taken in the order of the transfer (``src`` first):
    two opposite transfers each grab their first lock and wait for the other's, forever. Here
    every wait is ``acquire(timeout=timeout)``, so the worker gives up instead and reports
    ``done=False``. With ``ordered=True`` every process takes the lower-numbered account's lock
    first, whatever the direction of its transfer (a global lock order): one waits for the
    other, and both complete.

    To make the demonstration reproducible, a worker that gave up keeps its first lock until
    all the others have made their attempt too (a second wait at ``together``); a successful
    worker releases its locks first, then waits there.
    """
    first, second = (min(src, dst), max(src, dst)) if ordered else (src, dst)
    a, b = _ACCOUNT_NAMES[first], _ACCOUNT_NAMES[second]
    _wait_quietly(together, 10.0)  # start together
    asked = time.time()
    got_first = locks[first].acquire(timeout=timeout)
    got_second = False
    if not got_first:
        note = f"gave up waiting for {a} after {timeout:g} s"
    else:
        try:
            time.sleep(hold)
            got_second = locks[second].acquire(timeout=timeout)
            if got_second:
                try:
                    balances[src] -= amount
                    balances[dst] += amount
                finally:
                    locks[second].release()
                note = "transferred"
            else:
                note = f"held {a}, gave up waiting for {b} after {timeout:g} s"
                waited = time.time() - asked
                # Keep the first lock until the others have tried too (reproducible demo).
                _wait_quietly(together, 2 * timeout + hold + 5)
        finally:
            locks[first].release()
    if got_second or not got_first:
        waited = time.time() - asked
        _wait_quietly(together, 2 * timeout + hold + 5)
    outcome = TransferOutcome(
        name, os.getpid(), f"{a} then {b}", got_second, round(waited, 2), note
    )
    return _report(results, outcome)


def _wait_quietly(barrier: Barrier, timeout: float) -> None:
    try:
        barrier.wait(timeout)
    except threading.BrokenBarrierError:
        pass


# --------------------------------------------------------------------------------------------
# Lock granularity
# --------------------------------------------------------------------------------------------

#: The locking strategies of :func:`count_items`: a lock per item, one lock around the whole
#: loop, and a local count merged under the lock once.
STRATEGIES = ("lock each increment", "lock the whole loop", "count locally, add once")


def _item_work(i: int, units: int) -> int:
    """A little CPU work per item (a few microseconds), standing in for real processing."""
    total = i
    for k in range(units):
        total = (total * 31 + k) % 1_000_003
    return total


def seconds_per_item(units: int = 20, sample: int = 50_000) -> float:
    """Measure how many seconds one item of :func:`count_items`' work takes here and now.

    Runs the per-item work (without any counter or lock) on ``sample`` items in the calling
    process and divides the elapsed wall-clock time (``time.perf_counter()``) by ``sample``. On a
    busy machine, where a process gets only part of a CPU, the figure is larger than the CPU time
    an item needs, so work sized with it still lasts about as long as intended (and stays within
    a notebook's cell time limit). A lesson divides the seconds of work it wants per run by this
    figure to choose how many items each worker processes: that number is then FIXED for the
    whole measurement.

    >>> 0 < seconds_per_item(units=5, sample=1_000) < 0.01
    True
    """
    if sample < 1:
        raise ValueError("sample must be at least 1")
    began = time.perf_counter()
    for i in range(sample):
        _item_work(i, units)
    return max(time.perf_counter() - began, 1e-9) / sample


# Its parameters look like two_phase's (a name or strategy, shared objects, a barrier, results,
# timeout) because both are Process targets of one lesson; the bodies share nothing.
def count_items(
    strategy: str,
    counter: HasValue,
    lock: SupportsAcquire,
    n: int,
    together: Barrier,
    results: PutQueue | None,
    units: int = 20,
    timeout: float = 10.0,
    repeats: int = 1,
) -> list[TaskRecord]:
    """Process ``n`` items (a little CPU work each) and add ``n`` to ``counter`` under ``lock``.

    ``strategy`` is one of :data:`STRATEGIES`:

    - ``"lock each increment"``: take the lock around every single ``counter.value += 1``
      (correct, but ``n`` acquisitions, and the processes keep colliding on the lock);
    - ``"lock the whole loop"``: take the lock once around the whole loop (correct, but the
      work itself is now serialised: only one process runs at a time);
    - ``"count locally, add once"``: count in a local variable, then one locked
      ``counter.value += local`` at the end (correct, and the work runs in parallel).

    The whole job is done ``repeats`` times by the same process (so that a measurement can be
    repeated without starting new processes); before each repeat all workers wait at the
    ``together`` Barrier, so that they start together and process start-up does not count.
    ``counter`` ends at ``repeats * n`` more than it started, per worker.

    For each repeat ``r``, puts on ``results`` a :class:`TaskRecord` whose ``task`` is
    ``(strategy, r)``, whose result is ``n``, whose interval is the loop's run (for the whole-loop
    lock, the time inside the lock) and whose ``cpu`` is the CPU time, in seconds, that this
    process used during that interval (``time.process_time()``). A wall-clock interval alone
    cannot tell running from waiting for a CPU; the CPU time can: the sum of all workers' CPU
    times divided by the elapsed wall time (:func:`helpers.instruments.timeline.busy_cpus`) is how many CPUs
    were busy on average. Returns the list of records.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")
    records = []
    for r in range(repeats):
        _wait_quietly(together, timeout)
        start, end, cpu = count_once(strategy, counter, lock, n, units)
        record = TaskRecord((strategy, r), n, os.getpid(), threading.get_ident(), start, end, cpu)
        records.append(_report(results, record))
    return records


def count_once(
    strategy: str, counter: HasValue, lock: SupportsAcquire, n: int, units: int
) -> tuple[float, float, float]:
    """One run of :func:`count_items`: (start, end, CPU seconds)."""
    if strategy == STRATEGIES[0]:
        start, cpu = time.time(), time.process_time()
        for i in range(n):
            _item_work(i, units)
            with lock:
                counter.value += 1
        end, cpu = time.time(), time.process_time() - cpu
    elif strategy == STRATEGIES[1]:
        with lock:
            start, cpu = time.time(), time.process_time()
            for i in range(n):
                _item_work(i, units)
                counter.value += 1
            end, cpu = time.time(), time.process_time() - cpu
    else:
        start, cpu = time.time(), time.process_time()
        local = 0
        for i in range(n):
            _item_work(i, units)
            local += 1
        with lock:
            counter.value += local
        end, cpu = time.time(), time.process_time() - cpu
    return start, end, cpu
