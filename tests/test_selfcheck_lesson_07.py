"""Lesson 07's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones.

The answers below are what a learner might type in the notebook (parent-side code only; the
child-side functions come from helpers.tasks.managed). The checks run them through run_bounded.
"""

from __future__ import annotations

from support.selfcheck_cases import accepts, rejects, selfcheck_test, worked_solution

from helpers.selfcheck import lesson_07
from helpers.tasks import managed

# --- Exercise 1: group_by_parity(ctx, numbers) -----------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
parity_solution = worked_solution("07_managers", "group_by_parity", globals())


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


# --- Exercise 2: count_with_manager_lock(ctx, workers, steps) ---------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
lock_solution = worked_solution("07_managers", "count_with_manager_lock", globals())


def lock_variant(ctx, workers, steps):
    """Also right: an RLock from the manager, starmap with positional arguments."""
    with ctx.Manager() as m:
        counter, lock = m.dict(n=0), m.RLock()
        with ctx.Pool(workers) as pool:
            pool.starmap(managed.add_to_counter, [(counter, "n", steps, lock, 0.001)] * workers)
        return counter["n"]


def _add_in_pool(ctx, manager, workers, steps, options):
    """One managed.add_to_counter task per worker, with ``options`` as its keyword arguments."""
    counter = manager.dict(n=0)
    with ctx.Pool(workers) as pool:
        jobs = [
            pool.apply_async(managed.add_to_counter, (counter, "n", steps), options)
            for _ in range(workers)
        ]
        for job in jobs:
            job.get(timeout=60)
    return counter["n"]


def lock_stub(ctx, workers, steps):
    """The notebook's stub: the solution without a lock."""
    with ctx.Manager() as manager:
        options = {"pause": 0.001, "together": manager.Barrier(workers)}
        return _add_in_pool(ctx, manager, workers, steps, options)


def plain_lock_in_task(ctx, workers, steps):
    """The classic mistake: a ctx.Lock() as a task argument."""
    with ctx.Manager() as manager:
        return _add_in_pool(ctx, manager, workers, steps, {"lock": ctx.Lock()})


parity, lock = lesson_07.check_group_by_parity, lesson_07.check_count_with_manager_lock
CASES = [
    *accepts(parity, parity_solution, parity_variant),
    rejects(parity, parity_stub, "every append was lost", "manager.list()"),
    rejects(parity, parity_returns_proxies, "not proxies"),
    rejects(parity, parity_unsorted, "sort each list", "1 process(es) were started"),
    *accepts(lock, lock_solution, lock_variant),
    rejects(lock, lock_stub, "updates were", "manager.Lock()"),
    rejects(lock, plain_lock_in_task, "RuntimeError", "use manager.Lock()"),
]

test_selfcheck = selfcheck_test(CASES)
