"""What lesson 08's helpers (helpers/tasks/compare.py) claim, checked by behaviour, never by speed."""

from __future__ import annotations

import faulthandler
import hashlib
import json
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import shared_memory

import psutil
import pytest
from conftest import ROOT, START_METHODS

from helpers.tasks import compare

METHODS = [m for m in START_METHODS if m in mp.get_all_start_methods()]
SIGABRT = -int(signal.SIGABRT)


@pytest.fixture
def fresh_counter():
    compare.COUNTER = 0
    yield
    compare.COUNTER = 0


def test_a_threads_bump_is_visible_to_its_process(fresh_counter):
    with ThreadPoolExecutor(max_workers=1) as ex:
        pid, before, after = ex.submit(compare.bump, 5).result(timeout=10)
    assert (pid, before, after) == (os.getpid(), 0, 5)
    assert compare.COUNTER == 5


@pytest.mark.parametrize("method", METHODS)
def test_a_childs_bump_is_invisible_to_the_parent(method, fresh_counter):
    compare.COUNTER = 5
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context(method)) as ex:
        pid, before, after = ex.submit(compare.bump, 5).result(timeout=60)
    assert pid != os.getpid()
    # fork copies the parent's 5; spawn and forkserver import the module afresh (0)
    assert before == (5 if method == "fork" else 0)
    assert after == before + 5
    assert compare.COUNTER == 5


@pytest.mark.parametrize("method", METHODS)
def test_a_crash_in_a_child_leaves_the_parent_running(method):
    child = mp.get_context(method).Process(target=compare.crash)
    child.start()
    child.join(60)
    assert child.exitcode == SIGABRT
    assert psutil.Process().is_running()


@pytest.mark.parametrize("method", METHODS)
def test_a_crash_in_a_thread_ends_its_whole_process(method):
    # The main thread would sleep 60 s and exit with 0; the crash's code shows it died with it.
    victim = mp.get_context(method).Process(
        target=compare.crash_in_a_thread, kwargs={"after": 0.05, "main_waits": 60.0}
    )
    victim.start()
    victim.join(50)
    alive = victim.is_alive()
    if alive:
        victim.kill()
        victim.join(10)
    assert not alive, "the crash in the thread did not end the process"
    assert victim.exitcode == SIGABRT


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGSEGV code is Linux's")
def test_a_segfault_is_a_crash_too():
    child = mp.get_context("fork").Process(target=compare.crash, args=("segfault",))
    child.start()
    child.join(30)
    assert child.exitcode == -int(signal.SIGSEGV)


def test_crash_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="abort"):
        compare.crash("explode")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_crash_writes_no_traceback_even_with_faulthandler_on(tmp_path):
    """A Jupyter kernel enables faulthandler; a forked child that crashes must stay silent."""
    log = (tmp_path / "fault.log").open("w+")
    was_enabled = faulthandler.is_enabled()
    faulthandler.enable(file=log)
    try:
        child = mp.get_context("fork").Process(target=compare.crash)
        child.start()
        child.join(30)
    finally:
        faulthandler.disable()
        if was_enabled:
            faulthandler.enable()
    assert child.exitcode == SIGABRT
    log.seek(0)
    assert log.read() == ""
    log.close()


def test_hash_rounds_hashes_the_buffer():
    assert compare.hash_rounds(1, 3) == hashlib.sha256(bytes(2**20)).hexdigest()


def test_echo_queue_between_threads_passes_the_same_object():
    inbox, outbox = queue.Queue(), queue.Queue()
    payload = b"x" * 5000
    worker = threading.Thread(target=compare.echo_queue, args=(inbox, outbox))
    worker.start()
    inbox.put(payload)
    assert outbox.get(timeout=10) == 5000
    inbox.put(None)
    worker.join(10)
    assert not worker.is_alive()


