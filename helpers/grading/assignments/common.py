"""What the assignments' instruments share: start a group of processes, collect, stop them.

Who imports this: the instrument modules of :mod:`helpers.grading.assignments` (``lock``,
``shared_memory``). It runs where they run, inside :func:`helpers.grading.run_bounded` (in the
sandbox when grading). A check picks its context with :func:`checks_context`, which refuses at once
a learner function that a spawned child could not find; :func:`run_group` starts its processes,
collects one report from each on a queue and stops whatever is left; the children wait at a
barrier with :func:`wait_at` and send any error back as :func:`error_of`.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Barrier
from typing import TYPE_CHECKING, Any, cast

from helpers.instruments.safety import check_spawn_safe
from helpers.tasks.protocols import TimedGetQueue

if TYPE_CHECKING:
    from helpers.tasks.protocols import ProcessContext

__all__ = ["checks_context", "collect", "drain", "error_of", "run_group", "stop", "wait_at"]


def checks_context(
    start_method: str | None, preload: str, *learner_functions: Callable[..., object]
) -> ProcessContext:
    """The context a check starts its processes with, once each learner function is known to be
    spawn-safe (:class:`helpers.NotSpawnSafeError` otherwise, before anything starts).

    By default that is forkserver where it exists, with the module ``preload`` (the one whose
    targets the children run) preloaded: each child is then a fork of a server that has already
    imported it, which starts in milliseconds, where spawn would start a fresh interpreter per
    child (a second or more on a busy machine). A forkserver child is as strict as a spawned one:
    it gets the learner's function by pickle and must import it, so a function defined in the
    notebook fails in the same way. ``start_method`` names another start method instead.
    """
    if start_method is None and "forkserver" in multiprocessing.get_all_start_methods():
        ctx: ProcessContext = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([preload])
    else:
        ctx = cast("ProcessContext", multiprocessing.get_context(start_method))
    for func in learner_functions:
        check_spawn_safe(func, ctx.get_start_method())
    return ctx


def run_group(
    procs: Sequence[BaseProcess], results: TimedGetQueue, expected: int, seconds: float
) -> tuple[list[Any], list[int | None]]:
    """Start every process, collect up to ``expected`` reports from ``results`` within ``seconds``
    (:func:`collect`), then :func:`stop` them all: ``(reports, exit codes)``."""
    for p in procs:
        p.start()
    reports = collect(results, procs, expected, seconds)
    return reports, stop(procs)


def collect(
    q: TimedGetQueue, procs: Sequence[BaseProcess], expected: int, seconds: float
) -> list[Any]:
    """Up to ``expected`` items from ``q`` within ``seconds``; stop early once every process ended."""
    got: list[Any] = []
    deadline = time.monotonic() + seconds
    while len(got) < expected:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            got.append(q.get(timeout=min(0.2, remaining)))
        except queue_module.Empty:
            if not any(p.is_alive() for p in procs):
                got.extend(drain(q))
                break
    return got


def drain(q: TimedGetQueue, wait: float = 0.2) -> list[Any]:
    """Everything on ``q`` now (waiting ``wait`` seconds for each, for feeder threads)."""
    got = []
    while True:
        try:
            got.append(q.get(timeout=wait))
        except queue_module.Empty:
            return got


def stop(procs: Sequence[BaseProcess], grace: float = 1.0) -> list[int | None]:
    """Join every process (``grace`` s in all), kill what is left; return the exit codes."""
    deadline = time.monotonic() + grace
    codes = []
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.terminate()
            p.join(1)
        if p.is_alive():
            p.kill()
            p.join(1)
        codes.append(p.exitcode)
    return codes


def wait_at(gate: Barrier, timeout: float = 10.0) -> None:
    """Wait at the barrier ``gate`` (at most ``timeout`` s); a broken or timed-out barrier is no
    error: the child goes on, and its report says what it did."""
    try:
        gate.wait(timeout)
    except threading.BrokenBarrierError:
        pass


def error_of(exc: BaseException) -> tuple[str, str]:
    """``(type name, message)`` of an exception: what a child reports of the learner's error."""
    return type(exc).__name__, str(exc)
