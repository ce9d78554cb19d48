"""Show what child processes print, on every platform.

On Linux and macOS the Jupyter kernel happens to capture what a child writes to its file
descriptors, so ``print`` in a child often shows up in the cell. On Windows it goes to the
terminal that started Jupyter, and the cell shows nothing. :class:`ChildOutput` does not rely on
that: children send their printed lines through a ``multiprocessing`` queue, and the parent
prints them in the cell.

Each line goes into the pipe at once, from the thread that printed it, so a line printed before a
task returned is never lost when a ``with Pool(...)`` block then terminates the workers. A thread
in the parent reads the pipe as lines come, so that children never wait on a full pipe.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from multiprocessing.context import BaseContext
from multiprocessing.queues import SimpleQueue
from typing import Any

from helpers.tasks.protocols import GetQueue, PutQueue

__all__ = ["ChildOutput", "show_source"]

Line = tuple[str, int, str, str]  # (process name, pid, "stdout" or "stderr", text)


class _QueueWriter(io.TextIOBase):
    """A text stream that sends each complete line to a queue as (name, pid, stream, line)."""

    def __init__(self, q: PutQueue, stream: str) -> None:
        self._q = q
        self._stream = stream
        self._buffer = ""

    def writable(self) -> bool:
        return True

    def _send(self, line: str) -> None:
        try:
            self._q.put((multiprocessing.current_process().name, os.getpid(), self._stream, line))
        except (OSError, ValueError):
            # The parent closed its end: print where this process would have printed anyway.
            original = sys.__stdout__ if self._stream == "stdout" else sys.__stderr__
            if original is not None:
                original.write(line + "\n")

    def write(self, text: str) -> int:
        self._buffer += text
        if "\n" in text:
            *lines, self._buffer = self._buffer.split("\n")
            for line in lines:
                self._send(line)
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            line, self._buffer = self._buffer, ""
            self._send(line)


class _Relayed:
    """Picklable wrapper: run ``func`` with stdout and stderr sent to the queue."""

    def __init__(self, func: Callable[..., Any], q: PutQueue) -> None:
        self.func = func
        self.q = q

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _QueueWriter(self.q, "stdout"), _QueueWriter(self.q, "stderr")
        try:
            return self.func(*args, **kwargs)
        except SystemExit:
            raise
        except BaseException:
            if getattr(multiprocessing.current_process(), "_target", None) is not self:
                raise  # a task in a pool: the pool sends the exception to the caller
            # A Process target: report the traceback through the queue, as multiprocessing
            # would on the child's stderr, and end with exit code 1 as it would.
            sys.stderr.write(f"Process {multiprocessing.current_process().name}:\n")
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
            sys.stdout.flush()
            sys.stdout, sys.stderr = old
            raise SystemExit(1) from None
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = old


def _read_lines(q: GetQueue, arrived: list[Line], cond: threading.Condition) -> None:
    """In the parent: move lines from the pipe to ``arrived`` until the ``None`` sentinel."""
    while True:
        try:
            item = q.get()
        except (EOFError, OSError):
            return
        if item is None:
            return
        with cond:
            arrived.append(item)
            cond.notify_all()


def _stop_reading(q: SimpleQueue[Line | None], reader: threading.Thread, owner: int) -> None:
    if os.getpid() != owner:  # a forked copy must not stop the parent's reader
        return
    if reader.is_alive():
        q.put(None)
        reader.join(5)
    if not reader.is_alive():
        q.close()


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

    def __init__(self, ctx: BaseContext | None = None) -> None:
        self._ctx = ctx if ctx is not None else multiprocessing.get_context()
        # A SimpleQueue writes in the caller's thread; a Queue hands the line to a feeder thread,
        # which a terminated pool worker may not have let run yet.
        self._queue = self._ctx.SimpleQueue()
        self.lines: list[Line] = []
        self._arrived: list[Line] = []
        self._cond = threading.Condition()
        self._reader: threading.Thread | None = threading.Thread(
            target=_read_lines,
            args=(self._queue, self._arrived, self._cond),
            name="ChildOutput reader",
            daemon=True,
        )
        self._reader.start()
        self._finalizer = weakref.finalize(
            self, _stop_reading, self._queue, self._reader, os.getpid()
        )

    def __getstate__(self) -> dict[str, Any]:
        # A child only needs the queue (pickled while the child starts, e.g. for out.install).
        return {"_queue": self._queue}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._queue = state["_queue"]
        self.lines = []
        self._arrived = []
        self._cond = threading.Condition()
        self._reader = None

    def wrap(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Return a picklable ``func`` whose printed output is sent to the parent."""
        return _Relayed(func, self._queue)

    def install(self) -> None:
        """Send this process's printed output to the parent (use as a Pool ``initializer``)."""
        sys.stdout = _QueueWriter(self._queue, "stdout")
        sys.stderr = _QueueWriter(self._queue, "stderr")

    def _pipe_empty(self) -> bool:
        try:
            return self._queue.empty()
        except (OSError, ValueError):
            return True

    def collect(self, timeout: float = 0.5) -> list[Line]:
        """Fetch the lines that have arrived, waiting up to ``timeout`` s for the first one.

        After the first line it waits until the pipe is empty and no line has come for 0.05 s.
        """
        deadline = time.monotonic() + max(timeout, 0) + 30  # never wait for ever on a chatty child
        with self._cond:
            self._cond.wait_for(lambda: bool(self._arrived), timeout)
            while time.monotonic() < deadline:
                seen = len(self._arrived)
                self._cond.wait(0.05)
                if len(self._arrived) == seen and self._pipe_empty():
                    break
            new = list(self._arrived)
            self._arrived.clear()
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
        """Stop reading and release the queue. Lines not collected yet are dropped."""
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer()


def show_source(*objects: Any) -> Any:
    """Return the source code of ``objects`` (functions, classes), ready to display in a notebook.

    In a notebook the last line of a cell, ``show_source(f)``, shows ``f``'s source with syntax
    highlighting (an ``IPython.display.Code``); outside IPython it returns the plain text. Use it
    to read the child-side functions a lesson runs, which live in ``helpers`` so that every start
    method can find them.
    """
    import inspect

    text = "\n\n".join(inspect.getsource(obj).rstrip() for obj in objects) + "\n"
    try:
        from IPython.display import Code
    except ImportError:  # pragma: no cover - IPython is installed with JupyterLab
        return text
    return Code(text, language="python")
