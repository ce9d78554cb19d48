"""Child-side functions for the lesson on starting and stopping processes (``01_processes``).

Each one shows one thing about a process's life: how it ends (its exit code), what happens to
an exception, how it answers ``terminate()`` and ``kill()``, and what a daemon process may not
do. They are top-level functions of an importable module, so they pickle by reference and run
in a child started with fork, spawn or forkserver alike.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from helpers.workers import square


def exit_with(code: int) -> None:
    """End this process at once with exit code ``code``, by calling ``sys.exit(code)``.

    The parent reads the code as ``Process.exitcode`` after ``join()``.
    """
    sys.exit(code)


def fail(message: str) -> None:
    """Raise ``ValueError(message)``: a target that crashes.

    ``multiprocessing`` catches the exception in the child, prints its traceback to the child's
    stderr and ends the child with exit code 1. The parent is not told what went wrong; it only
    sees the exit code.
    """
    raise ValueError(message)


def stderr_to_file(path: str, func: Callable[..., Any], *args: Any) -> Any:
    """Send this process's stderr to the file ``path`` (appending), then return ``func(*args)``.

    Use it as a ``Process`` target with ``args=(path, func, *func_args)``. The redirection is
    left in place when ``func`` raises, so the traceback that ``multiprocessing`` prints when a
    target fails ends up in the file, where the parent can read it after ``join()``. This works
    the same on every OS, whereas a child's own stderr goes to the notebook on Linux and macOS
    but to the terminal that started Jupyter on Windows.
    """
    sys.stderr = open(path, "a", encoding="utf-8", buffering=1)  # kept open until the process exits
    return func(*args)


def ignore_sigterm(ready: Any, seconds: float) -> None:
    """Ignore SIGTERM, call ``ready.set()``, then sleep ``seconds``: a process that won't quit.

    ``ready`` is a ``multiprocessing`` Event; the parent waits on it so that it sends its signal
    only after the child has started ignoring it. On Linux and macOS ``Process.terminate()``
    (SIGTERM) then has no effect, and only ``Process.kill()`` (SIGKILL, which cannot be caught or
    ignored) stops the process. On Windows both end the process at once.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready.set()
    time.sleep(seconds)


def try_to_start_a_child(timeout: float = 20.0) -> bool:
    """Try to start a child process of our own; print what happened and return True on success.

    A daemon process may not have children: ``Process.start()`` refuses with an
    ``AssertionError`` ("daemonic processes are not allowed to have children"). The reason is
    that a daemon is terminated abruptly when its parent exits, which would leave its own
    children orphaned. A non-daemon process starts the grandchild, waits for it (at most
    ``timeout`` seconds) and reports its exit code.
    """
    me = multiprocessing.current_process()
    grandchild = multiprocessing.Process(target=square, args=(7,), name=f"child-of-{me.name}")
    try:
        grandchild.start()
    except AssertionError as exc:
        print(f"daemon={me.daemon}: could not start a child: {exc}")
        return False
    grandchild.join(timeout)
    print(
        f"daemon={me.daemon}: started a child (PID {grandchild.pid}), "
        f"it ended with exit code {grandchild.exitcode}"
    )
    return True
