"""Self-checks for the exercises of lesson 05 (synchronisation).

Who imports this: ``notebooks/05_synchronisation.ipynb``, and the course's tests. Each check runs
the learner's function through :func:`helpers.grading.run_bounded` (a forked, time-limited copy
of the kernel), prints ✅ or ❌ lines with what to fix, returns ``True`` or ``False`` and never
raises.

- :func:`check_count_with_one_lock`: ``count_with_one_lock(ctx, workers, steps)`` must start
  ``workers`` processes that add to ONE shared counter under ONE lock, and return the count.
- :func:`check_run_in_phases`: ``run_in_phases(ctx, setup_seconds)`` must start one process per
  set-up time, all running :func:`helpers.tasks.sync.two_phase` with one shared ``Barrier``, and
  return every :class:`~helpers.instruments.timeline.TaskRecord` they reported.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

from helpers.selfcheck import report
from helpers.selfcheck.common import (
    fail,
    never_raises,
    returned_run,
    run_or_report,
    still_running,
)

__all__ = ["check_count_with_one_lock", "check_run_in_phases"]

# How far apart two time.time() readings in different processes may be and still count as "at
# the same moment" (the clock is the same; this only absorbs rounding).
_TOLERANCE = 0.005


@never_raises
def check_count_with_one_lock(func: Callable[..., Any], workers: int = 3, steps: int = 40) -> bool:
    """Run ``func(ctx, workers, steps)`` and check that it returns ``workers * steps``.

    The workers run :func:`helpers.tasks.sync.locked_increment`, which pauses 1 ms between reading and
    writing the counter: without one shared lock, updates are lost on every run, whatever the
    number of CPUs.
    """
    expected = workers * steps
    run = run_or_report(func, multiprocessing.get_context(), workers, steps, timeout=60)
    if run is None:
        return False
    problems: list[str] = []
    if not run.ok:
        problems.append(run.explain())
    elif run.value is None:
        problems.append("count_with_one_lock returned None: return the counter's final value.")
    elif not isinstance(run.value, int):
        problems.append(
            f"count_with_one_lock returned a {type(run.value).__name__}; return counter.value, "
            "an int."
        )
    else:
        if run.value < expected:
            problems.append(
                f"the count is {run.value}, expected {expected}: {expected - run.value} updates "
                "were lost. Create ONE lock in the parent and give that same lock to every "
                "process, with sync.locked_increment holding it around each read-pause-write. "
                "(A lock made for each process protects nothing: nobody else ever waits for it.)"
            )
        elif run.value > expected:
            problems.append(
                f"the count is {run.value}, more than the {expected} increments asked for: "
                f"start exactly `workers` processes, each doing `steps` increments."
            )
        if run.max_children < 2:
            problems.append(
                "no worker processes were seen: start `workers` processes with ctx.Process and "
                "let them do the counting."
            )
    if run.ok:
        problems += still_running(run, "afterwards", "join() every process you start.")
    return report(
        problems,
        f"count_with_one_lock counted {expected} of {expected}: one lock, no update lost.",
    )


@never_raises
def check_run_in_phases(
    func: Callable[..., Any], setup_seconds: Sequence[float] = (0.05, 0.2, 0.4)
) -> bool:
    """Run ``func(ctx, setup_seconds)`` and check that no work phase began before every set-up.

    Each process runs :func:`helpers.tasks.sync.two_phase` and reports two records, ``"<name> setup"``
    and ``"<name> work"``; the setup record's result is the value ``Barrier.wait()`` returned.
    """
    parties = len(setup_seconds)
    run = returned_run(func, multiprocessing.get_context(), list(setup_seconds), timeout=60)
    if run is None:
        return False
    problems: list[str] = []
    records = run.value
    if not records:
        return fail(
            f"run_in_phases returned {records!r}: return the list of all the records the "
            "processes put on the queue (two per process)."
        )
    try:
        setups = [r for r in records if str(r.task).endswith("setup")]
        works = [r for r in records if str(r.task).endswith("work")]
    except AttributeError:
        return fail(
            "run_in_phases should return TaskRecord objects, as sync.two_phase reports them "
            "(each process puts a list of two on the queue: add both to your result)."
        )
    if len(setups) != parties or len(works) != parties:
        problems.append(
            f"expected {parties} set-up and {parties} work records (one process per set-up "
            f"time), got {len(setups)} and {len(works)}."
        )
    if any(r.result == "broken" for r in setups):
        problems.append(
            "a Barrier wait timed out or broke: the Barrier needs exactly one party per "
            f"process (Barrier({parties}) here), and every process must be started."
        )
    elif setups and works:
        early = max(r.end for r in setups) - min(r.start for r in works)
        if early > _TOLERANCE:
            problems.append(
                f"a work phase began {early:.2f} s before the last set-up ended: the Barrier let "
                "processes through before everyone had arrived. Give it one party per process, "
                f"Barrier(len(setup_seconds)) = Barrier({parties}), and share that ONE barrier."
            )
        indexes = sorted(r.result for r in setups)
        if not early > _TOLERANCE and indexes != list(range(parties)):
            problems.append(
                f"Barrier.wait() returned {indexes}; one barrier shared by {parties} processes "
                f"returns each of 0..{parties - 1} once."
            )
    if len({r.pid for r in records}) < min(parties, 2):
        problems.append("all the records come from one process: start one process per set-up.")
    problems += still_running(run, "afterwards", "join() every process you start.")
    return report(
        problems,
        f"run_in_phases: {parties} processes met at one Barrier; every work phase began after "
        "the slowest set-up.",
    )
