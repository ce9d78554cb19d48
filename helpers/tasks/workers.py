"""Task functions to run in worker processes.

They are defined at the top level of an importable module, so a child process started with any
start method can find them by name (``helpers.tasks.workers.count_primes``). A function defined in a
notebook cell cannot be found that way under spawn or forkserver.
"""

from __future__ import annotations

import os
import random
import time

__all__ = [
    "count_primes",
    "count_primes_in_range",
    "estimate_pi",
    "fail_if_negative",
    "greet",
    "is_prime",
    "sleep_task",
    "slow_square",
    "spin",
    "square",
    "whoami",
]


def is_prime(n: int) -> bool:
    """Return True if ``n`` is prime, by trial division (deliberately plain and CPU-bound)."""
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    divisor = 3
    while divisor * divisor <= n:
        if n % divisor == 0:
            return False
        divisor += 2
    return True


def count_primes(limit: int) -> int:
    """Return how many primes are smaller than ``limit``.

    CPU-bound and FIXED work: the same ``limit`` always costs the same number of steps, so a
    task takes longer when it has to share a CPU. That is what makes it evidence: if two calls
    finish in the time of one, two CPUs really worked at once. About 0.2 s for 200_000 and 0.6 s
    for 400_000 on a 2020s laptop core.
    """
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise TypeError(f"count_primes needs an int limit, got {type(limit).__name__}")
    return sum(1 for n in range(limit) if is_prime(n))


def count_primes_in_range(start: int, stop: int) -> int:
    """Return how many primes ``n`` satisfy ``start <= n < stop`` (use with ``starmap``)."""
    return sum(1 for n in range(start, stop) if is_prime(n))


def estimate_pi(samples: int, seed: int | None = None) -> float:
    """Estimate pi by Monte Carlo with ``samples`` random points. CPU-bound.

    Pass a different ``seed`` to each task: forked children inherit the parent's random state,
    so unseeded tasks can draw the very same "random" numbers.
    """
    if samples <= 0:
        raise ValueError(f"samples must be positive, got {samples}")
    rng = random.Random(seed)
    inside = 0
    for _ in range(samples):
        x = rng.random()
        y = rng.random()
        if x * x + y * y <= 1.0:
            inside += 1
    return 4.0 * inside / samples


def spin(seconds: float) -> float:
    """Keep one CPU busy until ``seconds`` of wall-clock time have passed; return the time spent.

    NOT evidence of parallelism: ``spin`` stops when the clock says so, however little it
    computed. Two ``spin(1.0)`` tasks on ONE CPU both "finish in 1.0 s" with overlapping
    timeline bars, having each computed for half a second. To show a speedup or an overlap, use
    fixed work such as :func:`count_primes` and look at CPU time (:func:`helpers.timed` records
    it). ``spin`` stays for demos where only the passing of busy time matters.
    """
    start = time.perf_counter()
    x = 0
    while time.perf_counter() - start < seconds:
        for _ in range(1000):
            x += 1
    return time.perf_counter() - start


def sleep_task(seconds: float) -> float:
    """Sleep for ``seconds`` (an I/O-bound stand-in: waiting, not computing) and return it."""
    if seconds < 0:
        raise ValueError(f"cannot sleep for a negative time ({seconds} s)")
    time.sleep(seconds)
    return seconds


def square(x: float) -> float:
    """Return ``x * x``."""
    return x * x


def slow_square(x: float, seconds: float = 0.2) -> float:
    """Return ``x * x`` after sleeping ``seconds``, so that a task takes visible time."""
    time.sleep(seconds)
    return x * x


def fail_if_negative(x: float) -> float:
    """Return ``x * x``, or raise ``ValueError`` for a negative ``x`` (to show error handling)."""
    if x < 0:
        raise ValueError(f"negative input: {x}")
    return x * x


def whoami(tag: object = None) -> tuple[object, int, int]:
    """Return ``(tag, pid, ppid)`` of the process that runs the call."""
    return tag, os.getpid(), os.getppid()


def greet(name: str) -> str:
    """Print and return a greeting that names the worker and its process ID.

    The course's first example: run it in two processes and see two different PIDs.
    """
    message = f"Worker {name}: my process ID is {os.getpid()}, my parent is {os.getppid()}"
    print(message, flush=True)
    return message