@pytest.mark.parametrize("method", METHODS)
def test_echo_workers_answer_through_pipe_queue_and_shared_memory(method):
    ctx = mp.get_context(method)
    payload = bytes(range(256)) * 4096  # 1 MiB, last byte 255

    here, there = ctx.Pipe()
    child = ctx.Process(target=compare.echo_pipe, args=(there,))
    child.start()
    here.send_bytes(payload)
    assert here.recv() == len(payload)
    here.send_bytes(b"")
    child.join(30)
    assert child.exitcode == 0

    inbox, outbox = ctx.Queue(), ctx.Queue()
    child = ctx.Process(target=compare.echo_queue, args=(inbox, outbox))
    child.start()
    inbox.put(payload)
    assert outbox.get(timeout=30) == len(payload)
    inbox.put(None)
    child.join(30)
    assert child.exitcode == 0

    shm = shared_memory.SharedMemory(create=True, size=len(payload))
    try:
        here, there = ctx.Pipe()
        child = ctx.Process(target=compare.echo_shared_memory, args=(there, shm.name))
        child.start()
        shm.buf[: len(payload)] = payload
        here.send(len(payload))
        assert here.recv() == 255  # the child read the parent's byte in place
        shm.buf[len(payload) - 1] = 7
        here.send(len(payload))
        assert here.recv() == 7  # ...and sees a change without anything being sent
        here.send(None)
        child.join(30)
        assert child.exitcode == 0
    finally:
        shm.close()
        shm.unlink()


def test_an_idle_thread_costs_less_private_memory_than_an_idle_spawned_process():
    me = psutil.Process()
    stop = threading.Event()
    ready = [threading.Event() for _ in range(8)]
    before = me.memory_full_info().uss
    threads = [threading.Thread(target=compare.idle, args=(r, stop)) for r in ready]
    for t in threads:
        t.start()
    for r in ready:
        assert r.wait(10)
    per_thread = (me.memory_full_info().uss - before) / len(threads)
    stop.set()
    for t in threads:
        t.join(10)

    ctx = mp.get_context("spawn")
    ready_p, stop_p = ctx.Event(), ctx.Event()
    child = ctx.Process(target=compare.idle, args=(ready_p, stop_p))
    child.start()
    try:
        assert ready_p.wait(60)
        info = psutil.Process(child.pid).memory_full_info()
    finally:
        stop_p.set()
        child.join(30)
    assert child.exitcode == 0
    assert 0 < info.uss <= info.rss
    assert per_thread < info.uss


def test_idle_returns_once_stopped():
    ready, stop = threading.Event(), threading.Event()
    worker = threading.Thread(target=compare.idle, args=(ready, stop))
    worker.start()
    assert ready.wait(10)
    assert worker.is_alive()
    stop.set()
    worker.join(10)
    assert not worker.is_alive()


def test_spread_needs_values():
    with pytest.raises(ValueError):
        compare.Spread.of([])


def test_limit_for_is_fixed_positive_work():
    limit = compare.limit_for(0.01)
    assert isinstance(limit, int) and limit >= 1_000 and limit % 1_000 == 0
    with pytest.raises(ValueError):
        compare.limit_for(0)


def test_plot_speedups_draws_one_bar_per_kind_and_workload():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = compare.plot_speedups(
        {"a": {"threads": [1.0, 1.1], "processes": [1.8, 1.9]}, "b": {"threads": [3.0]}}, cpus=2
    )
    assert len(ax.patches) == 3
    plt.close(ax.figure)


def test_the_reference_is_a_two_cpu_run_with_every_row():
    path = ROOT / "notebooks" / "reference" / "08_processes_vs_threads.json"
    ref = json.loads(path.read_text())
    assert ref["cpus"] == 2
    for key in ("cpu", "hash", "io", "memory", "memory_shared", "start", "ipc", "crash"):
        assert key in ref, key
    for key in ("cpu", "platform", "date", "load_before"):
        assert key in ref["machine"], key
