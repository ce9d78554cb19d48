"""Tests of helpers.grading: run_bounded's sandbox, BoundedRun, probe and describe_workers.

run_bounded's sandbox uses the start method in force, so these tests set it (force=True) and put
the previous one back afterwards. Functions passed to run_bounded are top-level functions of this
module: the sandbox is forked, so it runs them without pickling, like a notebook's functions.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time

import psutil
import pytest
from conftest import START_METHODS, own_workers

from helpers.grading import BoundedRun, describe_workers, probe, run_bounded
from helpers.instruments.timeline import TaskRecord
from helpers.tasks import workers

# --------------------------------------------------------------------------------- fixtures


def _wait_gone(before: set[int], seconds: float = 5.0) -> set[int]:
    deadline = time.monotonic() + seconds
    while (new := own_workers() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    return new


def _stop_own_forkserver() -> None:
    # A forkserver the test process started earlier would be inherited by the forked sandbox,
    # which cannot use it (see test_run_bounded_after_the_kernel_used_forkserver). Stop it, so
    # that each test sees a kernel that has not used forkserver yet.
    from multiprocessing import forkserver

    server = forkserver._forkserver
    if getattr(server, "_forkserver_pid", None) is not None and hasattr(server, "_stop"):
        server._stop()


@pytest.fixture
def method_in_force():
    """Set the global start method for the test (the sandbox follows it); restore it after."""
    previous = multiprocessing.get_start_method(allow_none=True)
    before = own_workers()

    def use(method: str) -> str:
        if method == "forkserver":
            _stop_own_forkserver()
        multiprocessing.set_start_method(method, force=True)
        return method

    try:
        yield use
    finally:
        multiprocessing.set_start_method(previous, force=True)
    left = _wait_gone(before)
    assert not left, f"processes left running after the test: {sorted(left)}"


@pytest.fixture(params=START_METHODS)
def start_method(request, method_in_force):
    return method_in_force(request.param)


# ------------------------------------------------------------- functions the "learner" wrote


def returns_records():
    with multiprocessing.Pool(2) as pool:
        return pool.map(probe, [0.2, 0.2, 0.2, 0.2], chunksize=1)


def prints_and_fails():
    print("to stdout from the learner's function", flush=True)
    print("to stderr from the learner's function", file=sys.stderr, flush=True)
    child = multiprocessing.Process(target=workers.fail_if_negative, args=(-5,))
    child.start()
    child.join(30)
    return child.exitcode


def blocks_forever_with_a_child():
    child = multiprocessing.Process(target=workers.sleep_task, args=(120,))
    child.start()
    print(f"child {child.pid}", flush=True)
    threading.Event().wait()


def pool_with_a_lambda():
    with multiprocessing.Pool(2) as pool:
        return pool.map(lambda x: x * x, [1, 2, 3])


def pool_with_a_cell_function():
    """Like a function defined in a notebook cell: in this process's __main__, not in a file."""
    import __main__

    def cell_func(x):
        return x * x

    cell_func.__module__ = "__main__"
    cell_func.__qualname__ = cell_func.__name__ = "cell_func_for_grading_test"
    __main__.cell_func_for_grading_test = cell_func  # only in the sandbox, a copy of the kernel
    with multiprocessing.Pool(2) as pool:
        return pool.map(cell_func, [1, 2, 3])


def pool_never_closed():
    pool = multiprocessing.Pool(2)
    return pool.map(workers.square, [1, 2, 3])


def process_left_running():
    child = multiprocessing.Process(target=workers.sleep_task, args=(60,))
    child.start()
    return child.pid


def exits_hard_slowly():
    """Dies without returning; its end of the result pipe closes before the process is gone."""
    os.closerange(3, 4096)
    time.sleep(1)
    os._exit(7)


def calls_sys_exit():
    sys.exit(3)


def returns_unpicklable():
    return threading.Lock()


# --------------------------------------------------------------------------------- run_bounded


def test_value_is_returned(start_method):
    run = run_bounded(workers.square, 7, timeout=20)
    assert run.ok and run.value == 49 and run.value_or_fail() == 49
    assert run.error_type is None and not run.timed_out
    assert run.explain() == "" and run.hint() == ""
    assert run.pid not in (0, os.getpid())
    assert run.leftover_processes == 0 and run.unclosed_pools == 0
    assert 0 < run.seconds < 20
    assert run_bounded(workers.slow_square, 3, seconds=0.01, timeout=20).value == 9


def test_records_from_a_pool(start_method):
    run = run_bounded(returns_records, timeout=30)
    records = run.value_or_fail()
    assert [r.result for r in records] == [2.0] * 4
    pids = {r.pid for r in records}
    assert run.pid not in pids and os.getpid() not in pids
    assert 1 <= len(pids) <= 2
    assert run.unclosed_pools == 0 and run.leftover_processes == 0


