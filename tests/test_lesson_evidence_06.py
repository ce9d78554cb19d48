"""What lesson 06's helpers (helpers.tasks.shared) claim, checked by behaviour, never by speed."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import subprocess
import sys
import zlib
from collections.abc import Iterator
from multiprocessing import resource_tracker, shared_memory
from multiprocessing.managers import SharedMemoryManager

import numpy as np
import pytest

from helpers.tasks import shared
from helpers.tasks.workers import count_primes

FORK = mp.get_context("fork")
SPAWN = mp.get_context("spawn")


def _run(ctx, target, *args):
    p = ctx.Process(target=target, args=args)
    p.start()
    p.join(60)
    assert p.exitcode == 0


@contextlib.contextmanager
def new_block(size: int) -> Iterator[shared_memory.SharedMemory]:
    """A new shared memory block of ``size`` bytes, closed and unlinked after the block."""
    shm = shared_memory.SharedMemory(create=True, size=size)
    try:
        yield shm
    finally:
        shm.close()
        shm.unlink()


def _exists(name):
    try:
        block = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return False
    block.close()
    if os.name == "posix":  # attaching registered it with our tracker (Python < 3.13 always)
        resource_tracker.unregister(block._name, "shared_memory")
    return True


def test_a_child_changes_only_its_copy_of_a_list():
    results, numbers = SPAWN.Queue(), [1, 2, 3]
    _run(SPAWN, shared.double_in_place, numbers, results)
    assert results.get(timeout=10) == [2, 4, 6]
    assert numbers == [1, 2, 3]


def test_a_childs_change_to_an_array_is_visible():
    results, numbers = SPAWN.Queue(), SPAWN.Array("i", [1, 2, 3])
    _run(SPAWN, shared.double_in_place, numbers, results)
    assert numbers[:] == [2, 4, 6]


def test_workers_fill_disjoint_slices_without_a_lock():
    limit = 20_000
    flags, owner = FORK.RawArray("b", limit), FORK.RawArray("b", limit)
    bounds = [0, 7_000, 13_000, limit]
    procs = [
        FORK.Process(target=shared.mark_primes, args=(flags, owner, w, bounds[w], bounds[w + 1]))
        for w in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert sum(flags) == count_primes(limit)
    assert [owner[:].count(w) for w in range(3)] == [7_000, 6_000, 7_000]


def test_pool_task_needs_the_initializer():
    with pytest.raises(RuntimeError, match="init_flags"):
        shared.mark_primes_task(0, 10)
    flags = SPAWN.RawArray("b", 1_000)
    with SPAWN.Pool(2, initializer=shared.init_flags, initargs=(flags,)) as pool:
        found = pool.starmap(shared.mark_primes_task, [(0, 500), (500, 1_000)])
    assert sum(found) == sum(flags) == count_primes(1_000)


def test_a_raw_array_cannot_be_a_pool_task_argument():
    flags = FORK.RawArray("b", 10)
    with FORK.Pool(1) as pool, pytest.raises(RuntimeError, match="inheritance"):
        pool.apply(shared.mark_primes, (flags, flags, 0, 0, 10))


def test_raw_value_has_no_lock_and_value_has_an_rlock():
    assert not hasattr(FORK.RawValue("i", 0), "get_lock")
    lock = FORK.Value("i", 0).get_lock()
    with lock, lock:  # re-entrant
        pass


def test_a_block_is_found_by_name_and_changed_in_place():
    text = b"hello block"
    with new_block(len(text)) as shm:
        shm.buf[: len(text)] = text
        _run(SPAWN, shared.upper_in_place, shm.name, len(text))
        assert bytes(shm.buf[: len(text)]) == text.upper()


def test_scale_in_place_with_and_without_numpy():
    with new_block(4 * 8) as shm:
        with shm.buf.cast("d") as numbers:
            numbers[:4] = memoryview(np.arange(4, dtype="d").tobytes()).cast("d")
        _run(FORK, shared.scale_in_place, shm.name, 4, 10)
        _run(FORK, shared.scale_in_place_numpy, shm.name, (2, 2), "float64", 0.5)
        assert np.frombuffer(shm.buf, dtype="d", count=4).tolist() == [0.0, 5.0, 10.0, 15.0]


def test_fill_squares_writes_only_its_slice():
    with new_block(10 * 8) as shm:
        shm.buf[:80] = bytes(80)
        _run(SPAWN, shared.fill_squares, shm.name, 10, 3, 7)
        got = np.frombuffer(shm.buf, dtype=np.int64, count=10).tolist()
        assert got == [0, 0, 0, 9, 16, 25, 36, 0, 0, 0]


def test_bump_shareable_changes_the_list_in_place():
    items = shared_memory.ShareableList([41, "hello"])
    try:
        _run(SPAWN, shared.bump_shareable, items.shm.name)
        assert list(items) == [42, "HELLO"]
    finally:
        items.shm.close()
        items.shm.unlink()


def test_pickled_and_shared_variants_give_the_same_answers():
    data = bytes(range(256)) * 100
    numbers = list(range(1_000))
    with new_block(len(data)) as blob, new_block(len(numbers) * 8) as ints:
        blob.buf[: len(data)] = data
        ints.buf[: len(numbers) * 8] = np.array(numbers, dtype=np.int64).tobytes()
        assert shared.crc_of_bytes(data) == shared.crc_of_shared(blob.name, len(data))
        assert shared.crc_of_bytes(data) == zlib.crc32(data)
        assert shared.sum_of_list(numbers) == shared.sum_of_shared(ints.name, len(numbers))


def test_close_refuses_while_a_view_is_alive():
    with new_block(16) as shm:
        view = shm.buf.cast("d")
        try:
            with pytest.raises(BufferError):
                shm.close()
        finally:
            view.release()


def test_shared_memory_manager_unlinks_at_shutdown():
    with SharedMemoryManager(ctx=SPAWN) as smm:
        block = smm.SharedMemory(size=8)
        name = block.name
        _run(SPAWN, shared.upper_in_place, name, 0)
        block.close()
        assert _exists(name)
    assert not _exists(name)


@pytest.mark.skipif(os.name == "nt", reason="no resource tracker on Windows")
def test_resource_tracker_warns_about_and_removes_a_leaked_block():
    program = (
        "from multiprocessing import shared_memory\n"
        "shm = shared_memory.SharedMemory(create=True, size=64)\n"
        "print(shm.name)\n"
        "shm.close()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    assert "leaked shared_memory" in run.stderr
    assert not _exists(run.stdout.strip())
