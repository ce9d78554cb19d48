"""Lesson 08's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones.

The learner-side answers are defined here, as a learner would write them in the notebook; what
they run in threads or child processes comes from ``helpers`` (spawn-safe).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing.pool import ThreadPool

import pytest

import helpers
from helpers.selfcheck import lesson_08 as check
from helpers.tasks import compare

# --------------------------------------------------------------------------- exercise 1


def who_sees_it_solution():
    """The worked solution: an executor for each."""
    compare.COUNTER = 0
    with ThreadPoolExecutor(max_workers=1) as ex:
        thread_result = ex.submit(compare.bump, 1).result(timeout=10)
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context()) as ex:
        process_result = ex.submit(compare.bump, 1).result(timeout=30)
    return thread_result, process_result, compare.COUNTER


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


@pytest.mark.parametrize("answer", [who_sees_it_solution, who_sees_it_other_way])
def test_who_sees_it_accepts_right_answers(answer, capsys):
    assert check.check_who_sees_it(answer) is True
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (who_sees_it_stub, "came from your own process"),
        (who_sees_it_stub, "ended at 2"),
        (who_sees_it_bare_process, "a Process does not hand back"),
        (who_sees_it_reset_after, "ended at 0"),
    ],
)
def test_who_sees_it_explains_wrong_answers(answer, message, capsys):
    assert check.check_who_sees_it(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("❌")
    assert message in out


def test_who_sees_it_survives_a_crashing_answer(capsys):
    def boom():
        raise RuntimeError("oops")

    assert check.check_who_sees_it(boom) is False
    assert "RuntimeError" in capsys.readouterr().out


# --------------------------------------------------------------------------- exercise 2


def run_pool_solution(kind, func, tasks, workers):
    job = helpers.timed(func)
    if kind == "threads":
        pool = ThreadPoolExecutor(max_workers=workers)
    else:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context())
    with pool:
        return list(pool.map(job, tasks, timeout=60))


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


@pytest.mark.parametrize("answer", [run_pool_solution, run_pool_other_way])
def test_run_pool_accepts_right_answers(answer, capsys):
    assert check.check_run_pool(answer) is True
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize(
    ("answer", "messages"),
    [
        (run_pool_stub, ["one after another in one thread", "ran in your own process"]),
        (run_pool_threads_always, ["ran in your own process"]),
        (run_pool_plain_results, ["not the plain results"]),
        (run_pool_one_worker, ["one after another in one thread", "only one worker process"]),
    ],
)
def test_run_pool_explains_wrong_answers(answer, messages, capsys):
    assert check.check_run_pool(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("❌")
    for message in messages:
        assert message in out


RIGHT_CHOICE = {workload: right for workload, (right, _) in check.EXPECTED_CHOICE.items()}


@pytest.mark.parametrize(
    "choice", [RIGHT_CHOICE, {k: f" {v.upper()} " for k, v in RIGHT_CHOICE.items()}]
)
def test_choice_accepts_right_answers(choice, capsys):
    assert check.check_choice(choice) is True
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (dict.fromkeys(RIGHT_CHOICE), "fill in 'threads' or 'processes'"),
        (dict.fromkeys(RIGHT_CHOICE, "processes"), "a waiting thread releases the GIL"),
        ({**RIGHT_CHOICE, "count primes (pure Python)": "threads"}, "each process has its own GIL"),
        ({**RIGHT_CHOICE, "wait for 50 downloads": "asyncio"}, "neither 'threads' nor"),
        ("processes", "keep it a dict"),
    ],
)
def test_choice_explains_wrong_answers(choice, message, capsys):
    assert check.check_choice(choice) is False
    out = capsys.readouterr().out
    assert out.startswith("❌")
    assert message in out