def test_exception_is_reported(start_method):
    run = run_bounded(workers.fail_if_negative, -3, timeout=20)
    assert not run.ok and not run.timed_out
    assert run.error_type == "ValueError"
    assert run.error_message == "negative input: -3"
    assert "fail_if_negative" in run.error_traceback
    assert "ValueError: negative input: -3" in run.explain()
    with pytest.raises(AssertionError, match="ValueError: negative input: -3"):
        run.value_or_fail()


def test_a_hang_is_stopped_and_leaves_no_process(start_method):
    before = own_workers()
    started = time.monotonic()
    run = run_bounded(blocks_forever_with_a_child, timeout=2)
    elapsed = time.monotonic() - started
    assert run.timed_out and not run.ok
    assert elapsed < 2 + 10
    assert "did not finish within 2 s" in run.explain()
    assert "sentinel" in run.explain()  # the generic advice, with no hint to give
    child_pid = int(run.stdout.split("child ")[1].split()[0])
    assert child_pid != run.pid
    assert not _wait_gone(before)
    assert not psutil.pid_exists(run.pid) or psutil.Process(run.pid).status() == "zombie"
    assert not psutil.pid_exists(child_pid) or psutil.Process(child_pid).status() == "zombie"
    with pytest.raises(AssertionError, match="did not finish"):
        run.value_or_fail()


def test_a_lambda_worker_is_reported_with_a_hint(start_method):
    run = run_bounded(pool_with_a_lambda, timeout=20)
    assert not run.ok and not run.timed_out
    assert "lambda" in run.error_message
    assert "lambda" in run.hint().lower() and "helpers.tasks.workers" in run.hint()
    assert run.hint() in run.explain()


def test_a_worker_the_children_cannot_find(start_method):
    run = run_bounded(pool_with_a_cell_function, timeout=5)
    if start_method == "fork":
        # Forked workers are copies of the sandbox: they have the function.
        assert run.value_or_fail() == [1, 4, 9]
        return
    # Under spawn and forkserver the workers die unpickling the task, and the pool waits.
    assert run.timed_out
    assert "Can't get attribute 'cell_func_for_grading_test'" in run.stderr
    assert "defined in the notebook" in run.hint()
    assert "%%writefile" in run.explain()


def test_an_unclosed_pool_is_reported(start_method):
    run = run_bounded(pool_never_closed, timeout=20)
    assert run.value_or_fail() == [1, 4, 9]
    assert run.unclosed_pools >= 1
    assert "unclosed" not in run.stderr  # the warning is counted, not printed


def test_a_process_left_running_is_reported_and_stopped(start_method):
    run = run_bounded(process_left_running, timeout=20, grace=0.5)
    child_pid = run.value_or_fail()
    assert run.leftover_processes == 1
    assert run.unclosed_pools == 0
    deadline = time.monotonic() + 5
    while psutil.pid_exists(child_pid) and time.monotonic() < deadline:
        if psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.05)
    assert not psutil.pid_exists(child_pid) or (
        psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE
    )


def test_output_is_captured_not_printed(start_method, capfd):
    run = run_bounded(prints_and_fails, timeout=20)
    assert run.value_or_fail() == 1  # the child died of its ValueError
    assert "to stdout from the learner's function" in run.stdout
    assert "to stderr from the learner's function" in run.stderr
    assert "ValueError: negative input: -5" in run.stderr  # the child's traceback
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_failing_run_explains_with_the_end_of_stderr(start_method):
    run = run_bounded(prints_and_fails_then_raises, timeout=20)
    assert run.error_type == "RuntimeError"
    explanation = run.explain()
    assert explanation.startswith("Your code raised RuntimeError: the child failed")
    assert "ValueError: negative input: -5" in explanation.split("\n", 1)[1]


def prints_and_fails_then_raises():
    prints_and_fails()
    raise RuntimeError("the child failed")


def test_sys_exit_is_reported(method_in_force):
    method_in_force("fork")
    run = run_bounded(calls_sys_exit, timeout=20)
    assert not run.ok and not run.timed_out
    assert run.error_type == "SystemExit"
    assert "SystemExit" in run.explain()


def test_os_exit_is_reported_as_an_exit_not_a_timeout(method_in_force):
    method_in_force("fork")
    started = time.monotonic()
    run = run_bounded(exits_hard_slowly, timeout=20)
    assert time.monotonic() - started < 20
    assert not run.timed_out, f"reported as a timeout after {run.seconds} s"
    assert run.error_type == "SystemExit" and "exit code 7" in run.error_message


def test_an_unpicklable_value_is_reported(method_in_force):
    method_in_force("fork")
    run = run_bounded(returns_unpicklable, timeout=20)
    assert not run.ok
    assert "could not be sent back" in run.error_message


def test_run_bounded_needs_a_function():
    with pytest.raises(TypeError, match=r"run_bounded\(f\(x\)\)"):
        run_bounded(workers.square(3))


