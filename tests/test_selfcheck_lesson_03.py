"""Lesson 03's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones."""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor, as_completed, wait

from support.selfcheck_cases import accepts, rejects, selfcheck_test, worked_solution

import helpers
from helpers import timed
from helpers.selfcheck import lesson_03
from helpers.tasks import pools, workers

# -- as_they_finish ----------------------------------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
finish_solution = worked_solution(
    "03_pool", "as_they_finish", globals(), ctx=mp.get_context(), helpers=helpers
)


def finish_other_correct(limits, processes=2):
    """Correct too: an executor and as_completed."""
    with ProcessPoolExecutor(processes, mp_context=mp.get_context()) as ex:
        futures = [ex.submit(timed(workers.count_primes), n) for n in limits]
        return [f.result() for f in as_completed(futures, timeout=20)]


def finish_stub(limits, processes=2):
    """The stub the lesson ships: pool.map, input order."""
    with mp.get_context().Pool(processes) as pool:
        return pool.map(timed(workers.count_primes), limits)


def finish_serial(limits, processes=2):
    return sorted((timed(workers.count_primes)(n) for n in limits), key=lambda r: r.end)


def finish_iterator_escapes(limits, processes=2):
    with mp.get_context().Pool(processes) as pool:
        return pool.imap_unordered(timed(workers.count_primes), limits)


# -- keep_every_result -------------------------------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
keep_solution = worked_solution(
    "03_pool", "keep_every_result", globals(), ctx=mp.get_context(), N=2
)


def keep_other_correct(items):
    """Correct too: an executor's futures, each asked for its exception first."""
    with ProcessPoolExecutor(2, mp_context=mp.get_context()) as ex:
        futures = {x: ex.submit(pools.square_in_worker, x) for x in items}
        wait(futures.values(), timeout=20)
    return {x: f.exception() or f.result() for x, f in futures.items()}


def keep_stub(items):
    """The stub the lesson ships: map loses everything."""
    with mp.get_context().Pool(2) as pool:
        try:
            return dict(zip(items, pool.map(pools.square_in_worker, items)))
        except ValueError:
            return {}


def keep_none_for_errors(items):
    outcome = {}
    with mp.get_context().Pool(2) as pool:
        for x in items:
            try:
                outcome[x] = pool.apply_async(pools.square_in_worker, (x,)).get(timeout=20)
            except ValueError:
                outcome[x] = None
    return outcome


def keep_serial(items):
    outcome = {}
    for x in items:
        try:
            outcome[x] = pools.square_in_worker(x)
        except ValueError as exc:
            outcome[x] = exc
    return outcome


finish, keep = lesson_03.check_as_they_finish, lesson_03.check_keep_every_result
CASES = [
    *accepts(finish, finish_solution, finish_other_correct),
    rejects(finish, finish_stub, "input order", "imap_unordered"),
    rejects(finish, finish_serial, "your own process"),
    rejects(finish, finish_iterator_escapes, timeout=10),
    *accepts(keep, keep_solution, keep_other_correct),
    rejects(keep, keep_stub, "pool.map gives up"),
    rejects(keep, keep_none_for_errors, "Store the exception itself"),
    rejects(keep, keep_serial, "your own process"),
]

test_selfcheck = selfcheck_test(CASES)
