"""Child-side tasks and small measuring tools for lesson 08, processes versus threads.

Who imports this: ``notebooks/08_processes_vs_threads.ipynb``, its self-checks
(:mod:`helpers.selfcheck.lesson_08`), ``benchmarks/reference_08_table.py`` and the tests. The
lesson's orchestration (pools, timing loops, starting threads and processes) stays in the
notebook's cells; this module holds what a thread or a child process runs, so that it pickles
under fork, spawn and forkserver, plus two read-only helpers for the numbers.

Run in a thread or a child process:

- :func:`bump` changes the module global :data:`COUNTER` of whichever process runs it.
- :func:`hash_rounds` hashes a buffer with SHA-256: C code that releases the GIL.
- :func:`nothing` (start cost), :func:`idle` (memory of an idle worker).
- :func:`echo_pipe`, :func:`echo_queue`, :func:`echo_shared_memory`: receive data and answer.
- :func:`crash` and :func:`crash_in_a_thread`: a real crash (``abort()`` or a segfault).

Used by the caller only: :func:`limit_for` (size CPU work for this machine), :class:`Spread`
(median and range of repeated timings) and :func:`plot_speedups`.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from helpers.tasks.protocols import EventLike, GetQueue, PutQueue
from helpers.tasks.workers import count_primes

if TYPE_CHECKING:  # pragma: no cover
    from multiprocessing.connection import Connection

    from matplotlib.axes import Axes

__all__ = [
    "COUNTER",
    "KINDS",
    "Spread",
    "bump",
    "crash",
    "crash_in_a_thread",
    "echo_pipe",
    "echo_queue",
    "echo_shared_memory",
    "hash_rounds",
    "idle",
    "limit_for",
    "nothing",
    "plot_speedups",
]

KINDS = ("serial", "threads", "processes")
"""The three ways the lesson runs a list of tasks, in the order it runs them."""

COUNTER = 0
"""A module global that :func:`bump` changes, in whichever process runs it."""


# --------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class Spread:
    """The median and the range (lowest, highest) of repeated measurements.

    >>> s = Spread.of([0.30, 0.10, 0.20])
    >>> s.median, s.low, s.high, s.n
    (0.2, 0.1, 0.3, 3)
    >>> s.text("s")
    '0.20 s (0.10–0.30, 3 runs)'
    >>> Spread.of([0.002, 0.004]).text("ms", scale=1000, digits=1)
    '3.0 ms (2.0–4.0, 2 runs)'
    >>> Spread.of([1.5]).text("x")
    '1.50x (1.50–1.50, 1 run)'
    """

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        """Summarise ``values`` (at least one)."""
        values = list(values)
        if not values:
            raise ValueError("Spread.of needs at least one value")
        return cls(statistics.median(values), min(values), max(values), len(values))

    def text(self, unit: str = "", *, scale: float = 1.0, digits: int = 2) -> str:
        """``median unit (low–high, n runs)``, each value multiplied by ``scale``."""
        m, lo, hi = (f"{v * scale:.{digits}f}" for v in (self.median, self.low, self.high))
        unit = f" {unit}" if unit and unit != "x" else unit
        runs = "run" if self.n == 1 else "runs"
        return f"{m}{unit} ({lo}–{hi}, {self.n} {runs})"


def limit_for(seconds: float, probe: int = 40_000) -> int:
    """Return a ``count_primes`` limit that takes about ``seconds`` on this machine, now.

    Times ``count_primes(probe)`` once and scales it: the work grows about as
    ``limit ** 1.5`` (each number up to ``limit`` is tried by divisors up to its square root).
    The answer is rounded to a thousand and is at least 1,000. The limit is then FIXED work:
    every run of the lesson counts the same primes, however fast or busy the CPUs are.
    """
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    start = time.perf_counter()
    count_primes(probe)
    took = max(time.perf_counter() - start, 1e-6)
    limit = probe * (seconds / took) ** (2 / 3)
    return max(1_000, int(round(limit, -3)))


# --------------------------------------------------------------------------- child-side tasks


def bump(amount: int = 1) -> tuple[int, int, int]:
    """Add ``amount`` to this process's :data:`COUNTER`; return ``(pid, before, after)``.

    Run it in a thread and the caller's ``COUNTER`` changes (threads share one memory); run it
    in a child process and only the child's copy changes.
    """
    global COUNTER
    before = COUNTER
    COUNTER = before + amount
    return os.getpid(), before, COUNTER


def hash_rounds(megabytes: int, rounds: int) -> str:
    """Hash a buffer of ``megabytes`` MiB ``rounds`` times with SHA-256; return the last digest.

    CPU-bound, but in C: ``hashlib`` releases the GIL while it hashes data larger than
    2047 bytes, so several threads can hash at the same time on several CPUs.
    """
    data = bytes(megabytes * 2**20)
    digest = ""
    for _ in range(rounds):
        digest = hashlib.sha256(data).hexdigest()
    return digest


def nothing() -> None:
    """Do nothing: a target whose only cost is starting and stopping what runs it."""


def idle(ready: EventLike, stop: EventLike, timeout: float = 30.0) -> None:
    """Set the event ``ready``, then wait (at most ``timeout`` s) until ``stop`` is set.

    A thread or process running this is alive and doing nothing, so its memory can be measured.
    ``ready`` and ``stop`` are ``threading.Event`` objects for a thread and ``ctx.Event()``
    objects for a process.
    """
    ready.set()
    stop.wait(timeout)


def echo_pipe(conn: Connection) -> None:
    """Receive byte strings with ``conn.recv_bytes()``; answer each with its length.

    An empty message ends the loop. Every byte was copied through the pipe into this process.
    """
    while True:
        data = conn.recv_bytes()
        if not data:
            break
        conn.send(len(data))
    conn.close()


def echo_queue(inbox: GetQueue, outbox: PutQueue) -> None:
    """Take byte strings from ``inbox``; put each one's length on ``outbox``. ``None`` ends it.

    Works with a ``multiprocessing`` queue (the data is pickled and copied) and with a
    ``queue.Queue`` between threads (only a reference to the same object is passed).
    """
    while True:
        data = inbox.get()
        if data is None:
            break
        outbox.put(len(data))


def echo_shared_memory(conn: Connection, name: str) -> None:
    """Attach to the ``SharedMemory`` block ``name``; for each size ``n`` received, answer its last byte.

    Nothing is copied: the child reads the parent's bytes where they are. ``None`` ends the loop.
    """
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(name=name)
    buf = shm.buf
    try:
        while buf is not None:
            n = conn.recv()
            if n is None:
                break
            conn.send(buf[n - 1])
    finally:
        shm.close()
        conn.close()


def _quiet_crash_setup() -> None:
    """Keep a deliberate crash silent: no faulthandler traceback, no core file."""
    import faulthandler

    faulthandler.disable()  # Jupyter kernels enable it; a forked child inherits it
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    except (ImportError, ValueError, OSError):  # Windows has no resource module
        pass


def crash(kind: str = "abort") -> None:
    """Crash the whole process that runs this, as a bug in C code would. Never returns.

    ``kind="abort"`` calls the C library's ``abort()`` (``os.abort``): on Linux and macOS the
    process dies of signal SIGABRT (exit code -6 as ``Process.exitcode`` reports it; 3 on
    Windows). ``kind="segfault"`` reads memory at address 0 (``ctypes.string_at(0)``): SIGSEGV,
    exit code -11 on Linux (on Windows, ctypes turns this into an ``OSError`` instead).
    No Python ``except`` or ``finally`` runs in either case. Run it only in a throwaway child.
    """
    if kind not in ("abort", "segfault"):
        raise ValueError(f"kind must be 'abort' or 'segfault', got {kind!r}")
    _quiet_crash_setup()
    sys.stdout.flush()
    if kind == "segfault":
        import ctypes

        ctypes.string_at(0)
    os.abort()


def crash_in_a_thread(after: float = 0.05, main_waits: float = 2.0, kind: str = "abort") -> None:
    """A process target: start a thread that crashes the process, while the main thread waits.

    The helper thread calls :func:`crash` after ``after`` seconds. The main thread meanwhile
    sleeps ``main_waits`` seconds and then returns normally, which would give exit code 0. So a
    crash's exit code, well before ``main_waits`` seconds, shows that one thread's crash took
    down every thread of its process. Run it only in a throwaway child process:
    ``ctx.Process(target=crash_in_a_thread)``.
    """
    worker = threading.Thread(target=_crash_later, args=(after, kind), daemon=True)
    worker.start()
    time.sleep(main_waits)


def _crash_later(after: float, kind: str) -> None:
    time.sleep(after)
    crash(kind)


# --------------------------------------------------------------------------- figure


def plot_speedups(
    speedups: Mapping[str, Mapping[str, Sequence[float]]],
    ax: Axes | None = None,
    *,
    cpus: int | None = None,
    title: str | None = None,
) -> Axes:
    """Bar chart of speedups over serial: one group per workload, one bar per way of running it.

    ``speedups`` maps a workload's name to ``{"threads": [...], "processes": [...]}``, the
    speedup of each repeat. A bar is the median; its black line spans the lowest to the highest
    repeat (its label sits on top). A dashed line marks 1x (no gain) and, if ``cpus`` is above 1,
    a dotted one the most that many CPUs allow for computing. Returns the axes.
    """
    import matplotlib.pyplot as plt

    if not speedups:
        raise ValueError("plot_speedups needs at least one workload")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    kinds = [k for k in KINDS if any(k in row for row in speedups.values())]
    width = 0.8 / max(1, len(kinds))
    for j, kind in enumerate(kinds):
        for i, row in enumerate(speedups.values()):
            if kind not in row:
                continue
            s = Spread.of(row[kind])
            x = i + (j - (len(kinds) - 1) / 2) * width
            ax.bar(x, s.median, width, color=f"C{j + 1}", label=kind if i == 0 else None)
            ax.vlines(x, s.low, s.high, color="black", linewidth=1.5)
            ax.text(x, s.high, f"{s.median:.1f}x", ha="center", va="bottom", fontsize=8)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    if cpus and cpus > 1:
        ax.axhline(cpus, color="grey", linestyle=":", linewidth=1)
        ax.text(len(speedups) - 0.5, cpus, f" {cpus} CPU(s)", va="bottom", ha="right", fontsize=8)
    ax.set_xticks(range(len(speedups)))
    ax.set_xticklabels(list(speedups))
    ax.set_ylabel("speedup over serial (x)")
    ax.margins(y=0.2)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax
