"""Self-check for the exercise of lesson 00 (welcome): run fixed tasks on a pool.

The check runs the learner's function through :func:`helpers.grading.run_bounded` (a separate,
time-limited process), prints ✅ or ❌ lines through :func:`helpers.selfcheck.report` and
returns True or False. It never raises, and it never looks at how fast anything ran: it checks
the results, which processes ran the tasks (from their :class:`~helpers.instruments.timeline.TaskRecord`),
the pool's size and that nothing was left running.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers.grading import run_bounded
from helpers.instruments.cpus import usable_cpus
from helpers.selfcheck import report
from helpers.selfcheck.common import never_raises, records_or_fail
from helpers.tasks.workers import count_primes

__all__ = ["POOL_CASE", "check_primes_in_pool"]

#: The limits ``primes_in_pool`` is checked with: small, so the check takes a moment.
POOL_CASE: list[int] = [30_000, 10_000, 40_000, 20_000]


@never_raises
def check_primes_in_pool(func: Callable[[list[int]], Any], timeout: float = 30.0) -> bool:
    """Check ``primes_in_pool(limits)``: a ``timed(count_primes)`` record per limit, in input
    order, computed by worker processes of a pool no larger than ``usable_cpus()``."""
    limits = list(POOL_CASE)
    call = f"primes_in_pool({limits})"
    run = run_bounded(func, limits, timeout=timeout)
    records = records_or_fail(
        run,
        call,
        "a list of records: return what pool.map(timed(count_primes), limits) gives you.",
    )
    if records is None:
        return False
    problems: list[str] = []
    if [r.task for r in records] != limits:
        problems.append(
            f"the records are for {[r.task for r in records]}, expected {limits} in that "
            "order: pool.map keeps the order of its input."
        )
    elif [r.result for r in records] != [count_primes(n) for n in limits]:
        problems.append("some counts are wrong: map timed(count_primes) itself over limits.")
    pids = {r.pid for r in records}
    if pids == {run.pid} and len({r.thread for r in records}) > 1:
        problems.append(
            "the tasks ran in several threads of your own process (a thread pool?): threads "
            "share one interpreter; use mp.Pool to run them in worker processes."
        )
    elif pids == {run.pid}:
        problems.append(
            "every task ran in your own process (one after another): create a pool with "
            "mp.Pool(processes=usable_cpus()) in a `with` block and use pool.map."
        )
    elif run.pid in pids:
        problems.append("some tasks ran in your own process: give them all to the pool.")
    if run.max_children > usable_cpus():
        problems.append(
            f"your pool started {run.max_children} worker processes, but this machine lets "
            f"you use {usable_cpus()} CPU(s): size it with usable_cpus(), not a fixed number."
        )
    if run.unclosed_pools or run.leftover_processes:
        problems.append(
            "a pool or process was left running: open the pool in a `with` block and "
            "collect the results inside it."
        )
    return report(
        problems,
        f"primes_in_pool ran {len(records)} tasks in {len(pids)} worker process(es) and "
        "returned every count, in order, with nothing left running.",
    )
