"""Lesson 00's self-check says ✅ to right answers and ❌, with the right advice, to wrong ones."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.pool import ThreadPool

from helpers import timed, usable_cpus
from helpers.selfcheck import lesson_00
from helpers.tasks.workers import count_primes


def solution(limits):
    """The worked solution shown in the lesson."""
    with mp.Pool(processes=usable_cpus()) as pool:
        return pool.map(timed(count_primes), limits)


def other_correct(limits):
    """Correct too: an executor, its map collected into a list."""
    with ProcessPoolExecutor(max_workers=usable_cpus(), mp_context=mp.get_context()) as ex:
        return list(ex.map(timed(count_primes), limits, timeout=20))


def stub(limits):
    """The stub the lesson ships: every task in the caller's own process."""
    return [timed(count_primes)(n) for n in limits]


def thread_pool(limits):
    with ThreadPool(2) as pool:
        return pool.map(timed(count_primes), limits)


def oversized_pool(limits):
    with mp.Pool(processes=usable_cpus() + 3) as pool:
        return pool.map(timed(count_primes), limits)


def counts_only(limits):
    with mp.Pool(processes=usable_cpus()) as pool:
        return pool.map(count_primes, limits)


def never_closed(limits):
    pool = mp.Pool(processes=usable_cpus())
    return pool.map(timed(count_primes), limits)


def test_accepts_the_solution(capsys):
    assert lesson_00.check_primes_in_pool(solution) is True
    assert capsys.readouterr().out.startswith("✅")


def test_accepts_another_correct_answer(capsys):
    assert lesson_00.check_primes_in_pool(other_correct) is True
    assert capsys.readouterr().out.startswith("✅")


def test_rejects_the_stub(capsys):
    assert lesson_00.check_primes_in_pool(stub) is False
    out = capsys.readouterr().out
    assert out.startswith("❌") and "your own process" in out and "mp.Pool" in out


def test_rejects_a_thread_pool(capsys):
    assert lesson_00.check_primes_in_pool(thread_pool) is False
    assert "threads of your own process" in capsys.readouterr().out


def test_rejects_a_pool_larger_than_the_cpus(capsys):
    assert lesson_00.check_primes_in_pool(oversized_pool) is False
    assert "usable_cpus()" in capsys.readouterr().out


def test_rejects_bare_counts(capsys):
    assert lesson_00.check_primes_in_pool(counts_only) is False
    assert "expected a list of records" in capsys.readouterr().out


def test_rejects_a_pool_left_open(capsys):
    assert lesson_00.check_primes_in_pool(never_closed) is False
    assert "left running" in capsys.readouterr().out
