"""Record which processes ran a task function, whatever start method started them.

Who imports this: :func:`helpers.grading.run_bounded` (its ``trace=`` option), in the forked copy
that runs the learner's code. Not learners.

``run_bounded(f, ..., trace=["helpers.workers.count_primes"])`` replaces that module attribute,
for the duration of the call, by a :class:`TracedTask`. A learner's code that uses
``workers.count_primes`` hands the tracer to its pool; the tracer pickles by name, so a worker
started with spawn or forkserver imports the real function and runs it, and every call appends
``(pid, thread, start, end, argument)`` to a log file. The run's ``tasks`` then say which processes
really ran the tasks: a parallelism check needs no count of live children and no clock.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from helpers.timeline import TaskRecord

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
        try:
            return self._function()(*args, **kwargs)
        finally:
            line = f"{os.getpid()}\t{threading.get_ident()}\t{start}\t{time.time()}\t{args!r}\n"
            with open(self.log_path, "a") as log:
                log.write(line)


@contextmanager
def tracing(targets: Sequence[str], log_path: str) -> Iterator[None]:
    """Replace each ``module.function`` in ``targets`` by a :class:`TracedTask` meanwhile."""
    saved = []
    for target in targets:
        module_name, name = _split(target)
        module = importlib.import_module(module_name)
        original = getattr(module, name)
        saved.append((module, name, original))
        setattr(module, name, TracedTask(target, log_path, original))
    try:
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def read_trace(log_path: str) -> list[TaskRecord]:
    """The calls a traced run logged, as task records (``task`` is the argument tuple's repr)."""
    records = []
    try:
        with open(log_path) as log:
            lines = log.read().splitlines()
    except OSError:
        return records
    for line in lines:
        parts = line.split("\t", 4)
        if len(parts) != 5:
            continue
        try:
            pid, thread, start, end = int(parts[0]), int(parts[1]), float(parts[2]), float(parts[3])
        except ValueError:
            continue
        records.append(TaskRecord(parts[4], None, pid, thread, start, end))
    return records