def test_without_fork_it_runs_in_a_thread(monkeypatch):
    monkeypatch.delattr(os, "fork")
    run = run_bounded(workers.square, 5, timeout=10)
    assert run.value_or_fail() == 25 and run.pid == os.getpid() and run.notes
    run = run_bounded(workers.fail_if_negative, -1, timeout=10)
    assert run.error_type == "ValueError" and "negative input: -1" in run.error_message
    release = threading.Event()
    try:
        run = run_bounded(release.wait, 60, timeout=0.3)
        assert run.timed_out and run.seconds < 10
    finally:
        release.set()


def test_run_bounded_after_the_kernel_used_forkserver(method_in_force):
    method_in_force("forkserver")
    p = multiprocessing.get_context("forkserver").Process(target=workers.square, args=(2,))
    p.start()  # the kernel's own forkserver is now running
    p.join(30)
    run = run_bounded(returns_records, timeout=30)
    assert run.ok, f"{run.error_type}: {run.error_message}"


def test_max_children_counts_forkserver_workers(method_in_force):
    method_in_force("forkserver")
    run = run_bounded(returns_records, timeout=30)
    assert len({r.pid for r in run.value_or_fail()}) == 2
    assert run.max_children >= 2


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_max_children_counts_workers(method_in_force, method):
    method_in_force(method)
    run = run_bounded(returns_records, timeout=30)
    assert run.value_or_fail()
    assert run.max_children >= len({r.pid for r in run.value})
    assert run_bounded(workers.square, 2, timeout=20).max_children == 0


# --------------------------------------------------------------------------------- BoundedRun


def test_hints_match_what_the_children_said():
    cases = {
        "AttributeError: Can't get attribute 'f' on <module '__main__'>": "defined in the notebook",
        "_pickle.PicklingError: Can't pickle <function <lambda>>": "lambda",
        "TypeError: cannot pickle '_thread.lock' object / Can't pickle": "cannot be pickled",
        "AttributeError: Can't get local object 'outer.<locals>.inner'": "nested function",
    }
    for stderr, advice in cases.items():
        assert advice in BoundedRun(stderr=stderr, timed_out=True, seconds=5).hint(), stderr
    assert BoundedRun(stderr="all fine").hint() == ""


def test_explain_a_timeout_with_a_hint():
    run = BoundedRun(
        timed_out=True,
        seconds=5.0,
        stderr="x\nTraceback\nAttributeError: Can't get attribute 'f' on main\n",
    )
    text = run.explain()
    assert text.startswith("Your code did not finish within 5 s and was stopped.")
    assert "defined in the notebook" in text
    assert text.endswith("Can't get attribute 'f' on main")
    assert not run.ok


# --------------------------------------------------------------------------------- probe etc.


def test_probe_records_who_ran_it():
    before = time.time()
    record = probe(0.05)
    assert isinstance(record, TaskRecord)
    assert record.task == 0.05 and record.result == pytest.approx(0.5)
    assert record.pid == os.getpid() and record.thread == threading.get_ident()
    assert before <= record.start and record.duration >= 0.05
    assert probe(0).result == 0
    with pytest.raises(ValueError, match="negative input"):
        probe(-1)


def _records(*pid_threads):
    return [TaskRecord(i, i, pid, thread, 0.0, 1.0) for i, (pid, thread) in enumerate(pid_threads)]


def test_describe_workers():
    parent = 100
    assert "several threads of one process" in describe_workers(
        _records((parent, 1), (parent, 2)), parent
    )
    assert "notebook's own process" in describe_workers(_records((parent, 1), (parent, 1)), parent)
    assert "single worker process" in describe_workers(_records((7, 1), (7, 1)), parent)
    assert describe_workers(_records((7, 1), (8, 1), (9, 1)), parent) == (
        "the tasks ran in 3 processes."
    )
    assert (
        describe_workers(iter(_records((7, 1), (8, 1))), parent) == "the tasks ran in 2 processes."
    )


def _late_second_worker() -> list[TaskRecord]:
    """Three probes in one worker, one in a worker that starts a second later (a loaded machine)."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as early, ctx.Pool(1, initializer=time.sleep, initargs=(1.0,)) as late:
        first = early.map_async(probe, [0.2, 0.2, 0.2])
        second = late.map_async(probe, [0.2])
        return first.get(15) + second.get(15)


def test_probes_wait_for_a_late_second_worker_so_a_real_pool_still_overlaps():
    from helpers.instruments.timeline import overlapping_pairs, processes_used

    run = run_bounded(_late_second_worker, timeout=30)
    records = run.value_or_fail()
    assert len(processes_used(records)) == 2
    # Without the meeting, the early worker's 0.6 s of probes end before the late one starts.
    assert overlapping_pairs(records), [(r.pid, r.start, r.end) for r in records]


def test_probes_wait_only_once_for_serial_code_and_never_outside_run_bounded():
    started = time.monotonic()
    probe(0.01)
    assert time.monotonic() - started < 1.0  # no meeting outside run_bounded
    run = run_bounded(lambda: [probe(0.05) for _ in range(4)], timeout=30)
    records = run.value_or_fail()
    assert {r.pid for r in records} == {run.pid}
    assert not run.timed_out and run.seconds < 3.0 + 4 * 0.05 + 5  # one wait, not four
