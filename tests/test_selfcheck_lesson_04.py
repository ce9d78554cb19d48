"""Lesson 04's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones."""

from __future__ import annotations

import multiprocessing as mp

from support.selfcheck_cases import accepts, rejects, selfcheck_test, worked_solution

from helpers.selfcheck.lesson_04 import check_shout_all, check_squares_by_consumers
from helpers.tasks import ipc, workers

# --- squares_by_consumers(numbers, n_consumers) ------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
squares_solution = worked_solution(
    "04_queues_pipes", "squares_by_consumers", globals(), ctx=mp.get_context("spawn")
)


def squares_other(numbers, n_consumers):
    """Also right: a JoinableQueue, ipc.producer in its own process, ipc.drain to collect."""
    ctx = mp.get_context()
    tasks, results = ctx.JoinableQueue(), ctx.Queue()
    consumers = [
        ctx.Process(target=ipc.consumer, args=(tasks, results, workers.slow_square))
        for _ in range(n_consumers)
    ]
    feeder = ctx.Process(
        target=ipc.producer, args=(tasks, numbers), kwargs={"sentinels": n_consumers}
    )
    for p in [*consumers, feeder]:
        p.start()
    records = ipc.drain(results, len(numbers), timeout=10)
    for p in [feeder, *consumers]:
        p.join(10)
    return sorted(r.result for r in records)


def squares_stub(numbers, n_consumers):
    """The notebook's stub: no processes."""
    return sorted(workers.square(x) for x in numbers)


def _one_sentinel(numbers, n_consumers, join_timeout):
    """One None for all the consumers: the first stops, the others wait for more work."""
    ctx = mp.get_context()
    tasks, results = ctx.Queue(), ctx.Queue()
    consumers = [
        ctx.Process(target=ipc.consumer, args=(tasks, results, workers.slow_square))
        for _ in range(n_consumers)
    ]
    for p in consumers:
        p.start()
    for x in numbers:
        tasks.put(x)
    tasks.put(None)
    squares = [results.get(timeout=10).result for _ in numbers]
    for p in consumers:
        p.join(timeout=join_timeout)
    return sorted(squares)


def squares_one_sentinel(numbers, n_consumers):
    """Classic mistake: one sentinel for all the consumers (joins with a timeout)."""
    return _one_sentinel(numbers, n_consumers, join_timeout=1)


def squares_one_sentinel_plain_join(numbers, n_consumers):
    """Classic mistake: one sentinel, and join() without a time limit (timeout=None): it hangs."""
    return _one_sentinel(numbers, n_consumers, join_timeout=None)


def squares_unsorted(numbers, n_consumers):
    """Classic mistake: return the results in the order they arrived."""
    return list(reversed(squares_solution(numbers, n_consumers)))


# --- shout_all(messages) ---------------------------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
shout_solution = worked_solution(
    "04_queues_pipes", "shout_all", globals(), ctx=mp.get_context("spawn")
)


def shout_other(messages):
    """Also right: the child gets the first end, and a list comprehension does the round trips."""
    ctx = mp.get_context()
    theirs, mine = ctx.Pipe(duplex=True)
    child = ctx.Process(target=ipc.shout_back, args=(theirs,), daemon=True)
    child.start()
    theirs.close()

    def ask(text):
        mine.send(text)
        return mine.recv() if mine.poll(10) else None

    replies = [ask(m) for m in messages]
    mine.send(None)
    child.join(10)
    return replies


def shout_stub(messages):
    """The notebook's stub."""
    return None


def shout_no_stop(messages):
    """Classic mistake: never send None, so the child is still waiting when the pipe closes."""
    ctx = mp.get_context()
    here, there = ctx.Pipe()
    child = ctx.Process(target=ipc.shout_back, args=(there,))
    child.start()
    there.close()
    replies = []
    for message in messages:
        here.send(message)
        if here.poll(timeout=10):
            replies.append(here.recv())
    child.join(timeout=1)
    return replies


def shout_locally(messages):
    """Classic mistake: make the replies up in the caller's own process."""
    import os

    return [f"{m.upper()}! (from PID {os.getpid()})" for m in messages]


squares, shout = check_squares_by_consumers, check_shout_all
CASES = [
    *accepts(squares, squares_solution, squares_other),
    rejects(squares, squares_stub, "no consumer process was started", timeout=20.0),
    rejects(squares, squares_one_sentinel, "put one None per consumer", timeout=20.0),
    rejects(squares, squares_one_sentinel_plain_join, "put one None per consumer", timeout=6.0),
    rejects(squares, squares_unsorted, "return sorted(results)", timeout=20.0),
    *accepts(shout, shout_solution, shout_other),
    rejects(shout, shout_stub, "returned None"),
    rejects(
        shout, shout_no_stop, "send None", ignore_case=True
    ),  # EOFError (spawn) or still running (fork)
    rejects(shout, shout_locally, "came from your own process"),
]

test_selfcheck = selfcheck_test(CASES)
