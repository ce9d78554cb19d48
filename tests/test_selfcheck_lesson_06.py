"""Lesson 06's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones.

The answers below are what a learner might type in the notebook (parent-side code only; the
child-side functions come from helpers.tasks.shared). The checks run them through run_bounded, which
forks, so functions defined here work whatever start method their workers use.
"""

from __future__ import annotations

from multiprocessing import shared_memory
from multiprocessing.managers import SharedMemoryManager

import numpy as np
import pytest
from support.selfcheck_cases import accepts, rejects, selfcheck_test, worked_solution

from helpers.selfcheck import lesson_06
from helpers.tasks import shared
from helpers.tasks.workers import is_prime

# --- Exercise 1: squares_in_shared_memory(ctx, count, workers) --------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
squares_solution = worked_solution("06_shared_memory", "squares_in_shared_memory", globals())


def squares_with_manager(ctx, count, workers):
    """Also right: a SharedMemoryManager unlinks the block when it shuts down."""
    with SharedMemoryManager(ctx=ctx) as smm:
        shm = smm.SharedMemory(size=count * 8)
        step = -(-count // workers)
        procs = [
            ctx.Process(target=shared.fill_squares, args=(shm.name, count, s, min(s + step, count)))
            for s in range(0, count, step)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        values = list(np.frombuffer(shm.buf, dtype=np.int64, count=count))
        name = shm.name
        shm.close()
    return name, values


def squares_stub(ctx, count, workers):
    return "no-block", [i * i for i in range(count)]


def _fill_in_processes(ctx, shm, count, bounds):
    """One shared.fill_squares process per slice ``bounds[w]:bounds[w + 1]``; the block's values."""
    procs = [
        ctx.Process(target=shared.fill_squares, args=(shm.name, count, start, stop))
        for start, stop in zip(bounds, bounds[1:])
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return np.ndarray((count,), dtype=np.int64, buffer=shm.buf).tolist()


def squares_without_unlink(ctx, count, workers):
    """The classic mistake: close() but no unlink(); the block outlives the function."""
    shm = shared_memory.SharedMemory(create=True, size=count * 8)
    values = _fill_in_processes(ctx, shm, count, [count * w // workers for w in range(workers + 1)])
    shm.close()
    return shm.name, values


def block_is_gone(out):
    """The check removed the block the answer left behind (its name is in the message)."""
    name = out.split("the block '")[1].split("'")[0]
    with pytest.raises(FileNotFoundError):
        shared_memory.SharedMemory(name=name)


def squares_view_alive(ctx, count, workers):
    """Keeps the numpy view alive while closing: BufferError."""
    shm = shared_memory.SharedMemory(create=True, size=count * 8)
    try:
        numbers = np.ndarray((count,), dtype=np.int64, buffer=shm.buf)
        shm.close()
        return shm.name, numbers.tolist()
    finally:
        shm.unlink()


def squares_gap(ctx, count, workers):
    """Slices that miss the last element."""
    shm = shared_memory.SharedMemory(create=True, size=count * 8)
    try:
        bounds = [count * w // workers for w in range(workers + 1)]
        bounds[-1] -= 1
        return shm.name, _fill_in_processes(ctx, shm, count, bounds)
    finally:
        shm.close()
        shm.unlink()


# --- Exercise 2: prime_flags_with_pool(ctx, limit, workers) ------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
flags_solution = worked_solution("06_shared_memory", "prime_flags_with_pool", globals())


def flags_variant(ctx, limit, workers):
    """Also right: a synchronised Array, one chunk per worker, apply_async."""
    flags = ctx.Array("b", limit)
    bounds = [limit * w // workers for w in range(workers + 1)]
    with ctx.Pool(workers, initializer=shared.init_flags, initargs=(flags,)) as pool:
        jobs = [
            pool.apply_async(shared.mark_primes_task, (bounds[w], bounds[w + 1]))
            for w in range(workers)
        ]
        for job in jobs:
            job.get(timeout=30)
    return flags[:]


def flags_stub(ctx, limit, workers):
    return [1 if is_prime(n) else 0 for n in range(limit)]


def flags_as_task_argument(ctx, limit, workers):
    """The classic mistake: the shared array sent with every task."""
    flags = ctx.RawArray("b", limit)
    owner = ctx.RawArray("b", limit)
    with ctx.Pool(workers) as pool:
        pool.starmap(shared.mark_primes, [(flags, owner, 0, 0, limit)])
    return list(flags)


def flags_read_too_early(ctx, limit, workers):
    """Reads the array before the tasks are done."""
    flags = ctx.RawArray("b", limit)
    with ctx.Pool(workers, initializer=shared.init_flags, initargs=(flags,)) as pool:
        pool.starmap_async(shared.mark_primes_task, [(0, limit)])
        return list(flags)


squares, flags = lesson_06.check_squares_in_shared_memory, lesson_06.check_prime_flags_with_pool
CASES = [
    *accepts(squares, squares_solution, squares_with_manager),
    rejects(squares, squares_stub, "0 process(es) were started"),
    rejects(squares, squares_without_unlink, "still existed", "unlink()", then=block_is_gone),
    rejects(squares, squares_view_alive, "close() must come after every view", "del array"),
    rejects(squares, squares_gap, "values are wrong"),
    *accepts(flags, flags_solution, flags_variant),
    rejects(flags, flags_stub, "0 process(es) were started"),
    rejects(flags, flags_as_task_argument, "RuntimeError", "initializer=shared.init_flags"),
    rejects(flags, flags_read_too_early, "flags are wrong"),
]

test_selfcheck = selfcheck_test(CASES)
