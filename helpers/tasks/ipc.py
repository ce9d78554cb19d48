"""Message passing between processes: producers, consumers and pipe partners (lesson 04).

Everything a child process runs here is a top-level function of an importable module, so it works
under fork, spawn and forkserver. The queues and pipe ends are passed to ``Process(args=...)`` when
the process is created; that is the only way a ``multiprocessing.Queue`` can reach a child (a
``Pool`` task cannot carry one: use ``Manager().Queue()`` for pool workers).

The pipeline building blocks::

    in_q, out_q = ctx.Queue(), ctx.Queue()
    workers = [ctx.Process(target=consumer, args=(in_q, out_q, square)) for _ in range(2)]
    feeder = ctx.Process(target=producer, args=(in_q, items), kwargs={"sentinels": 2})
    ...
    records = drain(out_q, len(items), timeout=10)   # TaskRecords, in finishing order

A consumer stops when it gets :data:`SENTINEL` (``None``), so a pipeline needs one sentinel per
consumer. The module also holds the deliberately wrong :func:`join_then_get`, which deadlocks on
a large payload; run it only inside :func:`helpers.grading.run_bounded`.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import threading
import time
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from multiprocessing.queues import JoinableQueue
from typing import Any

from helpers.instruments.timeline import TaskRecord
from helpers.tasks.protocols import GetQueue, PutQueue, TimedGetQueue

__all__ = [
    "SENTINEL",
    "consumer",
    "drain",
    "get_then_join",
    "join_queue",
    "join_then_get",
    "producer",
    "put_payload",
    "send_numbers",
    "shout_back",
    "square_tagged",
]

#: What a producer puts on the queue to tell one consumer "no more items": one per consumer.
SENTINEL = None


# --- run in child processes -----------------------------------------------------------------


def producer(
    q: PutQueue,
    items: Iterable[Any],
    *,
    delay: float = 0.0,
    sentinels: int = 0,
    sentinel: Any = SENTINEL,
) -> int:
    """Put every item on ``q`` in order, then ``sentinels`` copies of ``sentinel``.

    ``delay`` seconds pass before each item, to stand for the time it takes to produce it (reading
    a file, downloading a page). Give ``sentinels=`` the number of consumers when this producer
    is the only one; with several producers, let the parent put the sentinels after they have all
    finished. Returns the number of items put (sentinels not counted).
    """
    count = 0
    for item in items:
        if delay > 0:
            time.sleep(delay)
        q.put(item)
        count += 1
    for _ in range(sentinels):
        q.put(sentinel)
    return count


def consumer(
    in_q: GetQueue,
    out_q: PutQueue,
    func: Callable[[Any], Any],
    *,
    sentinel: Any = SENTINEL,
) -> int:
    """Apply ``func`` to each item from ``in_q`` until ``sentinel``; put a TaskRecord per item.

    Each :class:`~helpers.instruments.timeline.TaskRecord` on ``out_q`` holds the item (``task``), what
    ``func`` returned (``result``), this process's PID, the start and end times and the CPU
    seconds ``func`` used (``cpu``), ready for :func:`helpers.plot_timeline`. When ``func``
    raises, the record's ``result`` is the exception object: the error travels to the parent and
    the consumer carries on, so the parent still receives one record per item instead of waiting
    for a result that never comes.

    When ``in_q`` is a ``JoinableQueue``, ``task_done()`` is called for every item, the sentinel
    included, so the parent's ``in_q.join()`` returns once everything has been handled. Returns
    the number of items handled (the sentinel not counted). ``func`` must be a top-level function
    of a module (for example from :mod:`helpers.tasks.workers`), so that it pickles under spawn.
    """
    task_done = getattr(in_q, "task_done", None)
    handled = 0
    while True:
        item = in_q.get()
        try:
            if item is sentinel or (type(item) is type(sentinel) and item == sentinel):
                return handled
            start, cpu_start = time.time(), time.thread_time()
            try:
                result = func(item)
            except Exception as exc:  # noqa: BLE001 - the parent decides what an error means
                result = exc
            cpu = time.thread_time() - cpu_start
            end = time.time()
            record = TaskRecord(item, result, os.getpid(), threading.get_ident(), start, end, cpu)
            out_q.put(record)
            handled += 1
        finally:
            if task_done is not None:
                task_done()


def square_tagged(item: tuple[Any, float]) -> tuple[Any, float]:
    """Return ``(tag, x * x)`` for ``item = (tag, x)``, after sleeping ``0.05 * x`` seconds.

    Bigger numbers take longer, so results come back out of order; the tag, returned with the
    result, puts them back in place. Use the item's position (``enumerate``) as its tag.
    """
    tag, x = item
    time.sleep(0.05 * abs(x))
    return tag, x * x


def shout_back(conn: Connection) -> int:
    """Serve one end of a duplex ``Pipe``: reply to each text with it in capitals, until None.

    Returns the number of replies sent. Closes its end of the pipe when done.
    """
    replies = 0
    try:
        while True:
            message = conn.recv()
            if message is None:
                return replies
            conn.send(f"{str(message).upper()}! (from PID {os.getpid()})")
            replies += 1
    finally:
        conn.close()


def send_numbers(conn: Connection, count: int, delay: float = 0.0) -> None:
    """Send ``0, 1, ..., count - 1`` down the sending end of a one-way ``Pipe``, then close it.

    Once every copy of the sending end is closed, the receiver's ``recv()`` raises ``EOFError``:
    that is how it learns that nothing more will come.
    """
    try:
        for n in range(count):
            if delay > 0:
                time.sleep(delay)
            conn.send(n)
    finally:
        conn.close()


def put_payload(q: PutQueue, nbytes: int) -> None:
    """Put one ``bytes`` object of ``nbytes`` zero bytes on ``q``, then return (and exit).

    The process cannot really exit until its queue's feeder thread has written the payload into
    the pipe. A payload larger than the pipe's buffer (64 KiB on Linux) is only written as
    fast as another process reads it.
    """
    q.put(bytes(nbytes))


# --- run in the parent (or inside run_bounded) ----------------------------------------------


def join_then_get(nbytes: int, start_method: str | None = None) -> int:
    """WRONG ORDER, on purpose: join the child that put a payload, then get the payload.

    Fine for a small payload. With one larger than the pipe buffer it deadlocks: the child waits
    for someone to read the pipe before it can exit, and the parent waits for the child to exit
    before it reads. Its ``join()`` has no timeout, so call it only inside
    ``helpers.grading.run_bounded(join_then_get, nbytes, timeout=...)``. Returns the payload's
    length. ``start_method`` names the start method (``"spawn"``...; None for the current default).
    """
    ctx: Any = multiprocessing.get_context(start_method)  # typeshed: BaseContext lacks Process
    q = ctx.Queue()
    child = ctx.Process(target=put_payload, args=(q, nbytes))
    child.start()
    child.join()  # waits for the child to exit...
    payload = q.get()  # ...but the child is waiting for this get() to empty the pipe
    return len(payload)


def get_then_join(nbytes: int, start_method: str | None = None, timeout: float = 10.0) -> int:
    """The right order: get the payload first, then join the child. Returns the payload's length.

    Raises ``queue.Empty`` when nothing arrives within ``timeout`` seconds, and
    ``TimeoutError`` when the child has still not exited ``timeout`` seconds after that.
    """
    ctx: Any = multiprocessing.get_context(start_method)  # typeshed: BaseContext lacks Process
    q = ctx.Queue()
    child = ctx.Process(target=put_payload, args=(q, nbytes))
    child.start()
    try:
        payload = q.get(timeout=timeout)  # 1. empty the pipe...
    except queue_module.Empty:
        child.kill()
        child.join()
        raise
    child.join(timeout)  # 2. ...then the child can exit
    if child.is_alive():
        child.kill()
        child.join()
        raise TimeoutError(f"the child was still running {timeout} s after its payload")
    return len(payload)


def drain(q: TimedGetQueue, count: int, timeout: float = 10.0) -> list[Any]:
    """Get exactly ``count`` items from ``q``, waiting at most ``timeout`` seconds for each.

    Raises ``TimeoutError`` naming how many arrived when one does not come in time: a lost
    item, a consumer that crashed, or a producer that is still busy.
    """
    items = []
    for _ in range(count):
        try:
            items.append(q.get(timeout=timeout))
        except queue_module.Empty:
            raise TimeoutError(
                f"got {len(items)} of {count} items; the next one did not come within {timeout} s"
            ) from None
    return items


def join_queue(q: JoinableQueue[Any], timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``q.join()`` on a ``JoinableQueue``; True if it returned.

    ``JoinableQueue.join()`` takes no timeout: it returns once ``task_done()`` has been called
    for every item ever put. This waits for it in a daemon thread, so that a missing
    ``task_done()`` costs ``timeout`` seconds instead of freezing the caller.
    """
    waiter = threading.Thread(target=q.join, daemon=True, name="join_queue")
    waiter.start()
    waiter.join(timeout)
    return not waiter.is_alive()
