"""Record which processes ran a task function, whatever start method started them.

Who imports this: :func:`helpers.grading.run_bounded` (its ``trace=`` option), in the forked copy
that runs the learner's code. Not learners.

``run_bounded(f, ..., trace=["helpers.tasks.workers.count_primes"])`` makes every pool (a
``multiprocessing`` pool, a thread pool or a ``ProcessPoolExecutor``) that is handed that
function receive a :class:`TracedTask` instead, for the duration of the call. The tracer pickles
by name, so a worker started with spawn or forkserver imports the real function and runs it, and
every call appends ``(pid, thread, start, end, argument)`` to a log file. The run's ``tasks`` then say which processes
really ran the tasks: a parallelism check needs no count of live children and no clock.
"""

from __future__ import annotations

import ast
import functools
import importlib
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

from helpers.instruments.timeline import TaskRecord

__all__ = ["TracedTask", "read_trace", "tracing"]


def _split(target: str) -> tuple[str, str]:
    module, _, name = target.rpartition(".")
    if not module:
        raise ValueError(f"trace needs 'module.function', got {target!r}")
    return module, name


class TracedTask:
    """A stand-in for ``target`` (``"module.function"``) that logs each call, then runs it."""

    def __init__(self, target: str, log_path: str, original: Any = None) -> None:
        self.target = target
        self.log_path = log_path
        self._original = original
        module, name = _split(target)
        self.__name__ = self.__qualname__ = name
        self.__module__ = module

    def __reduce__(self) -> tuple[Any, ...]:
        return (TracedTask, (self.target, self.log_path))

    def _function(self) -> Any:
        if self._original is not None:
            return self._original
        module, name = _split(self.target)
        found = getattr(importlib.import_module(module), name)
        # In a forked child the attribute is still this tracer: unwrap it.
        return found._function() if isinstance(found, TracedTask) else found

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.time()
        chunk = _chunk_of_caller()
        try:
            return self._function()(*args, **kwargs)
        finally:
            line = (
                f"{os.getpid()}\t{threading.get_ident()}\t{start}\t{time.time()}\t{chunk!r}\t"
                f"{args!r}\n"
            )
            with open(self.log_path, "a") as log:
                log.write(line)


def _chunk_of_caller() -> tuple[str, int] | None:
    """The chunk a pool worker is running this call in: (its first item's repr, its size).

    ``multiprocessing.pool`` runs a chunk as ``mapstar((func, chunk))`` and
    ``ProcessPoolExecutor`` as ``_process_chunk(fn, chunk)``: the caller's frames hold it.
    """
    frame: FrameType | None = sys._getframe(2)
    for _ in range(4):
        if frame is None:
            return None
        name = frame.f_code.co_name
        if name in ("mapstar", "starmapstar"):
            chunk = frame.f_locals.get("args", (None, None))[1]
        elif name == "_process_chunk":
            chunk = frame.f_locals.get("chunk")
        else:
            frame = frame.f_back
            continue
        try:
            items = list(chunk)
        except TypeError:
            return None
        if not items:
            return None
        first = items[0][0] if name != "mapstar" and isinstance(items[0], tuple) else items[0]
        return (repr(first), len(items))
    return None


def _substitute(originals: dict[int, TracedTask], func: Any) -> Any:
    """The tracer for a traced function; also inside a ``functools.partial`` (as
    ``ProcessPoolExecutor.map`` wraps it)."""
    if isinstance(func, functools.partial):
        args = [originals.get(id(a), a) for a in func.args]
        return functools.partial(func.func, *args, **func.keywords)
    return originals.get(id(func), func)


@contextmanager
def tracing(targets: Sequence[str], log_path: str) -> Iterator[None]:
    """Meanwhile, hand a :class:`TracedTask` to any pool that is given a ``targets`` function.

    ``Pool.map``/``imap``/``apply_async``/... (thread pools too) and
    ``ProcessPoolExecutor.submit``/``map`` receive the tracer instead of the function itself.
    The function object is not replaced anywhere, so code that imported it by name still pickles
    it; a call made directly, not through a pool, is simply not traced.
    """
    if not targets:
        yield
        return
    from concurrent.futures import process as futures_process
    from multiprocessing import pool as mp_pool

    originals: dict[int, TracedTask] = {}
    for target in targets:
        module_name, name = _split(target)
        function = getattr(importlib.import_module(module_name), name)
        originals[id(function)] = TracedTask(target, log_path, function)

    patched: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, method: str) -> None:
        original_method = getattr(owner, method)

        def replacement(self: Any, func: Any, *args: Any, **kwargs: Any) -> Any:
            return original_method(self, _substitute(originals, func), *args, **kwargs)

        patched.append((owner, method, original_method))
        setattr(owner, method, replacement)

    for method in ("apply_async", "_map_async", "imap", "imap_unordered"):
        wrap(mp_pool.Pool, method)
    wrap(futures_process.ProcessPoolExecutor, "submit")
    try:
        yield
    finally:
        for owner, method, original_method in reversed(patched):
            setattr(owner, method, original_method)


def read_trace(log_path: str) -> list[TaskRecord]:
    """The calls a traced run logged, as task records.

    ``task`` is the repr of the call's argument tuple; ``result`` is the chunk the call ran in,
    ``(repr of the chunk's first item, chunk size)``, or None when it was not run in a chunk.
    """
    records: list[TaskRecord] = []
    try:
        with open(log_path) as log:
            lines = log.read().splitlines()
    except OSError:
        return records
    for line in lines:
        parts = line.split("\t", 5)
        if len(parts) != 6:
            continue
        try:
            pid, thread, start, end = int(parts[0]), int(parts[1]), float(parts[2]), float(parts[3])
            chunk = ast.literal_eval(parts[4])
        except (ValueError, SyntaxError):
            continue
        records.append(TaskRecord(parts[5], chunk, pid, thread, start, end))
    return records
