"""Lesson 00's self-check says ✅ to right answers and ❌, with the right advice, to wrong ones."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.pool import ThreadPool

from support.selfcheck_cases import accepts, rejects, selfcheck_test, worked_solution

from helpers import timed, usable_cpus
from helpers.selfcheck import lesson_00
from helpers.tasks.workers import count_primes

# The worked solution, read from the lesson itself (not a copy that could drift).
solution = worked_solution("00_welcome", "primes_in_pool", globals())


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


check = lesson_00.check_primes_in_pool
CASES = [
    *accepts(check, solution, other_correct),
    rejects(check, stub, "your own process", "mp.Pool"),
    rejects(check, thread_pool, "threads of your own process"),
    rejects(check, oversized_pool, "usable_cpus()"),
    rejects(check, counts_only, "expected a list of records"),
    rejects(check, never_closed, "left running"),
]

test_selfcheck = selfcheck_test(CASES)
