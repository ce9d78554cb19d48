"""Self-checks for the exercises of lesson 06 (shared memory).

Who imports this: ``notebooks/06_shared_memory.ipynb``, and the course's tests. Each check runs
the learner's function through :func:`helpers.grading.run_bounded` (a forked, time-limited copy
of the kernel), prints ✅ or ❌ lines with what to fix, returns ``True`` or ``False`` and never
raises.

- :func:`check_squares_in_shared_memory`: ``squares_in_shared_memory(ctx, count, workers)`` must
  create a ``SharedMemory`` block, let ``workers`` processes fill it with
  :func:`helpers.tasks.shared.fill_squares`, copy the numbers out, close AND unlink the block, and
  return ``(name, values)``.
- :func:`check_prime_flags_with_pool`: ``prime_flags_with_pool(ctx, limit, workers)`` must fill a
  shared array of prime flags from a ``Pool`` whose initializer installs the array
  (:func:`helpers.tasks.shared.init_flags`, :func:`helpers.tasks.shared.mark_primes_task`) and return the
  flags as a list.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing import shared_memory
from typing import Any

from helpers.grading import BoundedRun
from helpers.selfcheck import report
from helpers.selfcheck.common import (  # the same shared steps as lesson 07's, by design
    counting_starts,
    counting_starts_run,
    fail,
    few_started,
    never_raises,
    pool_left_running,
    run_or_report,
    still_running,
)
from helpers.tasks.workers import is_prime

__all__ = ["check_prime_flags_with_pool", "check_squares_in_shared_memory"]


def _still_there(name: str) -> bool:
    """True if a block called ``name`` still exists. Attaching untracked where Python allows it."""
    try:
        try:
            block = shared_memory.SharedMemory(name=name, track=False)  # type: ignore[call-arg]
        except TypeError:  # Python before 3.13: no track argument
            block = shared_memory.SharedMemory(name=name)
    except (FileNotFoundError, ValueError, OSError):
        return False
    block.close()
    return True


def _remove(name: str) -> None:
    """Unlink the block ``name`` that a learner's code left behind (POSIX; no-op on Windows)."""
    try:
        block = shared_memory.SharedMemory(name=name)
        block.close()
        block.unlink()
    except (FileNotFoundError, ValueError, OSError):
        pass


def _squares_and_leftover(func: Callable[..., Any], *args: Any) -> tuple[Any, int, bool]:
    """:func:`~helpers.selfcheck.common.counting_starts`, then: does the block named in the result still exist?

    Looked at inside the sandbox, before it exits: a resource tracker that the sandbox started
    would unlink a leaked block when the sandbox ends, and hide the mistake. A block found is
    removed.
    """
    value, started = counting_starts(func, *args)
    leftover = False
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        leftover = _still_there(value[0])
        if leftover:
            _remove(value[0])
    return value, started, leftover


def _crash_advice(run: BoundedRun) -> str:
    """Advice for a run that died of a segmentation fault or a BufferError."""
    text = f"{run.error_type} {run.error_message}"
    if run.error_type == "BufferError" or "exit code -11" in text:
        return (
            "close() must come after every view of shm.buf is gone: copy the numbers out "
            "(array.tolist()), then `del array` (or set it to None), then shm.close(). Using an "
            "array after its block was closed can crash the process."
        )
    return ""


def _first_difference(got: list[int], want: list[int]) -> str:
    if len(got) != len(want):
        return f"{len(got)} values instead of {len(want)}"
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            return f"index {i} holds {a!r}, expected {b!r}"
    return ""


@never_raises
def check_squares_in_shared_memory(
    func: Callable[..., Any], count: int = 50_000, workers: int = 3
) -> bool:
    """Run ``func(ctx, count, workers)``; check the squares, the workers and the unlink."""
    run = run_or_report(
        _squares_and_leftover, func, multiprocessing.get_context(), count, workers, timeout=60
    )
    if run is None:
        return False
    if not run.ok:
        failure = [run.explain()]
        if _crash_advice(run):
            failure.append(_crash_advice(run))
        elif run.error_type == "FileNotFoundError":
            failure.append(
                "a process could not find the block: unlink it only after every worker has "
                "been joined, and pass the workers shm.name."
            )
        return report(failure, "")
    value, started, leftover = run.value
    if value is None:
        return fail("squares_in_shared_memory returned None: return (shm.name, values).")
    if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)):
        return fail(
            "return a pair (name, values): the block's name, shm.name, and the numbers as a "
            "plain list."
        )
    name, values = value
    problems: list[str] = []
    try:
        got = [int(v) for v in values]
    except (TypeError, ValueError):
        got = None
        problems.append("values should be a list of numbers (array.tolist() gives one).")
    if got is not None:
        diff = _first_difference(got, [i * i for i in range(count)])
        if diff:
            problems.append(
                f"the values are wrong ({diff}): give each worker its own [start, stop) slice, "
                "together covering 0..count, and read them after every worker has been joined."
            )
    problems += few_started(
        started, "start `workers` processes running shared.fill_squares(name, count, start, stop)."
    )
    if leftover:
        problems.append(
            f"the block {name!r} still existed after your function returned (the check removed "
            "it): the creator must call shm.unlink() once, after the workers are done, as well "
            "as shm.close()."
        )
    problems += still_running(run, "afterwards", "join() every process you start.")
    return report(
        problems,
        f"squares_in_shared_memory: {workers} processes filled {count:,} squares in one block, "
        "which was closed and unlinked.",
    )


@never_raises
def check_prime_flags_with_pool(
    func: Callable[..., Any], limit: int = 30_000, workers: int = 2
) -> bool:
    """Run ``func(ctx, limit, workers)``; check the flags and that a pool did the work."""
    ran = counting_starts_run(
        func,
        limit,
        workers,
        timeout=60,
        returned_none="prime_flags_with_pool returned None: return list(flags).",
        inheritance="a shared array cannot travel as a task argument: give it to every worker "
        "once, with Pool(workers, initializer=shared.init_flags, initargs=(flags,)), "
        "and send only (start, stop) pairs with the tasks.",
    )
    if ran is None:
        return False
    run, value, started = ran
    problems: list[str] = []
    try:
        got = [int(v) for v in value]
    except (TypeError, ValueError):
        return fail("return the flags as a list of 0s and 1s: list(flags).")
    diff = _first_difference(got, [1 if is_prime(n) else 0 for n in range(limit)])
    if diff:
        problems.append(
            f"the flags are wrong ({diff}): the (start, stop) chunks must cover 0..limit without "
            "gaps, and you must read the array after the pool's results are in."
        )
    problems += few_started(
        started,
        "let a Pool of `workers` processes run shared.mark_primes_task on (start, stop) chunks.",
    )
    problems += pool_left_running(
        run, "prime_flags_with_pool", "use `with ctx.Pool(...) as pool:` (or close() and join())."
    )
    return report(
        problems,
        f"prime_flags_with_pool: a pool of {workers} filled {limit:,} flags in one shared array.",
    )
