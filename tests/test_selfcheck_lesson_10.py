"""Lesson 10's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones.

A real cluster (a scheduler and two workers, separate processes on 127.0.0.1) is started once
for the module and stopped at the end.
"""

from __future__ import annotations

import pytest
from distributed import Client, as_completed, wait
from support.selfcheck_cases import accepts, rejects, selfcheck_test, worked_solution

import helpers
from helpers.selfcheck import lesson_10
from helpers.tasks import scale, workers

pytestmark = pytest.mark.xdist_group("dask-cluster")


@pytest.fixture(scope="module")
def address(tmp_path_factory):
    cluster = scale.start_dask_processes(tmp_path_factory.mktemp("dask"), nworkers=2)
    yield cluster.address
    cluster.stop()


# -- count_on_cluster --------------------------------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
count_solution = worked_solution("10_beyond_one_machine", "count_on_cluster", globals(), wait=wait)


def count_other_correct(address, limits):
    """Correct too: one submit per limit, results in order."""
    client = Client(address, timeout="20s")
    try:
        futures = [
            client.submit(helpers.timed(workers.count_primes), n, pure=False) for n in limits
        ]
        return [f.result(timeout=30) for f in futures]
    finally:
        client.close()


def count_stub(address, limits):
    """The stub the lesson ships: the records are made in the notebook's own process."""
    return [helpers.timed(workers.count_primes)(n) for n in limits]


def count_pure(address, limits):
    with Client(address, timeout="20s") as client:
        return client.gather(client.map(helpers.timed(workers.count_primes), limits))


def count_bare(address, limits):
    with Client(address, timeout="20s") as client:
        return client.gather(client.map(workers.count_primes, limits, pure=False))


# -- results_or_errors -------------------------------------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
errors_solution = worked_solution(
    "10_beyond_one_machine", "results_or_errors", globals(), as_completed=as_completed
)


def errors_other_correct(address, items):
    """Correct too: client.map, then each future's status."""
    with Client(address, timeout="20s") as client:
        futures = client.map(scale.square_or_fail, items)
        client.gather(futures, errors="skip")
        return {
            x: f.result() if f.status == "finished" else type(f.exception()).__name__
            for x, f in zip(items, futures)
        }


def errors_stub(address, items):
    """The stub the lesson ships: runs in the notebook and stops at the first error."""
    return {x: scale.square_or_fail(x) for x in items}


def errors_gather(address, items):
    with Client(address, timeout="20s") as client:
        futures = client.map(scale.square_or_fail, items)
        return dict(zip(items, client.gather(futures)))


def errors_local_but_careful(address, items):
    outcome = {}
    for x in items:
        try:
            outcome[x] = scale.square_or_fail(x)
        except ValueError:
            outcome[x] = "ValueError"
    return outcome


on_cluster, or_errors = lesson_10.check_count_on_cluster, lesson_10.check_results_or_errors
# Deliberately the same table shape as every lesson's self-check test (support/selfcheck_cases).
CASES = [
    *accepts(on_cluster, count_solution, count_other_correct),
    rejects(on_cluster, count_stub, "not the cluster's workers"),
    rejects(on_cluster, count_pure, "pure=False"),
    rejects(on_cluster, count_bare, "one record per limit"),
    *accepts(or_errors, errors_solution, errors_other_correct),
    rejects(or_errors, errors_stub, "try/except ValueError"),
    rejects(or_errors, errors_gather, "client.gather"),
    rejects(or_errors, errors_local_but_careful, "not on one of the cluster's workers"),
]

test_selfcheck = selfcheck_test(CASES, "address")  # each check is called with the cluster's address
