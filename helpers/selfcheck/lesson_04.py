"""Self-checks for the exercises of lesson 04 (queues and pipes).

Each check runs the learner's function through :func:`helpers.grading.run_bounded` (a separate,
time-limited process), prints ✅ or ❌ lines through :func:`helpers.selfcheck.report` and
returns True or False. A check never raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from helpers.grading import BoundedRun, run_bounded
from helpers.selfcheck import report
from helpers.selfcheck.common import never_raises, processes_seen

__all__ = ["check_shout_all", "check_squares_by_consumers"]

#: What the producer/consumer exercise is checked with: ten numbers, three consumers.
NUMBERS = [3, -1, 4, 1, 5, 9, 2, 6, 5, 3]
CONSUMERS = 3

#: What the pipe exercise is checked with.
MESSAGES = ["hello", "pipes are direct", "bye"]


def _did_not_return(run: BoundedRun, func_name: str, hang_hint: str) -> list[str]:
    if run.timed_out:
        return [
            f"{func_name} did not finish within {run.seconds:.0f} s and was stopped. {hang_hint}"
        ]
    return [run.explain() or f"{func_name} did not return normally."]


@never_raises
def check_squares_by_consumers(
    func: Callable[[list[int], int], Any], timeout: float = 20.0
) -> bool:
    """Check ``squares_by_consumers(numbers, n_consumers)``: a pipeline with one sentinel each.

    The consumers run ``workers.slow_square`` (0.2 s per item), so that they live long enough to
    be counted. Expects the sorted squares of :data:`NUMBERS`, computed by :data:`CONSUMERS`
    consumer processes that were all alive together, and no process left running afterwards.
    """
    run = run_bounded(func, list(NUMBERS), CONSUMERS, timeout=timeout)
    if not run.ok:
        hint = (
            "A consumer waits in get() until it receives a sentinel: put one None per "
            "consumer, and get the results (with a timeout) before you join the consumers."
        )
        return report(_did_not_return(run, "squares_by_consumers", hint), "")
    expected = sorted(x * x for x in NUMBERS)
    problems = []
    value = run.value
    if value is None:
        problems.append("squares_by_consumers returned None: return the list of squares, sorted.")
    elif value != expected:
        try:
            as_list = sorted(value)
        except TypeError:
            as_list = None
        if as_list == expected:
            problems.append(
                "you have every square, but not in order: results arrive in the order they "
                "finish, so return sorted(results)."
            )
        else:
            problems.append(
                f"squares_by_consumers({NUMBERS}, {CONSUMERS}) returned {value!r}, expected "
                f"{expected}. Each result is a TaskRecord: its square is record.result."
            )
    problems += processes_seen(
        run,
        CONSUMERS,
        "no consumer process was started: the squares were computed in your own process. "
        "Start n_consumers processes with target=ipc.consumer and "
        "args=(tasks, results, workers.slow_square).",
        "at most {seen} consumer process(es) ran at once, expected {expected}: start "
        "n_consumers consumers before you collect the results.",
    )
    if run.leftover_processes:
        problems.append(
            f"{run.leftover_processes} consumer(s) were still running after your function "
            "returned: each consumer stops at its own sentinel, so put one None per consumer, "
            "then join every consumer."
        )
    return report(
        problems,
        f"{CONSUMERS} consumers squared all {len(NUMBERS)} numbers, and every consumer stopped "
        "at its sentinel.",
    )


@never_raises
def check_shout_all(func: Callable[[list[str]], Any], timeout: float = 20.0) -> bool:
    """Check ``shout_all(messages)``: a round trip per message through a duplex ``Pipe``.

    Expects one reply per message, in order, each ``"<MESSAGE>! (from PID n)"`` from one child
    process other than the caller, and the child stopped (it was sent ``None``) and joined.
    """
    run = run_bounded(func, list(MESSAGES), timeout=timeout)
    if not run.ok:
        hint = (
            "recv() waits for ever when nothing comes: check with conn.poll(timeout) first, "
            "and send None at the end so that shout_back returns."
        )
        return report(_did_not_return(run, "shout_all", hint), "")
    problems = []
    value = run.value
    if not isinstance(value, list) or len(value) != len(MESSAGES):
        problems.append(
            f"shout_all({MESSAGES}) returned {value!r}: return a list with one reply per "
            "message, in order (what conn.recv() gave you after each send)."
        )
    else:
        pids = set()
        for message, reply in zip(MESSAGES, value, strict=True):
            match = re.fullmatch(re.escape(message.upper()) + r"! \(from PID (\d+)\)", str(reply))
            if match is None:
                problems.append(
                    f"the reply to {message!r} was {reply!r}; shout_back answers "
                    f"'{message.upper()}! (from PID ...)'. Send each message and recv() its "
                    "reply before sending the next."
                )
            else:
                pids.add(int(match.group(1)))
        if run.pid in pids:
            problems.append(
                "the replies came from your own process: run ipc.shout_back in a new "
                "process with the other end of the pipe."
            )
        elif len(pids) > 1:
            problems.append(
                f"the replies came from {len(pids)} processes: start one child and talk to it "
                "through the same pipe."
            )
    if "EOFError" in run.stderr:
        problems.append(
            "the child ended with EOFError: it was still waiting in recv() when the pipe "
            "closed. Send None when you are done (shout_back then returns normally), then "
            "join the child."
        )
    elif run.leftover_processes:
        problems.append(
            "the child was still running after shout_all returned: send None (shout_back "
            "stops on it), then join the child."
        )
    return report(
        problems,
        f"all {len(MESSAGES)} messages went to one child and came back shouted; the child "
        "stopped at None.",
    )
