"""Lesson 01's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones."""

from __future__ import annotations

import multiprocessing as mp

from support.selfcheck_cases import accepts, rejects, selfcheck_test, worked_solution

from helpers.selfcheck.lesson_01 import check_exit_codes, check_stop_within
from helpers.tasks.processes import sleep_then_exit

# --- exit_codes(codes) ------------------------------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
exit_codes_solution = worked_solution("01_processes", "exit_codes", globals())


def exit_codes_other(codes):
    """Also right: a context, a dict, and join in reverse order."""
    ctx = mp.get_context()
    procs = {}
    for i, code in enumerate(codes):
        procs[i] = ctx.Process(target=sleep_then_exit, args=(0.5, code), name=f"w{i}")
        procs[i].start()
    for p in reversed(list(procs.values())):
        p.join(10)
    return [procs[i].exitcode for i in range(len(codes))]


def exit_codes_stub(codes):
    """The notebook's stub."""
    return [None for _ in codes]


def exit_codes_one_by_one(codes):
    """Classic mistake: start and join in the same loop, so the processes run one at a time."""
    result = []
    for code in codes:
        p = mp.Process(target=sleep_then_exit, args=(0.5, code))
        p.start()
        p.join(10)
        result.append(p.exitcode)
    return result


def exit_codes_no_join(codes):
    """Classic mistake: read exitcode before the processes have ended."""
    procs = [mp.Process(target=sleep_then_exit, args=(0.5, code)) for code in codes]
    for p in procs:
        p.start()
    return [p.exitcode for p in procs]


def exit_codes_run(codes):
    """Classic mistake: run() instead of start(), so the target runs (and exits) here."""
    procs = [mp.Process(target=sleep_then_exit, args=(0.01, code)) for code in codes]
    for p in procs:
        p.run()
    return [p.exitcode for p in procs]


# --- stop_within(target, args, seconds) ------------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
stop_within_solution = worked_solution("01_processes", "stop_within", globals())


def stop_within_other(target, args, seconds):
    """Also right: a loop over the two ways of stopping."""
    p = mp.get_context().Process(target=target, args=args)
    p.start()
    p.join(seconds)
    for stop in (p.terminate, p.kill):
        if not p.is_alive():
            break
        stop()
        p.join(1.5)
    return p.exitcode


def _wait_then_stop(target, args, seconds, *stops):
    """Start the target, wait ``seconds``, then for each ``(method, grace)``, while the process is
    still alive, call ``p.<method>()`` and wait ``grace`` seconds more (the mistakes below)."""
    p = mp.Process(target=target, args=args)
    p.start()
    p.join(timeout=seconds)
    for method, grace in stops:
        if p.is_alive():
            getattr(p, method)()
            p.join(timeout=grace)
    return p.exitcode


def stop_within_stub(target, args, seconds):
    """The notebook's stub: waits, stops nothing."""
    return _wait_then_stop(target, args, seconds)


def stop_within_terminate_only(target, args, seconds):
    """Classic mistake: terminate() and trust it."""
    return _wait_then_stop(target, args, seconds, ("terminate", 1))


def stop_within_kill_at_once(target, args, seconds):
    """Classic mistake: kill() straight away, without asking first."""
    return _wait_then_stop(target, args, seconds, ("kill", 5))


def stop_within_plain_join(target, args, seconds):
    """Classic mistake: join() without a time limit."""
    p = mp.Process(target=target, args=args)
    p.start()
    p.join()
    return p.exitcode


def exit_codes_spawn(codes):
    """The solution with an explicit spawn context (works without os.fork)."""
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=sleep_then_exit, args=(0.5, code)) for code in codes]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=20)
    return [p.exitcode for p in procs]


CASES = [
    *accepts(check_exit_codes, exit_codes_solution, exit_codes_other),
    rejects(check_exit_codes, exit_codes_stub, "no process was started"),
    rejects(check_exit_codes, exit_codes_one_by_one, "start every process first"),
    rejects(check_exit_codes, exit_codes_no_join, "Join each process"),
    rejects(check_exit_codes, exit_codes_run, "not p.run()"),
    rejects(check_exit_codes, "not a function", name="not_a_function"),  # a check never raises
    *accepts(check_stop_within, stop_within_solution, stop_within_other),
    rejects(check_stop_within, stop_within_stub, "call p.terminate()", timeout=25.0),
    rejects(check_stop_within, stop_within_terminate_only, "call p.kill()", timeout=25.0),
    rejects(
        check_stop_within, stop_within_kill_at_once, "Ask first with terminate()", timeout=25.0
    ),
    rejects(check_stop_within, stop_within_plain_join, "Give join() a timeout", timeout=4.0),
]

test_selfcheck = selfcheck_test(CASES)


def test_without_fork_the_check_does_not_demand_a_process_count(monkeypatch, capsys):
    """Windows: run_bounded falls back to a thread, which cannot count the learner's processes."""
    monkeypatch.delattr("os.fork")
    assert check_exit_codes(exit_codes_spawn) is True
    assert capsys.readouterr().out.startswith("✅")
