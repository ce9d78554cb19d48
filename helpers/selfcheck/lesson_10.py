"""Self-checks for the exercises of lesson 10 (a Dask cluster of separate processes).

Each check runs the learner's function through :func:`helpers.grading.run_bounded` (a separate,
time-limited process) with the address of the lesson's running scheduler, prints ✅ or ❌ lines
through :func:`helpers.selfcheck.report` and returns True or False. A check never raises. To
tell work done on the cluster from work done in the notebook, the checks compare the PIDs the
tasks report with the PIDs of the cluster's workers, which they ask the scheduler for.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from helpers.grading import BoundedRun, run_bounded
from helpers.instruments.timeline import TaskRecord
from helpers.selfcheck import report
from helpers.selfcheck.common import fail, never_raises
from helpers.tasks.workers import count_primes

__all__ = ["ERROR_ITEMS", "LIMITS", "check_count_on_cluster", "check_results_or_errors"]

#: The limits ``count_on_cluster`` is checked with (two equal ones: identical calls).
LIMITS: list[int] = [20_000, 30_000, 30_000, 40_000]

#: The items ``results_or_errors`` is checked with.
ERROR_ITEMS: list[int] = [3, -1, 4, -5, 6]


def worker_pids(address: str) -> set[int]:
    """The PIDs of the workers of the scheduler at ``address`` (asked over a short connection)."""
    from distributed import Client

    with Client(address, timeout="10s", set_as_default=False) as client:
        return set(client.run(os.getpid).values())


def _not_run(run: BoundedRun, name: str) -> list[str]:
    message = run.explain() or f"{name} did not return normally."
    if run.error_type == "ValueError" and "negative input" in run.error_message:
        message += (
            " One task's exception reached your code: client.gather (or a result() outside a "
            "try block) raises the first error. Call future.result() for each future inside "
            "try/except ValueError."
        )
    return [message]


def _holds_futures(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    try:
        return any(type(v).__name__ == "Future" for v in items)
    except TypeError:
        return False


def _cluster_value(
    func: Callable[[str, list[int]], Any],
    address: str,
    items: list[int],
    call: str,
    timeout: float,
    futures_advice: str,
) -> tuple[bool, Any]:
    """Run ``func(address, items)``; ``(False, None)`` after a ❌ line if it did not return or
    returned futures (``futures_advice`` says what to do), else ``(True, value)``."""
    run = run_bounded(func, address, list(items), timeout=timeout)
    if not run.ok:
        return report(_not_run(run, call), ""), None
    if _holds_futures(run.value):
        return fail(f"{call} returned futures: {futures_advice}"), None
    return True, run.value


@never_raises
def check_count_on_cluster(
    func: Callable[[str, list[int]], Any], address: str, timeout: float = 60.0
) -> bool:
    """Check ``count_on_cluster(address, limits)``: records of every task, run by the workers."""
    call = f"count_on_cluster(ADDRESS, {LIMITS})"
    ran, value = _cluster_value(
        func, address, LIMITS, call, timeout, "collect their results with client.gather(futures)."
    )
    if not ran:
        return False
    if not isinstance(value, list) or not all(isinstance(r, TaskRecord) for r in value):
        return fail(
            f"{call} returned {type(value).__name__}, expected a list with one record "
            "per limit: map helpers.timed(workers.count_primes) over the limits."
        )
    problems: list[str] = []
    if [r.task for r in value] != LIMITS:
        problems.append(
            f"the records are for {[r.task for r in value]}, expected {LIMITS} in that order."
        )
    bad = [r for r in value if r.result != count_primes(r.task)]
    if bad:
        problems.append(f"the task {bad[0].task} gave {bad[0].result!r}: map count_primes.")
    cluster = worker_pids(address)
    elsewhere = sorted({r.pid for r in value} - cluster)
    if elsewhere:
        problems.append(
            f"tasks ran in process(es) {elsewhere}, which are not the cluster's workers "
            f"{sorted(cluster)}: submit them with client.map, do not call the function "
            "yourself."
        )
    elif len({(r.pid, r.start) for r in value}) < len(LIMITS):
        problems.append(
            "two of the identical calls share one record: Dask ran them once, as one task. "
            "Pass pure=False to client.map for work that must run every time."
        )
    return report(
        problems,
        f"count_on_cluster ran all {len(LIMITS)} tasks on the cluster's workers "
        f"({len({r.pid for r in value})} of them) and brought back every record.",
    )


# Same signature and opening as check_count_on_cluster by design: both run the learner's function
# on the lesson's cluster through _cluster_value; what they check differs.
@never_raises
def check_results_or_errors(
    func: Callable[[str, list[int]], Any], address: str, timeout: float = 60.0
) -> bool:
    """Check ``results_or_errors(address, items)``: a dict with each result or ``"ValueError"``."""
    call = f"results_or_errors(ADDRESS, {ERROR_ITEMS})"
    ran, value = _cluster_value(
        func,
        address,
        ERROR_ITEMS,
        call,
        timeout,
        "put future.result() (or the error's name) in the dict.",
    )
    if not ran:
        return False
    if not isinstance(value, dict):
        return fail(f"{call} returned {type(value).__name__}, expected a dict {{item: outcome}}.")
    problems: list[str] = []
    if sorted(value) != sorted(ERROR_ITEMS):
        problems.append(f"the dict's keys are {sorted(value)}, expected {sorted(ERROR_ITEMS)}.")
    cluster = worker_pids(address)
    for x in ERROR_ITEMS:
        got = value.get(x)
        if x < 0 and got != "ValueError":
            problems.append(
                f"for {x} the dict holds {got!r}, expected 'ValueError': catch the task's "
                "exception from future.result() and store type(exc).__name__."
            )
        elif x >= 0:
            if not (isinstance(got, tuple) and len(got) == 2 and got[0] == x * x):
                problems.append(
                    f"for {x} the dict holds {got!r}, expected the ({x * x}, pid) that "
                    "scale.square_or_fail returns."
                )
            elif got[1] not in cluster:
                problems.append(
                    f"{x} was squared in process {got[1]}, not on one of the cluster's "
                    f"workers {sorted(cluster)}: submit the tasks with client.submit."
                )
        if problems:
            break
    return report(
        problems,
        "results_or_errors collected every result from the workers and turned each "
        "task's exception into its name, without losing the other results.",
    )
