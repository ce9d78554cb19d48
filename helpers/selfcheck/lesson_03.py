"""Self-checks for the exercises of lesson 03 (process pools).

Each check runs the learner's function through :func:`helpers.grading.run_bounded` (a separate,
time-limited process), prints ✅ or ❌ lines through :func:`helpers.selfcheck.report` and
returns True or False. A check never raises and never looks at how fast anything ran: it checks
the results, which processes computed them (the PIDs the tasks report) and the order in which
results came back, with tasks sized so that the order does not depend on the machine's speed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers.grading import run_bounded
from helpers.selfcheck import report
from helpers.selfcheck.common import (
    count_records_problems,
    fail,
    never_raises,
    not_returned,
    pool_left_running,
    records_or_fail,
)
from helpers.tasks.pools import Squared

__all__ = [
    "FINISH_CASE",
    "RESULTS_CASE",
    "check_as_they_finish",
    "check_keep_every_result",
]

#: ``as_they_finish`` gets one long task first, then short ones: on two workers the short ones
#: finish long before it, on any machine (a few milliseconds against a few tenths of a second).
FINISH_CASE: list[int] = [300_000, 5_000, 6_000, 7_000, 8_000]

#: ``keep_every_result`` gets two failing items among good ones.
RESULTS_CASE: list[int] = [3, -1, 4, -5, 2]


@never_raises
def check_as_they_finish(func: Callable[..., Any], timeout: float = 40.0) -> bool:
    """Check ``as_they_finish(limits, processes)``: every record, in finishing order, from a
    pool of ``processes`` workers."""
    limits = list(FINISH_CASE)
    call = f"as_they_finish({limits}, 2)"
    run = run_bounded(func, limits, 2, timeout=timeout)
    records = records_or_fail(
        run,
        call,
        "a list of the records "
        "that helpers.timed(workers.count_primes) returns, one per limit. (A "
        "generator or an iterator from imap_unordered is read too late: turn it "
        "into a list inside the `with` block.)",
    )
    if records is None:
        return False
    problems = count_records_problems(records, limits, "read one result per limit.")
    pids = {r.pid for r in records}
    if run.pid in pids:
        problems.append("some tasks ran in your own process: hand them all to the pool's workers.")
    elif len(pids) < 2:
        problems.append(
            "one worker ran every task: create the pool with `processes` workers and "
            "hand out one task at a time (imap_unordered's default chunksize is 1)."
        )
    if not problems and records[0].task == limits[0]:
        problems.append(
            f"the long task ({limits[0]}) came back first, although the short ones finished "
            "long before it: that is input order. Use pool.imap_unordered, which yields "
            "each result as soon as its task ends."
        )
    problems += pool_left_running(run, call)
    return report(
        problems,
        "as_they_finish returns every record in finishing order, computed by the pool's workers.",
    )


@never_raises
def check_keep_every_result(func: Callable[..., Any], timeout: float = 30.0) -> bool:
    """Check ``keep_every_result(items)``: each item mapped to its ``Squared`` answer, computed
    in a worker, or to the ``ValueError`` its task raised."""
    items = list(RESULTS_CASE)
    call = f"keep_every_result({items})"
    run = run_bounded(func, items, timeout=timeout)
    if not run.ok:
        return fail(not_returned(run, call))
    outcome = run.value
    if not isinstance(outcome, dict):
        return fail(f"{call} returned {type(outcome).__name__}, expected a dict item -> outcome.")
    problems: list[str] = []
    missing = [x for x in items if x not in outcome]
    if missing:
        problems.append(
            f"the dict has no entry for {missing}: pool.map gives up on every result when "
            "one task raises. Submit each item with its own apply_async (or ex.submit) and "
            "get() each one in its own try."
        )
    for x in items:
        if x not in outcome:
            continue
        got = outcome[x]
        if x < 0 and not isinstance(got, ValueError):
            problems.append(
                f"item {x}: expected the ValueError its task raised, got {got!r}. Store the "
                "exception itself (`except ValueError as exc: outcome[x] = exc`)."
            )
        elif x >= 0 and not (isinstance(got, Squared) and got.square == x * x):
            problems.append(
                f"item {x}: expected what pools.square_in_worker({x}) returns, got {got!r}."
            )
        elif x >= 0 and got.pid == run.pid:
            problems.append(
                f"item {x} was computed in your own process: hand it to the pool "
                "(pool.apply_async(pools.square_in_worker, (x,)))."
            )
    problems += pool_left_running(run, call)
    return report(
        problems,
        "keep_every_result keeps each good result and each error, all computed by the "
        "pool's workers.",
    )
