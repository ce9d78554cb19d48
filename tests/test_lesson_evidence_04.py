"""What lesson 04's helpers and prose claim, checked by behaviour (no speed assertions)."""

from __future__ import annotations

import contextlib
import io
import multiprocessing as mp
import sys
import threading

import pytest

from helpers.grading import run_bounded
from helpers.tasks import ipc, workers


@pytest.fixture(params=["fork", "spawn"])
def ctx(request):
    return mp.get_context(request.param)


class PickleSpy:
    """Records the name of the thread that pickles it; unpickles as 0."""

    threads: list[str] = []

    def __reduce__(self):
        PickleSpy.threads.append(threading.current_thread().name)
        return (int, (0,))


def test_queue_put_pickles_later_in_the_feeder_thread(ctx):
    PickleSpy.threads = []
    q = ctx.Queue()
    q.put(PickleSpy())
    assert q.get(timeout=10) == 0
    assert PickleSpy.threads and threading.main_thread().name not in PickleSpy.threads
    q.close()
    q.join_thread()


def test_simple_queue_put_pickles_in_the_caller(ctx):
    PickleSpy.threads = []
    q = ctx.SimpleQueue()
    q.put(PickleSpy())
    assert PickleSpy.threads == [threading.current_thread().name]
    assert q.get() == 0
    q.close()


def test_put_of_an_unpicklable_object_does_not_raise_and_the_item_is_lost(ctx):
    q = ctx.Queue()
    captured = io.StringIO()
    with contextlib.redirect_stderr(captured):
        q.put(threading.Lock())  # no exception here
        q.put("next")
        assert q.get(timeout=10) == "next"  # the lock never arrives
    assert "cannot pickle" in captured.getvalue()
    q.close()
    q.join_thread()


def test_simple_queue_put_of_an_unpicklable_object_raises(ctx):
    q = ctx.SimpleQueue()
    with pytest.raises(TypeError, match="pickle"):
        q.put(threading.Lock())
    q.close()


def test_a_change_made_after_put_can_travel(ctx):
    """Deterministic form of the lesson's demo: the feeder pickles only when it gets to the item."""
    q = ctx.Queue()
    gate = threading.Lock()
    gate.acquire()

    class Waits:
        def __init__(self):
            self.numbers = [1, 2, 3]

        def __reduce__(self):
            with gate:  # the feeder thread waits here until the caller has changed the list
                return (list, (self.numbers,))

    item = Waits()
    q.put(item)
    item.numbers.append(4)  # after put()
    gate.release()
    assert q.get(timeout=10) == [1, 2, 3, 4]
    q.close()
    q.join_thread()


@pytest.mark.skipif(sys.platform == "win32", reason="on Windows poll() raises BrokenPipeError")
def test_poll_on_a_closed_pipe_is_true_and_recv_raises_eof(ctx):
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=ipc.send_numbers, args=(sender, 3))
    child.start()
    sender.close()
    got = []
    with pytest.raises(EOFError):
        while receiver.poll(10):
            got.append(receiver.recv())
    child.join(10)
    receiver.close()
    assert got == [0, 1, 2]


def test_join_before_get_deadlocks_only_on_a_large_payload():
    method = mp.get_start_method()
    small = run_bounded(ipc.join_then_get, 1_000, method, timeout=10)
    assert small.ok and small.value == 1_000
    large = run_bounded(ipc.join_then_get, 1_000_000, method, timeout=3)
    assert large.timed_out
    assert ipc.get_then_join(1_000_000, method) == 1_000_000


def test_a_missing_sentinel_leaves_a_consumer_waiting(ctx):
    tasks, results = ctx.Queue(), ctx.Queue()
    consumers = [
        ctx.Process(target=ipc.consumer, args=(tasks, results, workers.square)) for _ in range(2)
    ]
    for p in consumers:
        p.start()
    for x in range(4):
        tasks.put(x)
    tasks.put(None)  # one sentinel for two consumers
    assert sorted(r.result for r in ipc.drain(results, 4, timeout=10)) == [0, 1, 4, 9]
    for p in consumers:
        p.join(1)
    assert sum(p.is_alive() for p in consumers) == 1
    tasks.put(None)
    for p in consumers:
        p.join(10)
    assert not any(p.is_alive() for p in consumers)


def test_a_failing_item_comes_back_as_its_exception(ctx):
    tasks, results = ctx.Queue(), ctx.Queue()
    p = ctx.Process(target=ipc.consumer, args=(tasks, results, workers.fail_if_negative))
    p.start()
    for x in [3, -1, None]:
        tasks.put(x)
    records = {r.task: r.result for r in ipc.drain(results, 2, timeout=10)}
    p.join(10)
    assert records[3] == 9
    assert isinstance(records[-1], ValueError)
    assert p.exitcode == 0


def test_a_queue_cannot_be_passed_to_a_pool_task(ctx):
    q = ctx.Queue()
    with ctx.Pool(1) as pool, pytest.raises(RuntimeError, match="inheritance"):
        pool.apply_async(ipc.producer, (q, ["a"])).get(timeout=10)
