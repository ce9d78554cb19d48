"""What lesson 05's helpers (helpers.tasks.sync) claim, checked by behaviour, never by speed.

Each test starts a few processes with the lesson's child-side functions. Spawn is used where the
point is also that the function works under every start method.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing as mp
import os
import re
import sys
import time

import pytest
from conftest import ROOT

import helpers
from helpers.instruments.timeline import busy_cpus
from helpers.tasks import sync

FORK = mp.get_context("fork")
SPAWN = mp.get_context("spawn")


def _run(procs, timeout=30):
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout)
    assert not any(p.is_alive() for p in procs)
    return [p.exitcode for p in procs]


def _count(ctx, target, extra, workers=4, steps=50):
    counter = ctx.Value("i", 0)
    lock = ctx.Lock()
    args = {"racy": (counter, steps, 0.002), "locked": (counter, lock, steps, 0.002)}
    args["value_lock"] = (counter, steps, 0.002)
    codes = _run([ctx.Process(target=target, args=args[extra]) for _ in range(workers)])
    assert codes == [0] * workers
    return counter.value


def test_racy_increment_loses_updates_under_spawn():
    assert _count(SPAWN, sync.racy_increment, "racy") < 4 * 50


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_racy_increment_loses_updates_on_one_cpu():
    """The pause yields the CPU between read and write, so the race shows on one CPU too."""
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(saved)})
    try:
        assert helpers.usable_cpus() == 1
        assert _count(FORK, sync.racy_increment, "racy") < 4 * 50
    finally:
        os.sched_setaffinity(0, saved)


@pytest.mark.parametrize(
    "target,kind", [(sync.locked_increment, "locked"), (sync.value_lock_increment, "value_lock")]
)
def test_locked_increments_lose_nothing(target, kind):
    assert _count(FORK, target, kind) == 4 * 50


def test_plain_increment_alone_counts_every_step():
    counter = FORK.RawValue("i", 0)
    sync.plain_increment(counter, 1_000)
    assert counter.value == 1_000


def test_plain_increment_in_several_processes_never_gains():
    counter = FORK.Value("i", 0)
    _run([FORK.Process(target=sync.plain_increment, args=(counter, 5_000)) for _ in range(3)])
    assert counter.value <= 15_000


def test_lock_per_process_protects_nothing():
    counter = FORK.Value("i", 0)
    procs = [
        FORK.Process(target=sync.locked_increment, args=(counter, FORK.Lock(), 50, 0.002))
        for _ in range(4)
    ]
    _run(procs)
    assert counter.value < 4 * 50


def test_semaphore_caps_the_tasks_inside():
    slots = SPAWN.Semaphore(2)
    with SPAWN.Pool(4, initializer=sync.init_guard, initargs=(slots,)) as pool:
        records = pool.map_async(sync.guarded_task, [(i) for i in range(8)], chunksize=1).get(60)
    assert helpers.max_concurrency(records) <= 2
    assert len(records) == 8


def test_guarded_task_without_initializer_says_what_to_do():
    with pytest.raises(RuntimeError, match="init_guard"):
        sync.guarded_task("t", 0)


def test_lock_cannot_be_a_pool_task_argument():
    with FORK.Pool(1) as pool, pytest.raises(RuntimeError, match="inheritance"):
        pool.apply_async(sync.critical_section, (FORK.Lock(), "t", 0)).get(timeout=20)


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS cannot check (no sem_getvalue)")
def test_bounded_semaphore_refuses_an_extra_release():
    with pytest.raises(ValueError):
        FORK.BoundedSemaphore(2).release()
    plain = FORK.Semaphore(2)
    plain.release()
    assert sum(plain.acquire(block=False) for _ in range(5)) == 3


def test_terminate_leaves_the_lock_held():
    lock = FORK.Lock()
    holder = FORK.Process(target=sync.critical_section, args=(lock, "holder", 30))
    holder.start()
    deadline = time.monotonic() + 20
    while lock.acquire(block=False):
        lock.release()
        assert time.monotonic() < deadline, "the child never took the lock"
        time.sleep(0.01)
    holder.terminate()
    holder.join(10)
    assert holder.exitcode == -15
    assert lock.acquire(timeout=0.5) is False


def test_event_start_and_stop():
    go, stop, results = SPAWN.Event(), SPAWN.Event(), SPAWN.Queue()
    waiter = SPAWN.Process(target=sync.wait_for_go, args=("w", go, results))
    worker = SPAWN.Process(target=sync.work_until_stopped, args=("x", stop, results, 5_000))
    waiter.start()
    worker.start()
    assert [results.get(timeout=60), results.get(timeout=60)] == ["ready", "ready"]
    go.set()
    stop.set()
    signals = [results.get(timeout=30), results.get(timeout=30)]
    waiter.join(10)
    worker.join(10)
    assert all(s.ok for s in signals)
    assert [waiter.exitcode, worker.exitcode] == [0, 0]


def test_work_until_stopped_does_fixed_rounds_and_gives_up():
    """Without a stop signal it stops after max_rounds rounds of the same work, not a clock."""
    signal = sync.work_until_stopped("x", FORK.Event(), None, primes_below=100, max_rounds=7)
    assert (signal.ok, signal.detail) == (False, 7)


def test_condition_wakes_each_waiter_at_its_target():
    cond, items, results = FORK.Condition(), FORK.Value("i", 0, lock=False), FORK.Queue()
    procs = [
        FORK.Process(target=sync.wait_until_at_least, args=(n, cond, items, n, results))
        for n in (2, 4)
    ]
    for p in procs:
        p.start()
    assert [results.get(timeout=20) for _ in procs] == ["ready", "ready"]
    for _ in range(5):
        time.sleep(0.05)
        with cond:
            items.value += 1
            cond.notify_all()
    signals = [results.get(timeout=20) for _ in procs]
    for p in procs:
        p.join(10)
    assert all(s.ok and s.detail >= s.name for s in signals)


def test_barrier_holds_every_work_phase_until_the_last_setup():
    barrier, results = SPAWN.Barrier(3), SPAWN.Queue()
    procs = [
        SPAWN.Process(target=sync.two_phase, args=(f"w{i}", barrier, s, results))
        for i, s in enumerate([0.0, 0.2, 0.4])
    ]
    for p in procs:
        p.start()
    records = [r for _ in procs for r in results.get(timeout=60)]
    for p in procs:
        p.join(10)
    setups = [r for r in records if r.task.endswith("setup")]
    works = [r for r in records if r.task.endswith("work")]
    assert min(w.start for w in works) >= max(s.end for s in setups)
    assert sorted(s.result for s in setups) == [0, 1, 2]


@pytest.mark.parametrize("ordered", [False, True])
def test_transfer_deadlocks_only_without_a_lock_order(ordered):
    balances = FORK.Array("i", [100, 100], lock=False)
    locks, together, results = [FORK.Lock(), FORK.Lock()], FORK.Barrier(2), FORK.Queue()
    jobs = [("P0", 0, 1, 30), ("P1", 1, 0, 10)]
    procs = [
        FORK.Process(
            target=sync.transfer,
            args=(n, balances, locks, s, d, a, together, results),
            kwargs={"ordered": ordered},
        )
        for n, s, d, a in jobs
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(10)
    assert all(o.done for o in outcomes) is ordered
    assert balances[0] + balances[1] == 200
    assert balances[:] == ([80, 120] if ordered else [100, 100])


@pytest.mark.parametrize("strategy", sync.STRATEGIES)
def test_every_strategy_counts_right_and_reports_cpu_time(strategy):
    counter, lock, results = FORK.Value("i", 0, lock=False), FORK.Lock(), FORK.Queue()
    together = FORK.Barrier(2)
    procs = [
        FORK.Process(
            target=sync.count_items,
            args=(strategy, counter, lock, 2_000, together, results),
            kwargs={"repeats": 3},
        )
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    records = [results.get(timeout=30) for _ in range(2 * 3)]
    for p in procs:
        p.join(10)
    assert counter.value == 3 * 2 * 2_000
    assert sorted(r.task for r in records) == sorted([(strategy, r) for r in range(3)] * 2)
    # CPU seconds: never (much) more than the wall-clock interval they were used in.
    assert all(r.result == 2_000 and 0 <= r.cpu <= r.duration + 0.02 for r in records)
    if strategy == "lock the whole loop":
        for r in range(3):
            assert helpers.max_concurrency([x for x in records if x.task[1] == r]) == 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_on_one_cpu_no_more_than_one_cpu_is_busy():
    """CPU time, unlike overlapping wall-clock intervals, cannot show parallelism one CPU lacks."""
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(saved)})
    try:
        counter, lock, results = FORK.Value("i", 0, lock=False), FORK.Lock(), FORK.Queue()
        together = FORK.Barrier(2)
        procs = [
            FORK.Process(
                target=sync.count_items,
                args=("count locally, add once", counter, lock, 20_000, together, results),
            )
            for _ in range(2)
        ]
        for p in procs:
            p.start()
        records = [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(10)
    finally:
        os.sched_setaffinity(0, saved)
    assert busy_cpus(records) <= 1.05


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown strategy"):
        sync.count_items("nope", FORK.Value("i", 0), FORK.Lock(), 1, FORK.Barrier(1), None)


def test_seconds_per_item_measures_a_small_positive_time():
    per_item = sync.seconds_per_item(units=40, sample=2_000)
    assert 0 < per_item < 0.01
    with pytest.raises(ValueError):
        sync.seconds_per_item(sample=0)


def _lesson_source() -> str:
    nb = json.loads((ROOT / "notebooks" / "05_synchronisation.ipynb").read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def _reference_script():
    path = ROOT / "notebooks" / "reference" / "05_lock_granularity.py"
    spec = importlib.util.spec_from_file_location("reference_05", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines functions only: main() runs under __main__
    return module


def test_lesson_sizes_the_work_from_usable_cpus_and_a_timed_item():
    """The lesson's timing is sized, not fixed: seconds of work from usable_cpus(), items from
    one item timed in the kernel, and repeated runs."""
    source = _lesson_source()
    assert "cpus = helpers.usable_cpus()" in source
    assert "WORK_SECONDS = min(cpus, 2)" in source
    assert "per_item = sync.seconds_per_item(UNITS)" in source
    assert "ITEMS = round(WORK_SECONDS / workers / per_item)" in source
    repeats = int(re.search(r"UNITS, REPEATS = (\d+), (\d+)", source).group(2))
    assert repeats >= 5


def test_reference_figure_matches_the_lesson():
    """The stored reference run used the lesson's workload rule, strategies and counting."""
    source = _lesson_source()
    units = int(re.search(r"UNITS, REPEATS = (\d+), (\d+)", source).group(1))
    script = _reference_script()
    assert script.UNITS == units
    ref = json.loads((ROOT / "notebooks" / "reference" / "05_lock_granularity.json").read_text())
    cpus = ref["machine"]["usable_cpus"]
    assert cpus >= 2, "the reference must come from a machine with two or more CPUs"
    assert ref["units_per_item"] == units
    assert ref["workers"] == max(2, min(cpus, 4))
    assert ref["work_seconds"] == min(cpus, 2)
    # (seconds_per_item is stored rounded to the nanosecond)
    sized = ref["work_seconds"] / ref["workers"] / ref["seconds_per_item"]
    assert ref["items_per_worker"] == pytest.approx(sized, rel=1e-3)
    assert list(ref["runs"]) == list(sync.STRATEGIES)
    expected = ref["repeats"] * ref["workers"] * ref["items_per_worker"]
    assert ref["counts"] == dict.fromkeys(sync.STRATEGIES, expected)
    for results in ref["runs"].values():
        assert len(results) == ref["repeats"] >= 5
        # never more CPUs busy than the machine had
        assert all(0 < r["cpu"] <= r["wall"] * cpus + 0.05 for r in results)
