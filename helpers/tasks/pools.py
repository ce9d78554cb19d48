"""Task and set-up functions for the process-pool lesson (``notebooks/03_pool.ipynb``).

Like :mod:`helpers.tasks.workers`, everything here is defined at the top level of an importable module,
so pool workers started with fork, spawn or forkserver can find it by name.

- :func:`load_prime_table` is a pool ``initializer``: it runs once in each worker, before any
  task, and keeps its result in a module-level variable of that worker.
- :func:`lookup_prime` is a task that uses what the initializer prepared.
- :func:`crash_if_negative` ends its worker abruptly (as a segfault or the out-of-memory killer
  would), to show what a pool does when a worker dies instead of raising an exception.
- :func:`square_in_worker` answers with the PID that computed it, or raises ``ValueError`` for a
  negative input (for the exercise that keeps every result).
- :func:`reject_negative` raises :class:`TaskRejected`, an exception that pickles in the worker
  but cannot be rebuilt in the parent (its ``__init__`` needs two arguments);
  :func:`reject_negative_fixed` raises :class:`TaskRejectedFixed`, the same exception written so
  that it survives the trip.
"""

from __future__ import annotations

import os
from typing import NamedTuple

__all__ = [
    "Lookup",
    "Squared",
    "TaskRejected",
    "TaskRejectedFixed",
    "crash_if_negative",
    "load_prime_table",
    "lookup_prime",
    "reject_negative",
    "reject_negative_fixed",
    "square_in_worker",
]

# Per-worker state, filled by load_prime_table() in each worker process. The parent's copy stays
# empty unless the parent calls load_prime_table() itself.
_TABLE: frozenset[int] | None = None
_LIMIT = 0
_BUILDS = 0
_SERVED = 0


class Lookup(NamedTuple):
    """The answer of :func:`lookup_prime`, with who answered and what that worker had done."""

    n: int
    is_prime: bool
    pid: int
    builds: int
    """How many times this worker built its table (1: the initializer ran once)."""
    served: int
    """How many lookups this worker has answered so far, this one included."""


def load_prime_table(limit: int) -> None:
    """Build this process's table of the primes below ``limit`` (a pool ``initializer``).

    Use it as ``Pool(initializer=load_prime_table, initargs=(limit,))``: every worker builds the
    table once, when it starts, and then answers any number of :func:`lookup_prime` tasks from
    it. This is the pattern for any expensive per-worker set-up (opening a connection, loading a
    model, reading a large file) that you do not want to repeat, or to pickle, for each task.
    """
    global _TABLE, _LIMIT, _BUILDS, _SERVED
    if limit < 2:
        raise ValueError(f"limit must be at least 2, got {limit}")
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytes(len(range(i * i, limit, i)))
    _TABLE = frozenset(i for i, flag in enumerate(sieve) if flag)
    _LIMIT = limit
    _BUILDS += 1
    _SERVED = 0


def lookup_prime(n: int) -> Lookup:
    """Answer "is ``n`` prime?" from the table that :func:`load_prime_table` built in this worker.

    Raises ``RuntimeError`` in a process where the initializer did not run.
    """
    global _SERVED
    if _TABLE is None:
        raise RuntimeError(
            "lookup_prime needs the worker's prime table: create the pool with "
            "initializer=load_prime_table, initargs=(limit,)"
        )
    if not 0 <= n < _LIMIT:
        raise ValueError(f"{n} is outside this worker's prime table (0 to {_LIMIT - 1})")
    _SERVED += 1
    return Lookup(n, n in _TABLE, os.getpid(), _BUILDS, _SERVED)


def crash_if_negative(x: float) -> float:
    """Return ``x * x``, or end this process at once, without an exception, for a negative ``x``.

    ``os._exit`` skips all clean-up, as a crash in C code or a kill signal would: the pool gets
    no exception to send back, only a worker that has disappeared.
    """
    if x < 0:
        os._exit(1)
    return x * x


class TaskRejected(Exception):
    """A task's error with two required arguments: it CANNOT make the trip back to the parent.

    ``Exception`` pickles as its class and ``self.args``. Here ``args`` is the one formatted
    message passed to ``super().__init__``, so unpickling calls ``TaskRejected(message)``, which
    fails with ``TypeError: ... missing 1 required positional argument: 'reason'``. The worker
    sends it happily; the parent cannot read it.
    """

    def __init__(self, item: object, reason: str) -> None:
        super().__init__(f"item {item!r} rejected: {reason}")
        self.item = item
        self.reason = reason


class TaskRejectedFixed(Exception):
    """:class:`TaskRejected` written to survive pickling: every ``__init__`` argument is in ``args``.

    >>> import pickle
    >>> pickle.loads(pickle.dumps(TaskRejectedFixed(-1, "negative"))).reason
    'negative'
    """

    def __init__(self, item: object, reason: str) -> None:
        super().__init__(item, reason)  # args == (item, reason): unpickling calls cls(*args)
        self.item = item
        self.reason = reason

    def __str__(self) -> str:
        return f"item {self.item!r} rejected: {self.reason}"


def reject_negative(x: float) -> float:
    """Return ``x * x``, or raise :class:`TaskRejected` (which cannot be unpickled) for ``x < 0``."""
    if x < 0:
        raise TaskRejected(x, "negative")
    return x * x


def reject_negative_fixed(x: float) -> float:
    """Return ``x * x``, or raise :class:`TaskRejectedFixed` (which unpickles) for ``x < 0``."""
    if x < 0:
        raise TaskRejectedFixed(x, "negative")
    return x * x


class Squared(NamedTuple):
    """The answer of :func:`square_in_worker`: the input, its square and who computed it."""

    x: float
    square: float
    pid: int


def square_in_worker(x: float) -> Squared:
    """Return ``Squared(x, x * x, pid)``, or raise ``ValueError`` for a negative ``x``."""
    if x < 0:
        raise ValueError(f"negative input: {x}")
    return Squared(x, x * x, os.getpid())
