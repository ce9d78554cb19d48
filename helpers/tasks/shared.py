"""Child-side functions for lesson 06: Value, Array and multiprocessing.shared_memory.

Every function here is a top-level function of an importable module, so it can be the target of
a ``Process`` (or a ``Pool`` task) under fork, spawn and forkserver alike.

Two ways of reaching shared memory are used, and they travel differently:

- ``multiprocessing.Value`` / ``Array`` (and their ``Raw`` cousins) are passed as *objects*, and
  only when the process is created: ``Process(args=...)`` or a ``Pool`` initializer such as
  :func:`init_flags`. As a ``Pool`` task argument they raise ``RuntimeError`` ("... objects
  should only be shared between processes through inheritance").
- A ``multiprocessing.shared_memory.SharedMemory`` block (or a ``ShareableList``) is passed by
  its *name*, a short string, which can travel anywhere, task arguments included. The child
  attaches with ``SharedMemory(name=name)``, works on ``shm.buf`` and calls ``close()`` when it
  is done. It never calls ``unlink()``: destroying the block is the creator's job.

Groups of functions:

- Copies versus sharing: :func:`double_in_place`.
- Filling disjoint slices of one shared array: :func:`mark_primes`, and its ``Pool`` form
  :func:`init_flags` with :func:`mark_primes_task`.
- Attaching to a ``SharedMemory`` block by name: :func:`upper_in_place`, :func:`scale_in_place`
  (``memoryview.cast``, no numpy), :func:`scale_in_place_numpy` (numpy, imported only when
  called), :func:`fill_squares` (numpy, for the lesson's exercise), :func:`bump_shareable`
  (``ShareableList``).
- The same work on pickled data and on shared data, for timing: :func:`crc_of_bytes` versus
  :func:`crc_of_shared`, and :func:`sum_of_list` versus :func:`sum_of_shared`.
"""

from __future__ import annotations

import zlib
from multiprocessing import shared_memory
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any

from helpers.tasks.protocols import PutQueue
from helpers.tasks.workers import is_prime

__all__ = [
    "bump_shareable",
    "crc_of_bytes",
    "crc_of_shared",
    "double_in_place",
    "fill_squares",
    "init_flags",
    "mark_primes",
    "mark_primes_task",
    "scale_in_place",
    "scale_in_place_numpy",
    "sum_of_list",
    "sum_of_shared",
    "upper_in_place",
]


# --------------------------------------------------------------------------------------------
# Copies versus sharing
# --------------------------------------------------------------------------------------------


def double_in_place(
    data: list[int] | SynchronizedArray[int], results: PutQueue | None = None
) -> list[int]:
    """Double every element of ``data`` in place; put (and return) what the child then sees.

    ``data`` is anything indexable and writable: a ``list`` (the child works on its own copy,
    so the parent's list does not change) or a ``multiprocessing.Array`` / ``RawArray`` (one
    block of memory, so the parent sees the change). ``results`` is a queue for the report, or
    None when the function is called directly.
    """
    for i in range(len(data)):
        data[i] = data[i] * 2
    seen = list(data[:])
    if results is not None:
        results.put(seen)
    return seen


# --------------------------------------------------------------------------------------------
# Each worker fills its own slice of one shared array
# --------------------------------------------------------------------------------------------


def mark_primes(
    flags: SynchronizedArray[int], owner: SynchronizedArray[int], worker: int, start: int, stop: int
) -> int:
    """Set ``flags[n]`` to 1 if ``n`` is prime, else 0, for ``start <= n < stop``.

    ``flags`` and ``owner`` are shared arrays of integers (``Array("b", ...)``,
    ``RawArray("b", ...)``...) covering at least ``stop`` numbers. The worker also writes its
    number ``worker`` into ``owner[start:stop]``, so the parent can see who filled what.

    The values are computed in a private list first and written with ONE slice assignment per
    array: one trip into shared memory (and one lock acquisition, for a synchronised ``Array``)
    instead of one per element. No lock is needed at all when the workers' slices do not
    overlap, which is why the lesson uses ``lock=False``. Returns how many primes it found.
    """
    values = [1 if is_prime(n) else 0 for n in range(start, stop)]
    flags[start:stop] = values
    owner[start:stop] = [worker] * (stop - start)
    return sum(values)


# The shared flags array a Pool initializer installed in this worker process (see init_flags).
_flags: SynchronizedArray[int] | None = None


def init_flags(flags: SynchronizedArray[int]) -> None:
    """``Pool`` initializer: keep the shared ``flags`` array for :func:`mark_primes_task`.

    Use ``Pool(n, initializer=init_flags, initargs=(flags,))``: the array reaches each worker
    once, when the worker is created, which is allowed; sending it with every task is not.
    """
    global _flags
    _flags = flags


def mark_primes_task(start: int, stop: int) -> int:
    """``Pool`` task: like :func:`mark_primes` on the array :func:`init_flags` installed.

    Writes 1 or 0 into ``flags[start:stop]`` and returns how many primes it found.
    """
    if _flags is None:
        raise RuntimeError(
            "mark_primes_task needs the shared array in the worker: create the pool with "
            "Pool(n, initializer=helpers.tasks.shared.init_flags, initargs=(flags,))"
        )
    values = [1 if is_prime(n) else 0 for n in range(start, stop)]
    _flags[start:stop] = values
    return sum(values)


