"""Self-checks for the exercises of lesson 02 (start methods and pickling).

Each check runs the learner's function through :func:`helpers.grading.run_bounded` (a separate,
time-limited process), prints ✅ or ❌ lines through :func:`helpers.selfcheck.report` and
returns True or False. A check never raises. The checks run the learner's code under every start
method this platform offers, because code that relies on fork's inheritance works under fork
and breaks under spawn and forkserver.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from typing import Any

from helpers.grading import run_bounded
from helpers.selfcheck import report
from helpers.selfcheck.common import fail, never_raises, not_returned, pool_left_running

__all__ = ["CUBES_CASE", "SETTING_VALUE", "check_cubes_with_spawn", "check_settings_everywhere"]

#: The value ``settings_everywhere`` must hand to every worker.
SETTING_VALUE = "set by the self-check"

#: The numbers ``cubes_with_spawn`` is checked with.
CUBES_CASE: list[int] = [1, 2, 3, 4, 5]


def _methods() -> list[str]:
    """The start methods to check with: this platform's, fork last (it forgives the most)."""
    available = mp.get_all_start_methods()
    return [m for m in ("spawn", "forkserver", "fork") if m in available]


@never_raises
def check_settings_everywhere(func: Callable[[str, str], Any], timeout: float = 30.0) -> bool:
    """Check ``settings_everywhere(value, method)`` under each start method: four
    ``read_setting`` answers, from worker processes that all saw ``SETTING == value``."""
    problems: list[str] = []
    for method in _methods():
        call = f"settings_everywhere({SETTING_VALUE!r}, {method!r})"
        run = run_bounded(func, SETTING_VALUE, method, timeout=timeout)
        if not run.ok:
            return fail(f"{call}: " + (run.explain() or "it did not return."))
        answers = run.value
        try:
            tags = [tag for tag, _, _ in answers]
            seen = [setting for _, setting, _ in answers]
            pids = {pid for _, _, pid in answers}
        except (TypeError, ValueError):
            return fail(
                f"{call} returned {answers!r}, expected the list that "
                "pool.map(startmethods.read_setting, range(4)) gives: (tag, SETTING, "
                "pid) for each task."
            )
        if tags != [0, 1, 2, 3]:
            problems.append(
                f"{call} answered for the tasks {tags}, expected [0, 1, 2, 3]: map "
                "startmethods.read_setting over range(4)."
            )
        wrong = sorted({s for s in seen if s != SETTING_VALUE})
        if wrong:
            hint = (
                "Setting startmethods.SETTING in the parent reaches only forked children. "
                if method != "fork"
                else ""
            )
            problems.append(
                f"under {method}, workers saw SETTING = {wrong[0]!r}, not {SETTING_VALUE!r}. "
                f"{hint}Give the pool initializer=startmethods.set_setting, "
                "initargs=(value,): it runs in every worker, under every start method."
            )
        if run.pid in pids:
            problems.append(f"under {method}, read_setting ran in your own process: use the pool.")
        problems += pool_left_running(run, call)
        if problems:
            break
    return report(
        problems,
        "settings_everywhere hands the value to every worker under " + ", ".join(_methods()) + ".",
    )


@never_raises
def check_cubes_with_spawn(func: Callable[[list[int]], Any], timeout: float = 30.0) -> bool:
    """Check ``cubes_with_spawn(numbers)``: the right cubes, computed by worker processes."""
    numbers = list(CUBES_CASE)
    call = f"cubes_with_spawn({numbers})"
    run = run_bounded(func, numbers, timeout=timeout)
    if not run.ok:
        return fail(not_returned(run, call))
    problems: list[str] = []
    expected = [n**3 for n in numbers]
    value = run.value
    if not isinstance(value, list | tuple) or list(value) != expected:
        problems.append(f"{call} returned {value!r}, expected {expected}.")
    if run.max_children == 0:
        problems.append(
            "no worker process ran: the cubes were computed in your own process. Create "
            'mp.get_context("spawn").Pool(2) in a `with` block and map a worker it can '
            "import (for example functools.partial(pow, exp=3))."
        )
    problems += pool_left_running(run, call)
    return report(
        problems, "cubes_with_spawn computes the cubes in spawned workers that can find it."
    )
