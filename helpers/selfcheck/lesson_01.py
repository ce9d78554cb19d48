"""Self-checks for the exercises of lesson 01 (start, watch and stop processes).

Each check runs the learner's function through :func:`helpers.grading.run_bounded` (a separate,
time-limited process), prints ✅ or ❌ lines through :func:`helpers.selfcheck.report` and
returns True or False. A check never raises.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from helpers.grading import BoundedRun, run_bounded
from helpers.selfcheck import report
from helpers.selfcheck.common import fail, never_raises, processes_seen, still_running
from helpers.tasks.processes import stubborn_sleep
from helpers.tasks.workers import sleep_task

__all__ = ["check_exit_codes", "check_stop_within", "stop_within_cases"]

SIGTERM_CODE = -int(getattr(signal, "SIGTERM", 15))
SIGKILL_CODE = -int(getattr(signal, "SIGKILL", 9))

#: The exit codes the exit_codes exercise is checked with.
CODES = [0, 3, 7]


def _not_run(run: BoundedRun, func_name: str) -> list[str]:
    """Problems when the learner's function did not return normally."""
    if run.error_type == "SystemExit":
        return [
            f"{func_name} ended the process that ran it (SystemExit): the target ran in your own "
            "process. Call p.start(), which runs the target in a new process, not p.run()."
        ]
    return [run.explain() or f"{func_name} did not return normally."]


@never_raises
def check_exit_codes(func: Callable[[list[int]], Any], timeout: float = 20.0) -> bool:
    """Check ``exit_codes(codes)``: one process per code, all started before any join, codes back.

    The learner's processes run ``sleep_then_exit(0.5, code)``; the check calls the function with
    ``[0, 3, 7]`` and expects ``[0, 3, 7]``, three processes alive at once, none left over.
    """
    run = run_bounded(func, list(CODES), timeout=timeout)
    if not run.ok:
        return report(_not_run(run, "exit_codes"), "")
    problems = []
    value = run.value
    if not isinstance(value, list):
        problems.append(
            f"exit_codes({CODES}) returned {value!r}; return a list with one exit code per "
            "process, in the order of the codes."
        )
    elif value != CODES:
        if value and all(code is None for code in value):
            problems.append(
                f"exit_codes({CODES}) returned {value}: exitcode is None until the process has "
                "ended. Join each process (p.join(timeout=...)) before you read p.exitcode."
            )
        else:
            problems.append(
                f"exit_codes({CODES}) returned {value}, expected {CODES}: each process runs "
                "sleep_then_exit(0.5, code) and its exitcode is that code."
            )
    problems += processes_seen(
        run,
        len(CODES),
        "no process was started: create one mp.Process per code, with "
        "target=sleep_then_exit and args=(0.5, code), and call start() on each.",
        "at most {seen} of your processes were alive at the same time, expected {expected}: "
        "start every process first (one loop), then join them (a second loop). Joining inside "
        "the start loop runs them one after another.",
    )
    problems += still_running(run, "after exit_codes returned", "join every process you start.")
    return report(
        problems,
        f"exit_codes({CODES}) returned {CODES}, with all {len(CODES)} processes running at "
        "once and none left behind.",
    )


def stop_within_cases(func: Callable[..., Any]) -> list[Any]:
    """Call the learner's ``stop_within`` on the three cases the check uses (in the sandbox).

    A quick task (``sleep_task(0.1)`` with 5 s), a long one (``sleep_task(30)`` with 0.5 s) and
    one that ignores SIGTERM (``stubborn_sleep(30)`` with 1 s).
    """
    return [
        func(sleep_task, (0.1,), 5.0),
        func(sleep_task, (30,), 0.5),
        func(stubborn_sleep, (30,), 1.0),
    ]


@never_raises
def check_stop_within(func: Callable[..., Any], timeout: float = 25.0) -> bool:
    """Check ``stop_within(target, args, seconds)``: wait, then terminate, then kill if needed."""
    run = run_bounded(stop_within_cases, func, timeout=timeout)
    if not run.ok:
        if run.timed_out:
            return fail(
                f"stop_within did not return within {timeout:.0f} s. Give join() a "
                "timeout every time you call it: a plain join() waits for ever for a "
                "process that does not end."
            )
        return report(_not_run(run, "stop_within"), "")
    quick, slow, stubborn = run.value
    problems = []
    if quick != 0:
        problems.append(
            f"sleep_task(0.1) with 5 s to spare should finish normally (exit code 0); your "
            f"function returned {quick!r}. Join it with the time limit before stopping anything."
        )
    if slow is None:
        problems.append(
            "sleep_task(30) with a 0.5 s limit: your function returned None, so the process was "
            "still running. When p.is_alive() after join(timeout=seconds), call p.terminate() "
            "and join it again."
        )
    elif slow == SIGKILL_CODE and SIGKILL_CODE != SIGTERM_CODE:
        problems.append(
            f"sleep_task(30) was stopped with kill() (exit code {slow}). Ask first with "
            "terminate() (SIGTERM, exit code -15); keep kill() for a process still alive after."
        )
    elif slow != SIGTERM_CODE:
        problems.append(
            f"sleep_task(30) with a 0.5 s limit returned {slow!r}, expected {SIGTERM_CODE} "
            "(stopped by terminate())."
        )
    if stubborn is None:
        problems.append(
            "a process that ignores SIGTERM was still running: after terminate(), join it for "
            "about a second, and if p.is_alive() is still True, call p.kill() and join again."
        )
    elif stubborn not in (SIGKILL_CODE, SIGTERM_CODE):
        problems.append(
            f"the process that ignores SIGTERM returned {stubborn!r}, expected {SIGKILL_CODE} "
            "(stopped by kill())."
        )
    problems += still_running(
        run, "after stop_within returned", "stop and join every process you start."
    )
    return report(
        problems,
        f"stop_within returned 0 for a quick task, {SIGTERM_CODE} after terminate() and "
        f"{stubborn} for a process that ignores SIGTERM; nothing left running.",
    )
