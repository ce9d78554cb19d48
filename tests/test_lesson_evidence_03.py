"""What lesson 03 (process pools) claims, checked with the helpers it uses. No speed asserted."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.pool import ThreadPool

import pytest
from conftest import START_METHODS

from helpers import timed
from helpers.grading import run_bounded
from helpers.instruments.timeline import busy_cpus
from helpers.tasks import pools
from helpers.tasks.workers import count_primes, square

AVAILABLE = [m for m in START_METHODS if m in multiprocessing.get_all_start_methods()]


@pytest.fixture(autouse=True)
def standard_exception_pickling():
    """Pickle exceptions as a learner's kernel does.

    ``distributed``, which other tests import into the same pytest worker, installs tblib's
    reducers for every exception class in ``copyreg``; they would rebuild the very exceptions
    this module shows cannot come back. Set them aside while each test runs.
    """
    import copyreg

    saved = {
        kind: reducer
        for kind, reducer in copyreg.dispatch_table.items()
        if isinstance(kind, type) and issubclass(kind, BaseException)
    }
    for kind in saved:
        del copyreg.dispatch_table[kind]
    try:
        yield
    finally:
        copyreg.dispatch_table.update(saved)


def test_an_exception_with_extra_init_arguments_cannot_be_unpickled():
    with pytest.raises(TypeError, match="reason"):
        pickle.loads(pickle.dumps(pools.TaskRejected(-1, "negative")))
    back = pickle.loads(pickle.dumps(pools.TaskRejectedFixed(-1, "negative")))
    assert (back.item, back.reason, str(back)) == (-1, "negative", "item -1 rejected: negative")


@pytest.mark.parametrize("method", AVAILABLE)
def test_an_unpicklable_exception_breaks_an_executor(method):
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        with pytest.raises(BrokenProcessPool) as caught:
            ex.submit(pools.reject_negative, -1).result(timeout=30)
    assert "TaskRejected.__init__() missing 1 required positional argument" in str(
        caught.value.__cause__
    )


@pytest.mark.parametrize("method", AVAILABLE)
def test_the_fixed_exception_arrives_intact(method):
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(2, mp_context=ctx) as ex:
        with pytest.raises(pools.TaskRejectedFixed) as caught:
            ex.submit(pools.reject_negative_fixed, -1).result(timeout=30)
        assert ex.submit(square, 3).result(timeout=30) == 9  # not broken
    assert caught.value.reason == "negative"


def test_an_unpicklable_exception_hangs_a_pool():
    def map_with_rejects():
        with multiprocessing.get_context().Pool(2) as pool:
            return pool.map_async(pools.reject_negative, [1, -1, 2]).get(timeout=2)

    run = run_bounded(map_with_rejects, timeout=15)
    assert not run.ok and run.value is None  # the result never came
    # The result-handler thread died on the TypeError (its traceback goes to the process's
    # stderr, which pytest's capture may take before the sandbox sees it).
    assert run.error_type is not None or run.timed_out


@pytest.mark.skipif("fork" not in AVAILABLE, reason="no fork on this platform")
def test_max_tasks_per_child_refuses_fork():
    with pytest.raises(ValueError, match="fork"):
        ProcessPoolExecutor(
            2, mp_context=multiprocessing.get_context("fork"), max_tasks_per_child=1
        )


def test_executor_map_reads_all_inputs_before_it_returns():
    read = []

    def inputs():
        for x in range(6):
            read.append(x)
            yield x

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context()) as ex:
        results = ex.map(square, inputs(), timeout=30)
        assert read == list(range(6))  # all read before a single result was asked for
        assert list(results) == [x * x for x in range(6)]


@pytest.mark.skipif(
    not getattr(sys, "_is_gil_enabled", lambda: True)(), reason="free-threaded build"
)
def test_threads_keep_at_most_one_cpu_busy_under_the_gil():
    with ThreadPool(2) as tpool:
        records = tpool.map(timed(count_primes), [150_000] * 4, chunksize=1)
    assert len({r.thread for r in records}) >= 1
    assert busy_cpus(records) <= 1.15


def test_square_in_worker_reports_the_worker():
    with multiprocessing.get_context().Pool(1) as pool:
        answer = pool.apply_async(pools.square_in_worker, (4,)).get(timeout=30)
    assert answer.square == 16 and answer.pid != os.getpid()
    with pytest.raises(ValueError, match="negative"):
        pools.square_in_worker(-1)
