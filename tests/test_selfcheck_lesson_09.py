"""Lesson 09's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones."""

from __future__ import annotations

import multiprocessing as mp

from support.selfcheck_cases import accepts, rejects, selfcheck_test, worked_solution

import helpers
from helpers.instruments import perf
from helpers.selfcheck import lesson_09
from helpers.tasks import workers

# -- count_in_chunks ---------------------------------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
chunks_solution = worked_solution(
    "09_performance", "count_in_chunks", globals(), ctx=mp.get_context()
)


def chunks_other_correct(stop, parts, processes):
    """Correct too: concurrent.futures, ranges written by hand."""
    from concurrent.futures import ProcessPoolExecutor

    step = -(-stop // parts)
    starts = list(range(0, stop, step))
    stops = [min(s + step, stop) for s in starts]
    with ProcessPoolExecutor(processes, mp_context=mp.get_context()) as ex:
        return sum(ex.map(workers.count_primes_in_range, starts, stops, timeout=20))


def chunks_stub(stop, parts, processes):
    """The stub the lesson ships: right number, but no worker."""
    return workers.count_primes(stop)


def chunks_map_not_starmap(stop, parts, processes):
    with mp.get_context().Pool(processes) as pool:
        return sum(pool.map(workers.count_primes_in_range, perf.split_range(stop, parts)))


def chunks_no_sum(stop, parts, processes):
    with mp.get_context().Pool(processes) as pool:
        return pool.starmap(workers.count_primes_in_range, perf.split_range(stop, parts))


def chunks_off_by_one(stop, parts, processes):
    ranges = [(a + 1, b) for a, b in perf.split_range(stop, parts)]  # skips each range's first
    with mp.get_context().Pool(processes) as pool:
        return sum(pool.starmap(workers.count_primes_in_range, ranges))


# -- longest_first -----------------------------------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
longest_solution = worked_solution(
    "09_performance", "longest_first", globals(), ctx=mp.get_context()
)


def longest_other_correct(limits, processes):
    """Correct too: imap_unordered and helpers.timed, longest first by a key."""
    order = sorted(limits, key=lambda n: -n)
    with mp.get_context().Pool(processes) as pool:
        return list(pool.imap_unordered(helpers.timed(workers.count_primes), order))


def longest_stub(limits, processes):
    """The stub the lesson ships: runs on the pool in the given order (longest last)."""
    with mp.get_context().Pool(processes) as pool:
        return pool.map(helpers.timed(workers.count_primes), limits, chunksize=1)


def longest_ascending(limits, processes):
    with mp.get_context().Pool(processes) as pool:
        return pool.map(helpers.timed(workers.count_primes), sorted(limits), chunksize=1)


def longest_in_the_notebook(limits, processes):
    return [helpers.timed(workers.count_primes)(n) for n in sorted(limits, reverse=True)]


def longest_bare_results(limits, processes):
    with mp.get_context().Pool(processes) as pool:
        return pool.map(workers.count_primes, sorted(limits, reverse=True))


chunks, longest = lesson_09.check_count_in_chunks, lesson_09.check_longest_first
# Deliberately the same table shape as every lesson's self-check test (support/selfcheck_cases).
CASES = [
    *accepts(chunks, chunks_solution, chunks_other_correct),
    rejects(chunks, chunks_stub, "started no worker process"),
    rejects(chunks, chunks_map_not_starmap, "use pool.starmap"),
    rejects(chunks, chunks_no_sum, "add them up"),
    rejects(chunks, chunks_off_by_one, "expected 669"),
    *accepts(longest, longest_solution, longest_other_correct),
    rejects(longest, longest_stub, "Sort the limits longest first"),
    rejects(longest, longest_ascending, "Sort the limits longest first"),
    rejects(longest, longest_in_the_notebook, "including your own"),
    rejects(longest, longest_bare_results, "one record per task"),
]

test_selfcheck = selfcheck_test(CASES)
