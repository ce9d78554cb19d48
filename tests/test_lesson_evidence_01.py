"""What lesson 01's helpers and prose claim, checked by behaviour (no speed assertions)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sys

import pytest

from helpers.tasks.processes import (
    count_primes_to_file,
    exit_with,
    fail,
    hold_lock,
    ignore_sigterm,
    load_reference,
    read_records,
    sleep_then_exit,
    stderr_to_file,
    stubborn_sleep,
)
from helpers.tasks.workers import count_primes, sleep_task, square

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and exit statuses")


@pytest.fixture(params=["fork", "spawn"])
def ctx(request):
    return mp.get_context(request.param)


def run(ctx, target, *args, timeout=20.0, **kwargs):
    p = ctx.Process(target=target, args=args, **kwargs)
    p.start()
    p.join(timeout)
    assert not p.is_alive()
    return p


def assert_terminate_is_ignored_but_kill_is_not(p, grace: float) -> None:
    """``p`` (which ignores SIGTERM) is still alive ``grace`` seconds after terminate(), and
    kill() ends it with SIGKILL."""
    p.terminate()
    p.join(grace)
    assert p.is_alive()
    p.kill()
    p.join(10)
    assert p.exitcode == -signal.SIGKILL


def test_return_value_is_lost_only_the_exit_code_arrives(ctx):
    assert run(ctx, square, 4).exitcode == 0


def test_sys_exit_codes(ctx):
    assert run(ctx, exit_with, 3).exitcode == 3
    assert run(ctx, sleep_then_exit, 0.05, 7).exitcode == 7


@posix_only
def test_exit_status_keeps_only_eight_bits(ctx):
    assert run(ctx, exit_with, 300).exitcode == 300 % 256


def test_a_raising_target_exits_with_1_and_its_traceback_goes_to_stderr(ctx, tmp_path):
    log = tmp_path / "err.txt"
    p = run(ctx, stderr_to_file, str(log), fail, "boom")
    assert p.exitcode == 1
    text = log.read_text()
    assert "ValueError: boom" in text
    assert "Process " in text


@posix_only
def test_terminate_is_sigterm_and_by_default_ends_python(ctx):
    p = ctx.Process(target=sleep_task, args=(30,))
    p.start()
    p.terminate()
    p.join(10)
    assert p.exitcode == -signal.SIGTERM


@posix_only
def test_a_process_ignoring_sigterm_survives_terminate_but_not_kill(ctx):
    ready = ctx.Event()
    p = ctx.Process(target=ignore_sigterm, args=(ready, 30))
    p.start()
    assert ready.wait(20)
    assert_terminate_is_ignored_but_kill_is_not(p, grace=1)


@posix_only
def test_stubborn_sleep_ignores_sigterm_once_running(ctx):
    p = ctx.Process(target=stubborn_sleep, args=(30,))
    p.start()
    # Wait until the handler is installed: the child's SIGTERM disposition is visible in /proc.
    import time

    deadline = time.monotonic() + 20
    ignored = False
    while time.monotonic() < deadline and not ignored:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("SigIgn:"):
                        ignored = bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
        except FileNotFoundError:
            break
        time.sleep(0.05)
    if not ignored:
        p.kill()
        p.join(5)
        pytest.skip("cannot see the child's signal mask (no /proc)")
    assert_terminate_is_ignored_but_kill_is_not(p, grace=0.5)


def test_terminating_a_lock_holder_leaves_the_lock_taken(ctx):
    lock, ready = ctx.Lock(), ctx.Event()
    p = ctx.Process(target=hold_lock, args=(lock, ready, 30))
    p.start()
    assert ready.wait(20)
    p.terminate()
    p.join(10)
    assert not p.is_alive()
    assert lock.acquire(timeout=0.5) is False  # its finally never ran


def test_close_makes_the_process_object_unusable(ctx):
    p = run(ctx, square, 2)
    p.close()
    with pytest.raises(ValueError):
        p.is_alive()


def test_close_refuses_a_running_process(ctx):
    p = ctx.Process(target=sleep_task, args=(30,))
    p.start()
    try:
        with pytest.raises(ValueError):
            p.close()
    finally:
        p.kill()
        p.join(10)


def test_count_primes_to_file_records_its_own_cpu_time(ctx, tmp_path):
    path = tmp_path / "r.json"
    run(ctx, count_primes_to_file, 50_000, str(path))
    (record,) = read_records([path, tmp_path / "missing.json"])
    assert record["result"] == count_primes(50_000)
    assert record["pid"] != os.getpid()
    assert 0 < record["cpu"] <= record["end"] - record["start"] + 0.05


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity")
def test_on_one_cpu_processes_cannot_compute_more_than_one_at_a_time(tmp_path):
    """The lesson's "computing at once" can never exceed 1 on one CPU: they take turns."""
    ctx = mp.get_context("spawn")
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})  # children inherit the affinity
    try:
        paths = [tmp_path / f"{i}.json" for i in range(2)]
        procs = [ctx.Process(target=count_primes_to_file, args=(150_000, str(p))) for p in paths]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
    finally:
        os.sched_setaffinity(0, before)
    records = read_records(paths)
    assert len(records) == 2
    span = max(r["end"] for r in records) - min(r["start"] for r in records)
    assert sum(r["cpu"] for r in records) / span <= 1.1


def test_the_reference_figure_is_stored_and_labelled():
    ref = load_reference("01_two_processes.json")
    assert ref is not None, "run benchmarks/reference_01_overlap.py on a machine with 2+ CPUs"
    for key in ["date", "machine", "usable_cpus", "python", "at_once_median", "share_median"]:
        assert key in ref
    assert ref["usable_cpus"] >= 2
    assert ref["at_once_min"] <= ref["at_once_median"] <= ref["at_once_max"]
    json.dumps(ref)


def test_show_source_shows_a_child_functions_code():
    from helpers.instruments.output import show_source

    shown = show_source(square, sleep_then_exit)
    text = getattr(shown, "data", shown)
    assert "def square" in text and "def sleep_then_exit" in text
