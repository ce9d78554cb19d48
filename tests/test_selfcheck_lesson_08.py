"""Lesson 08's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones.

The learner-side answers are defined here, as a learner would write them in the notebook; what
they run in threads or child processes comes from ``helpers`` (spawn-safe).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing.pool import ThreadPool

from support.selfcheck_cases import Case, accepts, rejects, selfcheck_test, worked_solution

import helpers
from helpers.selfcheck import lesson_08 as check
from helpers.tasks import compare

# --------------------------------------------------------------------------- exercise 1


# The worked solution, read from the lesson itself (not a copy that could drift).
who_sees_it_solution = worked_solution(
    "08_processes_vs_threads", "who_sees_it", globals(), ctx=mp.get_context()
)


def who_sees_it_other_way():
    """Also right: a bare Thread that stores its result, then a spawn Pool; process first."""
    compare.COUNTER = 0
    with mp.get_context("spawn").Pool(1) as pool:
        process_result = pool.apply_async(compare.bump, (1,)).get(timeout=30)
    box = []
    worker = threading.Thread(target=lambda: box.append(compare.bump(1)))
    worker.start()
    worker.join(10)
    return box[0], process_result, compare.COUNTER


def who_sees_it_stub():
    """The notebook's stub: both calls in the learner's own process."""
    compare.COUNTER = 0
    thread_result = compare.bump(1)
    process_result = compare.bump(1)
    return thread_result, process_result, compare.COUNTER


def who_sees_it_bare_process():
    """A classic mistake: a Process's target's return value is lost."""
    compare.COUNTER = 0
    with ThreadPoolExecutor(max_workers=1) as ex:
        thread_result = ex.submit(compare.bump, 1).result(timeout=10)
    child = mp.get_context().Process(target=compare.bump, args=(1,))
    child.start()
    child.join(30)
    return thread_result, None, compare.COUNTER


def who_sees_it_reset_after():
    """Another mistake: resetting the counter after the thread ran."""
    with ThreadPoolExecutor(max_workers=1) as ex:
        thread_result = ex.submit(compare.bump, 1).result(timeout=10)
    compare.COUNTER = 0
    with ProcessPoolExecutor(max_workers=1) as ex:
        process_result = ex.submit(compare.bump, 1).result(timeout=30)
    return thread_result, process_result, compare.COUNTER


def who_sees_it_crashes():
    """An answer that raises: the check reports it and goes on."""
    raise RuntimeError("oops")


# --------------------------------------------------------------------------- exercise 2


# The worked solution, read from the lesson itself (not a copy that could drift).
run_pool_solution = worked_solution(
    "08_processes_vs_threads", "run_pool", globals(), ctx=mp.get_context()
)


def run_pool_other_way(kind, func, tasks, workers):
    """Also right: multiprocessing's ThreadPool and a spawn Pool."""
    job = helpers.timed(func)
    make = ThreadPool if kind == "threads" else mp.get_context("spawn").Pool
    with make(workers) as pool:
        return pool.map_async(job, tasks, chunksize=1).get(timeout=60)


def run_pool_stub(kind, func, tasks, workers):
    job = helpers.timed(func)
    return [job(t) for t in tasks]


def run_pool_threads_always(kind, func, tasks, workers):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(helpers.timed(func), tasks))


def run_pool_plain_results(kind, func, tasks, workers):
    pool_type = ThreadPoolExecutor if kind == "threads" else ProcessPoolExecutor
    with pool_type(max_workers=workers) as pool:
        return list(pool.map(func, tasks))


def run_pool_one_worker(kind, func, tasks, workers):
    pool_type = ThreadPoolExecutor if kind == "threads" else ProcessPoolExecutor
    with pool_type(max_workers=1) as pool:
        return list(pool.map(helpers.timed(func), tasks))


RIGHT_CHOICE = {workload: right for workload, (right, _) in check.EXPECTED_CHOICE.items()}


who, run_pool, choice = check.check_who_sees_it, check.check_run_pool, check.check_choice
# Deliberately the same table shape as every lesson's self-check test (support/selfcheck_cases).
CASES = [
    *accepts(who, who_sees_it_solution, who_sees_it_other_way),
    rejects(who, who_sees_it_stub, "came from your own process", "ended at 2"),
    rejects(who, who_sees_it_bare_process, "a Process does not hand back"),
    rejects(who, who_sees_it_reset_after, "ended at 0"),
    rejects(who, who_sees_it_crashes, "RuntimeError"),
    *accepts(run_pool, run_pool_solution, run_pool_other_way),
    rejects(run_pool, run_pool_stub, "one after another in one thread", "ran in your own process"),
    rejects(run_pool, run_pool_threads_always, "ran in your own process"),
    rejects(run_pool, run_pool_plain_results, "not the plain results"),
    rejects(
        run_pool, run_pool_one_worker, "one after another in one thread", "only one worker process"
    ),
    Case(choice, RIGHT_CHOICE, True, name="right"),
    Case(choice, {k: f" {v.upper()} " for k, v in RIGHT_CHOICE.items()}, True, name="RIGHT_spaced"),
    rejects(choice, dict.fromkeys(RIGHT_CHOICE), "fill in 'threads' or 'processes'", name="blank"),
    rejects(
        choice,
        dict.fromkeys(RIGHT_CHOICE, "processes"),
        "a waiting thread releases the GIL",
        name="processes_everywhere",
    ),
    rejects(
        choice,
        {**RIGHT_CHOICE, "count primes (pure Python)": "threads"},
        "each process has its own GIL",
        name="threads_for_primes",
    ),
    rejects(
        choice,
        {**RIGHT_CHOICE, "wait for 50 downloads": "asyncio"},
        "neither 'threads' nor",
        name="asyncio",
    ),
    rejects(choice, "processes", "keep it a dict", name="not_a_dict"),
]

test_selfcheck = selfcheck_test(CASES)
