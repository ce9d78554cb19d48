"""Self-checks for the exercises of lesson 09 (predict and measure speedup).

Each check runs the learner's function through :func:`helpers.grading.run_bounded` (a separate,
time-limited process), prints ✅ or ❌ lines through :func:`helpers.selfcheck.report` and
returns True or False. A check never raises, and none of them looks at how fast anything ran:
they check what the code did (the result, which processes did the work, in what order tasks
started), which does not depend on the machine or its load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers.grading import BoundedRun, run_bounded
from helpers.selfcheck import report
from helpers.selfcheck.common import (
    count_records_problems,
    never_raises,
    pool_left_running,
    processes_seen,
    records_or_fail,
)
from helpers.tasks.workers import count_primes

__all__ = ["CHUNK_CASES", "LONGEST_CASE", "check_count_in_chunks", "check_longest_first"]

#: ``(stop, parts, processes)`` the ``count_in_chunks`` exercise is checked with.
#: The first is big enough (a few tenths of a second) for the check to see the pool's workers.
CHUNK_CASES: list[tuple[int, int, int]] = [(200_000, 8, 2), (5_003, 3, 2)]

#: ``(limits, processes)`` for ``longest_first``: six short tasks, then one long one, last.
LONGEST_CASE: tuple[list[int], int] = ([15_000] * 6 + [120_000], 2)


def _not_run(run: BoundedRun, name: str) -> list[str]:
    message = run.explain() or f"{name} did not return normally."
    if "missing 1 required positional argument" in run.error_message:
        message += (
            " count_primes_in_range takes two arguments (start, stop): use pool.starmap, which "
            "unpacks each (start, stop) pair, not pool.map."
        )
    return [message]


def _cleanup_problems(run: BoundedRun, name: str) -> list[str]:
    return pool_left_running(
        run, name, "create the pool in a `with` block (or call pool.close() and pool.join())."
    )


@never_raises
def check_count_in_chunks(func: Callable[[int, int, int], Any], timeout: float = 30.0) -> bool:
    """Check ``count_in_chunks(stop, parts, processes)``: the primes below ``stop``, counted in
    ``parts`` ranges on a pool of ``processes`` workers, added up."""
    problems: list[str] = []
    for i, (stop, parts, processes) in enumerate(CHUNK_CASES):
        run = run_bounded(func, stop, parts, processes, timeout=timeout)
        call = f"count_in_chunks({stop}, {parts}, {processes})"
        if not run.ok:
            return report(_not_run(run, call), "")
        expected = count_primes(stop)
        value = run.value
        if isinstance(value, list | tuple):
            problems.append(
                f"{call} returned a {type(value).__name__} of {len(value)} partial counts: "
                "add them up (sum) and return one number."
            )
        elif value != expected:
            problems.append(
                f"{call} returned {value!r}, expected {expected}: the ranges from "
                f"perf.split_range({stop}, {parts}) cover every number below {stop} once; "
                "count each with count_primes_in_range(start, stop) and add the counts."
            )
        # Only the first, big case runs long enough for the process sampler to see workers.
        if i == 0:
            problems += processes_seen(
                run,
                processes,
                f"{call} started no worker process: the counting ran in your own process. "
                f"Create ctx.Pool({processes}) and hand it the ranges with starmap.",
                f"{call} used at most {{seen}} worker process(es) at once, expected a pool of "
                "{expected}.",
            )
        problems += _cleanup_problems(run, call)
        if problems:
            break
    return report(
        problems,
        "count_in_chunks counts every range on a pool of workers and adds the parts: the "
        "same answer as count_primes, with no process left behind.",
    )


@never_raises
def check_longest_first(func: Callable[[list[int], int], Any], timeout: float = 30.0) -> bool:
    """Check ``longest_first(limits, processes)``: records of every task, longest started early.

    The check passes six short tasks followed by one long one. The learner's function must run
    them all on a pool of ``processes`` workers, each wrapped in ``helpers.timed`` (or
    ``helpers.timed``), and hand out the longest task first, so that it is among the first half
    of the tasks to start. Start *order* is checked, never durations.
    """
    limits, processes = LONGEST_CASE
    call = f"longest_first({limits}, {processes})"
    run = run_bounded(func, list(limits), processes, timeout=timeout)
    records = records_or_fail(
        run,
        call,
        "the list that pool.map(helpers.timed(workers.count_primes), ...) gives: one record "
        "per task.",
        _not_run,
    )
    if records is None:
        return False
    problems = count_records_problems(records, limits)
    pids = {r.pid for r in records}
    if run.pid in pids or len(pids) < 2:
        problems.append(
            f"the tasks ran in {len(pids)} process(es)"
            + (", including your own" if run.pid in pids else "")
            + f": run them on a pool of {processes} workers, with chunksize=1."
        )
    if not problems:
        by_start = sorted(records, key=lambda r: r.start)
        longest = max(limits)
        rank = next(i for i, r in enumerate(by_start) if r.task == longest)
        if rank >= len(limits) // 2:
            problems.append(
                f"the longest task ({longest}) was task number {rank + 1} of {len(limits)} "
                "to start, so the other workers sat idle while it ran alone at the end. "
                "Sort the limits longest first (sorted(..., reverse=True)) before you map."
            )
    problems += _cleanup_problems(run, call)
    return report(
        problems,
        "longest_first hands out the longest task first, on a pool of workers, and returns "
        "a record of every task.",
    )
