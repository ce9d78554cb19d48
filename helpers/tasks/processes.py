"""Child-side functions for the lesson on starting and stopping processes (``01_processes``).

Each one shows one thing about a process's life: how it ends (its exit code), what happens to
an exception, how it answers ``terminate()`` and ``kill()``, and what a daemon process may not
do. They are top-level functions of an importable module, so they pickle by reference and run
in a child started with fork, spawn or forkserver alike.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from helpers.tasks.protocols import SupportsAcquire
from helpers.tasks.workers import count_primes, square

__all__ = [
    "count_primes_to_file",
    "exit_with",
    "fail",
    "hold_lock",
    "ignore_sigterm",
    "load_reference",
    "read_records",
    "sleep_then_exit",
    "stderr_to_file",
    "stubborn_sleep",
    "try_to_start_a_child",
]


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


def ignore_sigterm(ready: Event, seconds: float) -> None:
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


def sleep_then_exit(seconds: float, code: int) -> None:
    """Sleep ``seconds``, then end this process with exit code ``code`` (``sys.exit(code)``).

    The sleep keeps the process alive long enough for a parent (or a check) to see several such
    processes running at once, when they were all started before any was joined.
    """
    time.sleep(seconds)
    sys.exit(code)


def stubborn_sleep(seconds: float) -> None:
    """Ignore SIGTERM from the first line on, then sleep ``seconds``: a process that won't quit.

    Unlike :func:`ignore_sigterm` it needs no Event, so a SIGTERM that arrives while the child is
    still starting (before the first line runs) does stop it. On Linux and macOS a SIGTERM sent
    later has no effect and only ``kill()`` (SIGKILL) ends it early; on Windows ``terminate()``
    ends it at once.
    """
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(seconds)


def count_primes_to_file(limit: int, path: str) -> int:
    """Run ``count_primes(limit)`` (fixed CPU work) and write how it went to ``path`` as JSON.

    The record holds this process's PID, the wall-clock start and end (``time.time()``, so that
    records from different processes share one time axis), the CPU seconds this process spent
    on the count (``time.process_time()``), and the count itself. The CPU time is the evidence
    for parallelism: two processes whose intervals overlap *and* who each got their full CPU
    time in that interval really ran at the same time; on one CPU their intervals still overlap,
    but each got only part of the CPU and the wall-clock interval is longer than the CPU time.
    Returns the count (which, as for any target, the parent never sees).
    """
    cpu_before = time.process_time()
    start = time.time()
    result = count_primes(limit)
    end = time.time()
    cpu = time.process_time() - cpu_before
    record = {"pid": os.getpid(), "start": start, "end": end, "cpu": cpu, "result": result}
    Path(path).write_text(json.dumps(record), encoding="utf-8")
    return result


def read_records(paths: list[str] | list[Path]) -> list[dict[str, Any]]:
    """Read the JSON records that :func:`count_primes_to_file` wrote, in the order given.

    A file that is missing (its process did not finish) is skipped.
    """
    records = []
    for path in paths:
        try:
            records.append(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError:
            continue
    return records


def load_reference(name: str) -> dict[str, Any] | None:
    """Load ``notebooks/reference/<name>``, a measurement stored with the course, or None.

    It is looked for next to the notebook first (``reference/<name>``), then in the course's
    folder beside the installed ``helpers`` package.
    """
    candidates = [
        Path("reference") / name,
        Path(__file__).resolve().parents[2] / "notebooks" / "reference" / name,
    ]
    for candidate in candidates:
        if candidate.is_file():
            data: dict[str, Any] = json.loads(candidate.read_text(encoding="utf-8"))
            return data
    return None


def hold_lock(lock: SupportsAcquire, ready: Event, seconds: float) -> None:
    """Take ``lock``, call ``ready.set()``, then sleep ``seconds`` before releasing the lock.

    It stands for a worker in the middle of its critical section. If the parent terminates it
    while it sleeps, the release never happens: the lock stays taken by a process that no
    longer exists, which is what the documentation warns about for ``Process.terminate()``.
    """
    lock.acquire()
    try:
        ready.set()
        time.sleep(seconds)
    finally:
        lock.release()
