"""Show what child processes print, on every platform.

On Linux and macOS the Jupyter kernel happens to capture what a child writes to its file
descriptors, so ``print`` in a child often shows up in the cell. On Windows it goes to the
terminal that started Jupyter, and the cell shows nothing. :class:`ChildOutput` does not rely on
that: children send their printed lines through a ``multiprocessing`` queue, and the parent
prints them in the cell.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import queue as queue_module
import sys
from collections.abc import Callable
from typing import Any


class _QueueWriter(io.TextIOBase):
    """A text stream that sends each complete line to a queue as (pid, stream, line)."""

    def __init__(self, q: Any, stream: str) -> None:
        self._q = q
        self._stream = stream
        self._buffer = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self._q.put((multiprocessing.current_process().name, os.getpid(), self._stream, line))
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            line, self._buffer = self._buffer, ""
            self._q.put((multiprocessing.current_process().name, os.getpid(), self._stream, line))


class _Relayed:
    """Picklable wrapper: run ``func`` with stdout and stderr sent to the queue."""

    def __init__(self, func: Callable[..., Any], q: Any) -> None:
        self.func = func
        self.q = q

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _QueueWriter(self.q, "stdout"), _QueueWriter(self.q, "stderr")
        try:
            return self.func(*args, **kwargs)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = old


class ChildOutput:
    """Collect what children print and show it in the parent, the same way on every OS.

    For a ``Process``::

        out = ChildOutput(ctx)
        p = ctx.Process(target=out.wrap(greet), args=("Alice",))
        p.start(); p.join(); out.show()

    For a ``Pool``, install the redirection in each worker::

        with ctx.Pool(2, initializer=out.install) as pool:
            pool.map(greet, names)
        out.show()

    ``ctx`` is a multiprocessing context (``multiprocessing.get_context("spawn")``); by default
    the one in force.
    """

    def __init__(self, ctx: Any = None) -> None:
        self._ctx = ctx if ctx is not None else multiprocessing.get_context()
        self._queue = self._ctx.Queue()
        self.lines: list[tuple[str, int, str, str]] = []

    def wrap(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Return a picklable ``func`` whose printed output is sent to the parent."""
        return _Relayed(func, self._queue)

    def install(self) -> None:
        """Send this process's printed output to the parent (use as a Pool ``initializer``)."""
        sys.stdout = _QueueWriter(self._queue, "stdout")
        sys.stderr = _QueueWriter(self._queue, "stderr")

    def collect(self, timeout: float = 0.5) -> list[tuple[str, int, str, str]]:
        """Fetch the lines that have arrived, waiting up to ``timeout`` s for the first one."""
        new = []
        wait = timeout
        while True:
            try:
                new.append(self._queue.get(timeout=wait))
            except queue_module.Empty:
                break
            wait = 0.05
        self.lines.extend(new)
        return new

    def show(self, timeout: float = 0.5) -> list[str]:
        """Print the lines that arrived, each prefixed with the child's name and PID.

        Returns the printed lines. Call it after ``join()``, so that the children have finished.
        """
        printed = []
        for name, pid, stream, line in self.collect(timeout):
            tag = f"[{name} pid={pid}{' stderr' if stream == 'stderr' else ''}]"
            printed.append(f"{tag} {line}")
            print(printed[-1])
        return printed

    def close(self) -> None:
        """Release the queue."""
        self._queue.close()
        self._queue.join_thread()
