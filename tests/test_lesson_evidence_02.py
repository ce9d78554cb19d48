"""What lesson 02 (start methods and pickling) claims, checked with the helpers it uses."""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import warnings

import pytest
from conftest import START_METHODS

from helpers.grading import run_bounded
from helpers.tasks import startmethods
from helpers.tasks.workers import square, whoami

AVAILABLE = [m for m in START_METHODS if m in multiprocessing.get_all_start_methods()]
needs_fork = pytest.mark.skipif("fork" not in AVAILABLE, reason="no fork on this platform")


@pytest.fixture
def changed_setting():
    original = startmethods.SETTING
    startmethods.SETTING = "changed by the test"
    yield "changed by the test"
    startmethods.SETTING = original


@pytest.mark.parametrize("method", AVAILABLE)
def test_only_a_fork_child_sees_the_parents_change(method, changed_setting):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with multiprocessing.get_context(method).Pool(1) as pool:
            _, seen, _ = pool.apply_async(startmethods.read_setting).get(timeout=30)
    assert (seen == changed_setting) == (method == "fork")


@pytest.mark.parametrize("method", AVAILABLE)
def test_an_initializer_hands_the_value_to_every_method(method, changed_setting):
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(1, initializer=startmethods.set_setting, initargs=(changed_setting,)) as pool:
        _, seen, _ = pool.apply_async(startmethods.read_setting).get(timeout=30)
    assert seen == changed_setting


@pytest.mark.parametrize("method", AVAILABLE)
def test_a_lock_held_by_a_thread_stays_locked_in_a_fork_child_only(method):
    release = startmethods.hold_cache_lock()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            with multiprocessing.get_context(method).Pool(1) as pool:
                got = pool.apply_async(startmethods.try_cache_lock, (0.5,)).get(timeout=30)
    finally:
        release.set()
    assert got is (method != "fork")
    assert startmethods.try_cache_lock(5.0)  # the parent's thread let go


@needs_fork
def test_fork_inherits_a_process_target_but_pickles_pool_tasks():
    fork = multiprocessing.get_context("fork")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        p = fork.Process(target=lambda: None)
        p.start()
        p.join(10)
        assert p.exitcode == 0
        with fork.Pool(1) as pool:
            with pytest.raises((pickle.PicklingError, AttributeError)):
                pool.map(lambda x: x, [1])


@needs_fork
def test_fork_pickles_queue_items():
    """Queue.put pickles in a feeder thread, whatever the start method: a lock cannot go."""
    import threading

    q = multiprocessing.get_context("fork").Queue()
    with pytest.raises(TypeError, match="pickle"):
        # _ForkingPickler is what the feeder thread uses on every item.
        from multiprocessing.reduction import ForkingPickler

        ForkingPickler.dumps(threading.Lock())
    q.close()
    q.join_thread()


class _Point:
    def __init__(self, x):
        self.x = x


def test_an_instance_carries_its_class_by_reference():
    """The instance's data travels by value, its class only as module and name."""
    blob = pickle.dumps(_Point(1))
    assert __name__.encode() in blob and b"_Point" in blob
    module = sys.modules[__name__]
    saved = module._Point
    del module._Point  # a child whose module lacks the class, like a spawned child's __main__
    try:
        with pytest.raises(AttributeError, match="_Point"):
            pickle.loads(blob)
    finally:
        module._Point = saved


def notebook_like_cube(x):
    return x**3


def test_a_main_function_hangs_a_spawn_pool_and_says_why():
    """The spawn trap, shown safely: a function the spawned child cannot import."""
    notebook_like_cube.__module__ = "__main__"
    notebook_like_cube.__qualname__ = "no_such_cube"

    def map_it():
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            return pool.map(notebook_like_cube, [1, 2])

    try:
        run = run_bounded(map_it, timeout=8)
    finally:
        notebook_like_cube.__module__ = __name__
        notebook_like_cube.__qualname__ = "notebook_like_cube"
    assert not run.ok
    assert "Can't get attribute" in run.stderr or run.error_type is not None


def test_helpers_functions_pickle_by_reference():
    assert b"helpers.tasks.workers" in pickle.dumps(square) and b"whoami" in pickle.dumps(whoami)