# --------------------------------------------------------------------------------------------
# SharedMemory blocks, attached by name
# --------------------------------------------------------------------------------------------


def upper_in_place(name: str, length: int) -> None:
    """Attach to the block ``name`` and upper-case its first ``length`` bytes (ASCII text).

    The child attaches, writes straight into ``shm.buf``, and closes its own view of the
    block. It does not unlink: the block belongs to the process that created it.
    """
    shm = shared_memory.SharedMemory(name=name)
    try:
        shm.buf[:length] = bytes(shm.buf[:length]).upper()
    finally:
        shm.close()


def scale_in_place(name: str, count: int, factor: float) -> float:
    """Multiply the first ``count`` C doubles in block ``name`` by ``factor``; return their sum.

    No numpy needed: ``shm.buf.cast("d")`` views the raw bytes as 8-byte floats. Every view
    taken of ``shm.buf`` must be released before ``shm.close()``, or ``close()`` raises
    ``BufferError``; the ``with`` statement releases it.
    """
    shm = shared_memory.SharedMemory(name=name)
    try:
        with shm.buf.cast("d") as numbers:
            for i in range(count):
                numbers[i] *= factor
            return sum(numbers[:count])
    finally:
        shm.close()


def scale_in_place_numpy(name: str, shape: tuple[int, ...], dtype: str, factor: float) -> float:
    """numpy version of :func:`scale_in_place`: ``array *= factor`` on a view of block ``name``.

    ``np.ndarray(shape, dtype, buffer=shm.buf)`` wraps the block without copying it, so
    ``shape`` and ``dtype`` must be those the creator used. The array must be deleted before
    ``shm.close()`` (it holds a view of the buffer). numpy is imported here, in the child, only
    when the function is called, so the module itself does not need numpy.
    """
    import numpy as np

    shm = shared_memory.SharedMemory(name=name)
    try:
        array = np.ndarray(shape, dtype=dtype, buffer=shm.buf)
        array *= factor
        total = float(array.sum())
        del array  # drop the view before closing
        return total
    finally:
        shm.close()


def fill_squares(name: str, count: int, start: int, stop: int) -> int:
    """Attach to block ``name``, view it as ``count`` int64 numbers, set ``a[i] = i * i`` for
    ``start <= i < stop``; return how many numbers it wrote.

    The block must hold at least ``count * 8`` bytes. numpy wraps the block without copying
    (``np.ndarray((count,), dtype=np.int64, buffer=shm.buf)``); the worker drops its array before
    it closes its view, and never unlinks: that is the creator's job, once every worker is done.
    Several workers can fill disjoint ``[start, stop)`` slices at the same time, without a lock.
    """
    import numpy as np

    shm = shared_memory.SharedMemory(name=name)
    try:
        numbers = np.ndarray((count,), dtype=np.int64, buffer=shm.buf)
        index = np.arange(start, stop, dtype=np.int64)
        numbers[start:stop] = index * index
        del numbers  # drop the view before closing
        return stop - start
    finally:
        shm.close()


def bump_shareable(name: str) -> None:
    """Attach to the ``ShareableList`` called ``name``; add 1 to item 0, upper-case item 1.

    Item 0 must be a number and item 1 a ``str``. The upper-cased text has the same length, so
    it fits in the space the creator reserved for item 1.
    """
    items: shared_memory.ShareableList[Any] = shared_memory.ShareableList(name=name)
    try:
        items[0] += 1
        items[1] = items[1].upper()
    finally:
        items.shm.close()


# --------------------------------------------------------------------------------------------
# The same work, on pickled data and on shared data (for timing)
# --------------------------------------------------------------------------------------------


def crc_of_bytes(data: bytes) -> int:
    """Return the CRC-32 of ``data``: it arrives pickled, a full copy, with the task."""
    return zlib.crc32(data)


def crc_of_shared(name: str, size: int) -> int:
    """Return the CRC-32 of the first ``size`` bytes of block ``name``, read in place.

    Only the name and the size travel with the task; the bytes are read from shared memory
    without being copied (``zlib.crc32`` accepts a memoryview).
    """
    shm = shared_memory.SharedMemory(name=name)
    try:
        with shm.buf[:size] as view:
            return zlib.crc32(view)
    finally:
        shm.close()


def sum_of_list(values: list[int]) -> int:
    """Return ``sum(values)``: the list arrives pickled, a full copy, with the task."""
    return sum(values)


def sum_of_shared(name: str, count: int, typecode: str = "q") -> int:
    """Return the sum of the first ``count`` numbers of type ``typecode`` in block ``name``.

    ``typecode`` is a ``struct`` / ``array`` code (``"q"``: 8-byte signed integers, ``"d"``:
    doubles). The numbers are read in place through ``memoryview.cast``, without a copy.
    """
    shm = shared_memory.SharedMemory(name=name)
    try:
        with shm.buf.cast(typecode) as numbers:
            return sum(numbers[:count])
    finally:
        shm.close()
