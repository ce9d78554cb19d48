"""What lesson 07's helpers (helpers.tasks.managed) claim, checked by behaviour, never by speed."""

from __future__ import annotations

import multiprocessing as mp
import os
import sys

import pytest

from helpers.tasks import managed

SPAWN = mp.get_context("spawn")


@pytest.fixture(scope="module")
def manager():
    with SPAWN.Manager() as m:
        yield m


def test_a_proxy_call_runs_in_the_manager(manager):
    results, log = manager.dict(), manager.list()
    with SPAWN.Pool(2) as pool:
        squares = pool.starmap(managed.record_square, [(results, log, x) for x in range(6)])
    assert dict(results) == {x: x * x for x in range(6)} and squares == [x * x for x in range(6)]
    assert len(log) == 6 and os.getpid() not in set(log)


def test_a_managed_queue_travels_in_a_pool_task(manager):
    progress = manager.Queue()
    with SPAWN.Pool(2) as pool:
        squares = pool.starmap(managed.square_with_progress, [(progress, x, 0) for x in range(4)])
    assert sorted(progress.get(timeout=10) for _ in range(4)) == [0, 1, 2, 3]
    assert squares == [0, 1, 4, 9]


def test_nested_mutation_through_a_proxy_is_lost(manager):
    shared = manager.dict(k=[])
    assert managed.append_to(shared, "k", 1) == []  # the append changed a copy
    assert shared["k"] == []
    shared["k"] = manager.list()
    assert managed.append_to(shared, "k", 1) == [1]
    assert list(shared["k"]) == [1]


def test_unlocked_increments_through_a_manager_are_lost(manager):
    counter, together = manager.dict(n=0), manager.Barrier(2)
    with SPAWN.Pool(2) as pool:
        jobs = [
            pool.apply_async(
                managed.add_to_counter, (counter, "n", 30), {"pause": 0.002, "together": together}
            )
            for _ in range(2)
        ]
        assert sum(job.get(timeout=60) for job in jobs) == 60
    assert counter["n"] < 60


def test_a_manager_lock_keeps_every_increment(manager):
    counter, lock, together = manager.dict(n=0), manager.Lock(), manager.Barrier(2)
    with SPAWN.Pool(2) as pool:
        jobs = [
            pool.apply_async(
                managed.add_to_counter,
                (counter, "n", 30),
                {"pause": 0.002, "together": together, "lock": lock},
            )
            for _ in range(2)
        ]
        for job in jobs:
            job.get(timeout=60)
    assert counter["n"] == 60


def test_a_managed_value_has_no_lock_and_no_type_check(manager):
    box = manager.Value("i", 0)
    box.value = "text"
    assert box.value == "text" and not hasattr(box, "get_lock")


@pytest.mark.skipif(sys.version_info < (3, 14), reason="SyncManager.set is new in Python 3.14")
def test_managed_set_exists_from_3_14(manager):
    tags = manager.set()
    tags.add("x")
    assert "x" in tags


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="SyncManager.set exists from 3.14")
def test_no_managed_set_before_3_14(manager):
    assert not hasattr(manager, "set")


def test_a_tally_lives_in_its_manager_and_loses_nothing():
    lines = ["a b a", "b c", "a"]
    with managed.CourseManager(ctx=SPAWN) as cm:
        tally = cm.Tally()
        assert tally.served_by() != os.getpid()
        with SPAWN.Pool(2) as pool:
            added = pool.starmap(managed.count_words, [(tally, line) for line in lines])
        assert tally.total() == sum(added) == 6
        assert tally.most_common(1) == [("a", 3)]


def test_a_manager_without_ctx_uses_the_default_start_method():
    default = mp.get_start_method()
    assert managed.CourseManager()._ctx.get_start_method() == default
    assert managed.CourseManager(ctx=SPAWN)._ctx.get_start_method() == "spawn"


def test_remote_clients_share_one_tally_and_a_wrong_key_is_refused():
    server = managed.CourseManager(address=("127.0.0.1", 0), authkey=b"k", ctx=SPAWN)
    server.start()
    try:
        clients = [
            SPAWN.Process(
                target=managed.remote_count_words, args=(server.address, b"k", "b", "x y")
            )
            for _ in range(2)
        ]
        for p in clients:
            p.start()
        for p in clients:
            p.join(60)
        assert [p.exitcode for p in clients] == [0, 0]
        me = managed.CourseManager(address=server.address, authkey=b"k")
        me.connect()
        assert me.shared_tally("b").total() == 4
        with pytest.raises(mp.AuthenticationError):
            managed.remote_count_words(server.address, b"wrong", "b", "z")
    finally:
        server.shutdown()
