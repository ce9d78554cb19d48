"""Lesson 07's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones.

The answers below are what a learner might type in the notebook (parent-side code only; the
child-side functions come from helpers.tasks.managed). The checks run them through run_bounded.
"""

from __future__ import annotations

from helpers.selfcheck import lesson_07
from helpers.tasks import managed

# --- Exercise 1: group_by_parity(ctx, numbers) -----------------------------------------------


def parity_solution(ctx, numbers):
    with ctx.Manager() as manager:
        shared = manager.dict()
        shared["even"] = manager.list()
        shared["odd"] = manager.list()
        tasks = [(shared, "even" if x % 2 == 0 else "odd", x) for x in numbers]
        with ctx.Pool(2) as pool:
            pool.starmap(managed.append_to, tasks)
        return {key: sorted(shared[key]) for key in ("even", "odd")}


def parity_variant(ctx, numbers):
    """Also right: a dict built from managed lists up front, apply_async, list() copies."""
    with ctx.Manager() as m:
        lists = {"even": m.list(), "odd": m.list()}
        shared = m.dict(lists)
        with ctx.Pool(3) as pool:
            jobs = [
                pool.apply_async(managed.append_to, (shared, ("odd", "even")[x % 2 == 0], x))
                for x in numbers
            ]
            for job in jobs:
                job.get(timeout=30)
        return {key: sorted(list(proxy)) for key, proxy in lists.items()}


def parity_stub(ctx, numbers):
    with ctx.Manager() as manager:
        shared = manager.dict()
        shared["even"], shared["odd"] = [], []
        tasks = [(shared, "even" if x % 2 == 0 else "odd", x) for x in numbers]
        with ctx.Pool(2) as pool:
            pool.starmap(managed.append_to, tasks)
        return {key: sorted(shared[key]) for key in ("even", "odd")}


def parity_returns_proxies(ctx, numbers):
    """Returns the proxies themselves, which die with the manager."""
    with ctx.Manager() as manager:
        shared = manager.dict(even=manager.list(), odd=manager.list())
        with ctx.Pool(2) as pool:
            pool.starmap(
                managed.append_to, [(shared, "even" if x % 2 == 0 else "odd", x) for x in numbers]
            )
        return {"even": shared["even"], "odd": shared["odd"]}


def parity_unsorted(ctx, numbers):
    with ctx.Manager() as manager:
        shared = manager.dict(even=manager.list(), odd=manager.list())
        for x in reversed(numbers):
            managed.append_to(shared, "even" if x % 2 == 0 else "odd", x)
        return {key: list(shared[key]) for key in ("even", "odd")}


def test_parity_solution_passes(capsys):
    assert lesson_07.check_group_by_parity(parity_solution)
    assert capsys.readouterr().out.startswith("✅")


def test_parity_variant_passes(capsys):
    assert lesson_07.check_group_by_parity(parity_variant)
    assert "✅" in capsys.readouterr().out


def test_parity_stub_falls_into_trap_1(capsys):
    assert not lesson_07.check_group_by_parity(parity_stub)
    out = capsys.readouterr().out
    assert out.startswith("❌") and "every append was lost" in out and "manager.list()" in out


def test_returned_proxies_are_refused(capsys):
    assert not lesson_07.check_group_by_parity(parity_returns_proxies)
    assert "not proxies" in capsys.readouterr().out


def test_unsorted_and_no_pool_are_explained(capsys):
    assert not lesson_07.check_group_by_parity(parity_unsorted)
    out = capsys.readouterr().out
    assert "sort each list" in out and "1 process(es) were started" in out


# --- Exercise 2: count_with_manager_lock(ctx, workers, steps) ---------------------------------


def lock_solution(ctx, workers, steps):
    with ctx.Manager() as manager:
        counter = manager.dict(n=0)
        together = manager.Barrier(workers)
        lock = manager.Lock()
        options = {"pause": 0.001, "together": together, "lock": lock}
        with ctx.Pool(workers) as pool:
            jobs = [
                pool.apply_async(managed.add_to_counter, (counter, "n", steps), options)
                for _ in range(workers)
            ]
            for job in jobs:
                job.get(timeout=60)
        return counter["n"]


def lock_variant(ctx, workers, steps):
    """Also right: an RLock from the manager, starmap with positional arguments."""
    with ctx.Manager() as m:
        counter, lock = m.dict(n=0), m.RLock()
        with ctx.Pool(workers) as pool:
            pool.starmap(managed.add_to_counter, [(counter, "n", steps, lock, 0.001)] * workers)
        return counter["n"]


def lock_stub(ctx, workers, steps):
    with ctx.Manager() as manager:
        counter = manager.dict(n=0)
        together = manager.Barrier(workers)
        options = {"pause": 0.001, "together": together}
        with ctx.Pool(workers) as pool:
            jobs = [
                pool.apply_async(managed.add_to_counter, (counter, "n", steps), options)
                for _ in range(workers)
            ]
            for job in jobs:
                job.get(timeout=60)
        return counter["n"]


def plain_lock_in_task(ctx, workers, steps):
    """The classic mistake: a ctx.Lock() as a task argument."""
    with ctx.Manager() as manager:
        counter = manager.dict(n=0)
        with ctx.Pool(workers) as pool:
            jobs = [
                pool.apply_async(
                    managed.add_to_counter, (counter, "n", steps), {"lock": ctx.Lock()}
                )
                for _ in range(workers)
            ]
            for job in jobs:
                job.get(timeout=60)
        return counter["n"]


def test_lock_solution_passes(capsys):
    assert lesson_07.check_count_with_manager_lock(lock_solution)
    assert capsys.readouterr().out.startswith("✅")


def test_lock_variant_passes(capsys):
    assert lesson_07.check_count_with_manager_lock(lock_variant)
    assert "✅" in capsys.readouterr().out


def test_lock_stub_loses_updates(capsys):
    assert not lesson_07.check_count_with_manager_lock(lock_stub)
    out = capsys.readouterr().out
    assert out.startswith("❌") and "updates were" in out and "manager.Lock()" in out


def test_plain_lock_as_task_argument_is_explained(capsys):
    assert not lesson_07.check_count_with_manager_lock(plain_lock_in_task)
    out = capsys.readouterr().out
    assert "RuntimeError" in out and "use manager.Lock()" in out
