"""Unit tests of the helpers package (except grading, in test_helpers_grading.py).

Process-starting tests run under fork, spawn and forkserver through an explicit context: they
never set the test process's global start method.
"""

from __future__ import annotations

import functools
import gc
import itertools
import multiprocessing
import os
import pickle
import random
import sys
import threading
import time
import traceback
import types

import psutil
import pytest
from conftest import START_METHODS, own_workers

import helpers

# From the package itself, as the lessons import them: so these tests also guard the re-exports.
from helpers import (
    ChildOutput,
    NotSpawnSafeError,
    TaskRecord,
    Timed,
    check_spawn_safe,
    max_concurrency,
    overlapping_pairs,
    processes_used,
    timed,
)
from helpers.instruments import cpus
from helpers.instruments.plots import plot_speedup, plot_timeline
from helpers.tasks import workers

# --------------------------------------------------------------------------------- fixtures


@pytest.fixture
def no_leftovers():
    """Fail the test if it leaves a worker process running."""
    before = own_workers()
    yield
    deadline = time.monotonic() + 5
    while (new := own_workers() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not new, f"the test left processes running: {sorted(new)}"


@pytest.fixture(params=START_METHODS)
def ctx(request, no_leftovers):
    return multiprocessing.get_context(request.param)


def rec(task, pid, start, end, result=None, thread=1):
    return TaskRecord(task=task, result=result, pid=pid, thread=thread, start=start, end=end)


# --------------------------------------------------------------------------------- cpus


@pytest.fixture
def cgroup(tmp_path):
    """Write a fake cgroup tree: cgroup("cpu.max", "150000 100000") or ("cpu/cpu.cfs_quota_us",...)."""

    def write(*pairs: str):
        for relative, text in zip(pairs[::2], pairs[1::2], strict=True):
            path = tmp_path / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n")
        return tmp_path

    return write


@pytest.mark.parametrize(
    "text, expected",
    [
        ("max 100000", None),
        ("150000 100000", 1.5),
        ("200000 100000", 2.0),
        ("50000 100000", 0.5),
        ("100000 50000", 2.0),
    ],
)
def test_cgroup_v2_quota(cgroup, text, expected):
    assert cpus.cgroup_cpu_limit(cgroup("cpu.max", text)) == expected


@pytest.mark.parametrize("folder", ["cpu", "cpu,cpuacct", "."])
def test_cgroup_v1_quota(cgroup, folder):
    root = cgroup(f"{folder}/cpu.cfs_quota_us", "250000", f"{folder}/cpu.cfs_period_us", "100000")
    assert cpus.cgroup_cpu_limit(root) == 2.5


def test_cgroup_v1_unlimited_quota_is_no_limit(cgroup):
    root = cgroup("cpu/cpu.cfs_quota_us", "-1", "cpu/cpu.cfs_period_us", "100000")
    assert cpus.cgroup_cpu_limit(root) is None


@pytest.mark.parametrize(
    "text", ["", "banana", "max", "150000", "1.5 100000", "150000 0", "-100000 100000", "0 100000"]
)
def test_cgroup_v2_garbage_is_no_limit(cgroup, text):
    assert cpus.cgroup_cpu_limit(cgroup("cpu.max", text)) is None


def test_cgroup_v2_garbage_falls_back_to_v1(cgroup):
    root = cgroup(
        "cpu.max", "garbage", "cpu/cpu.cfs_quota_us", "300000", "cpu/cpu.cfs_period_us", "100000"
    )
    assert cpus.cgroup_cpu_limit(root) == 3.0


def test_cgroup_v2_max_wins_over_v1(cgroup):
    root = cgroup(
        "cpu.max", "max 100000", "cpu/cpu.cfs_quota_us", "100000", "cpu/cpu.cfs_period_us", "100000"
    )
    assert cpus.cgroup_cpu_limit(root) is None


@pytest.mark.parametrize("quota, period", [("lots", "100000"), ("100000", "soon"), ("100000", "0")])
def test_cgroup_v1_garbage_is_no_limit(cgroup, quota, period):
    root = cgroup("cpu/cpu.cfs_quota_us", quota, "cpu/cpu.cfs_period_us", period)
    assert cpus.cgroup_cpu_limit(root) is None


def test_cgroup_missing_tree_is_no_limit(tmp_path):
    assert cpus.cgroup_cpu_limit(tmp_path) is None
    assert cpus.cgroup_cpu_limit(tmp_path / "does-not-exist") is None


@pytest.mark.parametrize(
    "affinity, text, expected",
    [
        (8, "150000 100000", 2),
        (8, "max 100000", 8),
        (8, "50000 100000", 1),
        (8, "100 100000", 1),
        (1, "400000 100000", 1),
        (2, "400000 100000", 2),
        (3, "250000 100000", 3),
        (4, "banana", 4),
    ],
)
def test_usable_cpus_takes_the_smaller_of_affinity_and_quota(
    monkeypatch, cgroup, affinity, text, expected
):
    monkeypatch.setattr(cpus, "_affinity_count", lambda: affinity)
    assert cpus.usable_cpus(cgroup("cpu.max", text)) == expected


def test_usable_cpus_never_exceeds_the_real_affinity(cgroup):
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cpus.usable_cpus(cgroup("cpu.max", "6400000 100000")) == affinity
    assert cpus.usable_cpus(cgroup("cpu.max", "max 100000")) == affinity
    assert 1 <= cpus.usable_cpus() <= affinity
    assert helpers.usable_cpus is cpus.usable_cpus


def test_usable_cpus_is_at_least_one(monkeypatch, tmp_path):
    monkeypatch.setattr(cpus, "_affinity_count", lambda: 0)
    assert cpus.usable_cpus(tmp_path) == 1


# --------------------------------------------------------------------------------- workers


@pytest.mark.parametrize(
    "n, expected",
    [
        (-7, False),
        (0, False),
        (1, False),
        (2, True),
        (3, True),
        (4, False),
        (9, False),
        (25, False),
        (97, True),
        (7919, True),
        (7921, False),
    ],
)
def test_is_prime(n, expected):
    assert workers.is_prime(n) is expected


@pytest.mark.parametrize(
    "limit, expected",
    [(-5, 0), (0, 0), (2, 0), (3, 1), (10, 4), (100, 25), (1000, 168), (7920, 1000)],
)
def test_count_primes(limit, expected):
    assert workers.count_primes(limit) == expected


@pytest.mark.parametrize("bad", [100.0, "100", None, True])
def test_count_primes_rejects_non_int(bad):
    with pytest.raises(TypeError, match="int"):
        workers.count_primes(bad)


def test_count_primes_in_range_splits_the_count():
    assert workers.count_primes_in_range(10, 20) == 4
    assert workers.count_primes_in_range(20, 10) == 0
    assert sum(workers.count_primes_in_range(a, a + 250) for a in range(0, 1000, 250)) == 168


def test_estimate_pi():
    assert abs(workers.estimate_pi(20_000, seed=1) - 3.14159) < 0.1
    assert workers.estimate_pi(5_000, seed=7) == workers.estimate_pi(5_000, seed=7)
    assert workers.estimate_pi(5_000, seed=7) != workers.estimate_pi(5_000, seed=8)
    assert 0.0 <= workers.estimate_pi(1, seed=3) <= 4.0


@pytest.mark.parametrize("samples", [0, -10])
def test_estimate_pi_rejects_no_samples(samples):
    with pytest.raises(ValueError, match="positive"):
        workers.estimate_pi(samples)


def test_spin_and_sleep_task_return_their_time():
    assert workers.spin(0.02) >= 0.02
    assert workers.sleep_task(0.01) == 0.01
    assert workers.sleep_task(0) == 0
    with pytest.raises(ValueError, match="negative"):
        workers.sleep_task(-1)


def test_small_workers():
    assert workers.square(7) == 49
    assert workers.square(-1.5) == 2.25
    assert workers.slow_square(3, seconds=0) == 9
    assert workers.fail_if_negative(4) == 16
    with pytest.raises(ValueError, match="negative input: -2"):
        workers.fail_if_negative(-2)
    assert workers.whoami("t") == ("t", os.getpid(), os.getppid())
    assert workers.whoami() == (None, os.getpid(), os.getppid())


def test_greet_prints_and_returns_its_pid(capsys):
    message = workers.greet("Ada")
    assert message == f"Worker Ada: my process ID is {os.getpid()}, my parent is {os.getppid()}"
    assert capsys.readouterr().out == message + "\n"


def test_workers_run_in_child_processes(ctx):
    with ctx.Pool(2) as pool:
        assert pool.map(workers.count_primes, [10, 100, 1000]) == [4, 25, 168]
        assert pool.starmap(workers.count_primes_in_range, [(0, 10), (10, 20)]) == [4, 4]
        tags = pool.map(workers.whoami, ["a", "b"])
        with pytest.raises(ValueError, match="negative input: -1"):
            pool.apply_async(workers.fail_if_negative, (-1,)).get(timeout=30)
    assert [t[0] for t in tags] == ["a", "b"]
    assert all(pid != os.getpid() for _, pid, _ in tags)
    if ctx.get_start_method() == "forkserver":
        assert all(ppid != os.getpid() for _, _, ppid in tags)  # the forkserver is the parent
    else:
        assert all(ppid == os.getpid() for _, _, ppid in tags)


# --------------------------------------------------------------------------------- timeline


def test_timed_returns_a_record_of_the_call():
    before = time.time()
    record = timed(workers.square)(6)
    after = time.time()
    assert isinstance(record, TaskRecord)
    assert (record.task, record.result) == (6, 36)
    assert record.pid == os.getpid() and record.thread == threading.get_ident()
    assert before <= record.start <= record.end <= after
    assert record.duration == record.end - record.start


def test_timed_star_unpacks_the_task():
    record = timed(workers.count_primes_in_range, star=True)((10, 20))
    assert (record.task, record.result) == ((10, 20), 4)
    assert isinstance(timed(workers.square), Timed)
    assert repr(timed(workers.square)) == "timed(square)"


def test_timed_rejects_a_non_callable():
    with pytest.raises(TypeError, match="needs a function"):
        timed(42)


def test_timed_propagates_the_error():
    with pytest.raises(ValueError, match="negative input"):
        timed(workers.fail_if_negative)(-1)


def test_timed_pickles():
    copy = pickle.loads(pickle.dumps(timed(workers.square, star=False)))
    assert copy(5).result == 25
    star = pickle.loads(pickle.dumps(timed(workers.count_primes_in_range, star=True)))
    assert star((0, 10)).result == 4
    record = timed(workers.square)(2)
    assert pickle.loads(pickle.dumps(record)) == record


def test_timed_runs_in_a_pool(ctx):
    with ctx.Pool(2) as pool:
        records = pool.map(timed(workers.slow_square), [1, 2, 3, 4], chunksize=1)
        star = pool.map(timed(workers.count_primes_in_range, star=True), [(0, 10), (0, 100)])
        alive = {p.pid for p in psutil.Process().children(recursive=True)}
    assert [r.result for r in records] == [1, 4, 9, 16]
    assert [r.task for r in records] == [1, 2, 3, 4]
    assert [r.result for r in star] == [4, 25]
    used = processes_used(records + star)
    assert os.getpid() not in used
    assert used <= alive and 1 <= len(used) <= 2
    assert all(r.duration >= 0.2 for r in records)  # slow_square sleeps 0.2 s: a lower bound


def test_timed_as_a_process_target(ctx):
    p = ctx.Process(target=timed(workers.square), args=(3,))
    p.start()
    p.join(30)
    assert p.exitcode == 0


def test_processes_used():
    records = [rec(1, 10, 0, 1), rec(2, 11, 0, 1), rec(3, 10, 1, 2)]
    assert processes_used(records) == {10, 11}
    assert processes_used([]) == set()
    assert processes_used(iter(records)) == {10, 11}


def test_overlapping_pairs_across_processes():
    a = rec("a", 1, 0.0, 1.0)
    b = rec("b", 2, 0.5, 1.5)
    c = rec("c", 1, 0.2, 0.6)  # overlaps a (same process) and b
    d = rec("d", 3, 2.0, 3.0)  # overlaps nothing
    assert overlapping_pairs([a, b, c, d]) == [(a, b), (b, c)]
    assert overlapping_pairs([a, b, c, d], across_processes=False) == [(a, b), (a, c), (b, c)]
    assert overlapping_pairs([]) == []
    assert overlapping_pairs([a]) == []


def test_touching_intervals_do_not_overlap():
    a = rec("a", 1, 0.0, 1.0)
    b = rec("b", 2, 1.0, 2.0)
    c = rec("c", 3, 2.0, 3.0)
    assert overlapping_pairs([a, b, c]) == []
    assert max_concurrency([a, b, c]) == 1
    assert max_concurrency([c, a, b]) == 1


def test_max_concurrency():
    assert max_concurrency([]) == 0
    assert max_concurrency([rec(1, 1, 0, 1)]) == 1
    assert max_concurrency([rec(1, 1, 0, 10), rec(2, 2, 1, 2), rec(3, 3, 1.5, 3)]) == 3
    assert max_concurrency([rec(1, 1, 0, 10), rec(2, 2, 1, 2), rec(3, 3, 2, 3)]) == 2
    assert max_concurrency(iter([rec(1, 1, 0, 2), rec(2, 2, 1, 3)])) == 2
    # Same instant starts all count.
    assert max_concurrency([rec(i, i, 5.0, 6.0) for i in range(4)]) == 4


def test_max_concurrency_counts_tasks_too_short_for_the_clock():
    # On a coarse clock a fast task has start == end: it still ran.
    assert max_concurrency([rec(1, 1, 5.0, 5.0)]) == 1
    assert max_concurrency([rec(1, 1, 5.0, 5.0), rec(2, 2, 5.0, 5.0)]) == 1
    inside = [rec(1, 1, 0.0, 10.0), rec(2, 2, 5.0, 5.0)]
    assert max_concurrency(inside) == 2 and len(overlapping_pairs(inside)) == 1
    at_edges = [rec(1, 1, 0.0, 10.0), rec(2, 2, 0.0, 0.0), rec(3, 3, 10.0, 10.0)]
    assert max_concurrency(at_edges) == 1 and overlapping_pairs(at_edges) == []


def test_max_concurrency_agrees_with_overlapping_pairs():
    rng = random.Random(42)
    for _ in range(300):
        records = []
        for i in range(rng.randint(1, 6)):
            start = rng.randint(0, 8)
            records.append(rec(i, i, start, start + rng.randint(0, 3)))
        # Brute force: the largest group of tasks that all overlap one another.
        pairs = {(a.task, b.task) for a, b in overlapping_pairs(records, across_processes=False)}
        brute = max(
            len(group)
            for size in range(1, len(records) + 1)
            for group in itertools.combinations(records, size)
            if all((a.task, b.task) in pairs for a, b in itertools.combinations(group, 2))
        )
        assert max_concurrency(records) == brute, records


# --------------------------------------------------------------------------------- plots


def test_plot_timeline_draws_one_row_per_pid(plt):
    records = [
        rec("a", 300, 10.0, 11.0),
        rec("b", 100, 10.5, 12.0),
        rec("c", 300, 11.0, 11.5),
        rec("d", 200, 12.0, 12.25),
    ]
    _, ax = plt.subplots()
    returned = plot_timeline(records, ax=ax, title="three workers")
    assert returned is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == ["PID 100", "PID 200", "PID 300"]
    assert list(ax.get_yticks()) == [0, 1, 2]
    assert ax.get_title() == "three workers"
    bars = ax.patches
    assert len(bars) == len(records)
    row = {100: 0, 200: 1, 300: 2}
    for bar, r in zip(bars, records, strict=True):
        assert bar.get_x() == pytest.approx(r.start - 10.0)
        assert bar.get_width() == pytest.approx(r.duration)
        assert bar.get_y() + bar.get_height() / 2 == pytest.approx(row[r.pid])
    assert sorted(t.get_text() for t in ax.texts) == ["a", "b", "c", "d"]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # first PID on top


def test_plot_timeline_makes_its_own_axes(plt):
    records = [rec(1, 5, 0.0, 1.0), rec(2, 6, 0.0, 1.0)]
    ax = plot_timeline(records, label_tasks=False, t0=-1.0)
    assert ax is not None and ax.figure is not None
    assert len(ax.texts) == 0
    assert ax.patches[0].get_x() == pytest.approx(1.0)
    assert helpers.plot_timeline is plot_timeline


def test_plot_timeline_takes_an_iterator(plt):
    ax = plot_timeline(iter([rec(1, 5, 0.0, 1.0), rec(2, 6, 0.5, 1.0)]))
    assert len(ax.patches) == 2
    assert len(ax.get_yticklabels()) == 2


def test_plot_timeline_rejects_empty_input(plt):
    with pytest.raises(ValueError, match="at least one"):
        plot_timeline([])
    with pytest.raises(ValueError, match="at least one"):
        plot_timeline(iter([]))


def test_plot_timeline_of_a_real_pool(plt, ctx):
    with ctx.Pool(2) as pool:
        records = pool.map(timed(workers.slow_square), [0.05] * 4, chunksize=1)
    ax = plot_timeline(records)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"PID {pid}" for pid in sorted(processes_used(records))]
    assert len(ax.patches) == 4


def test_plot_speedup(plt):
    _, ax = plt.subplots()
    returned = plot_speedup([1, 2, 4], [8.0, 4.0, 2.5], ax=ax, title="speedup")
    assert returned is ax
    measured, ideal = ax.get_lines()
    assert list(measured.get_xdata()) == [1, 2, 4]
    assert list(measured.get_ydata()) == pytest.approx([1.0, 2.0, 3.2])
    assert list(ideal.get_ydata()) == [1, 2, 4]
    assert ax.get_title() == "speedup"
    assert plot_speedup([2, 4], [3.0, 2.0]).get_lines()[0].get_ydata()[1] == pytest.approx(3.0)


@pytest.mark.parametrize(
    "w, s", [([], []), ([1, 2], [1.0]), ([1], [1.0, 2.0]), ([1, 2], [1.0, 0.0])]
)
def test_plot_speedup_rejects_bad_input(plt, w, s):
    with pytest.raises(ValueError, match="plot_speedup"):
        plot_speedup(w, s)


# --------------------------------------------------------------------------------- safety


def _nested():
    def inner(x):
        return x

    return inner


def _closure(k):
    def add(x):
        return x + k

    return add


def _fake_notebook_function():
    def cell_func(x):
        return x * 2

    cell_func.__module__ = "__main__"
    cell_func.__qualname__ = "cell_func"
    return cell_func


@pytest.fixture
def notebook_main(monkeypatch):
    """Pretend to be a notebook: a __main__ with no __file__, holding cell_func."""
    main = types.ModuleType("__main__")
    func = _fake_notebook_function()
    main.cell_func = func
    monkeypatch.setitem(sys.modules, "__main__", main)
    return func


def _raises(func, start_method=None) -> str:
    with pytest.raises(NotSpawnSafeError) as info:
        check_spawn_safe(func, start_method)
    return str(info.value)


def test_check_spawn_safe_rejects_a_lambda():
    message = _raises(lambda x: x, "spawn")
    assert "<lambda>" in message and "lambda" in message


def test_check_spawn_safe_rejects_nested_and_closures():
    message = _raises(_nested(), "spawn")
    assert "_nested.<locals>.inner" in message and "nested" in message
    message = _raises(_closure(3), "forkserver")
    assert "_closure.<locals>.add" in message and "'forkserver'" in message


def test_check_spawn_safe_rejects_partial_of_lambda():
    message = _raises(functools.partial(lambda x, y: x + y, 1), "spawn")
    assert "functools.partial" in message and "lambda" in message
    assert "it is a" not in message
    # A partial carrying a lambda as an argument cannot be sent either.
    message = _raises(functools.partial(map, lambda x: x), "spawn")
    assert "lambda" in message


def test_check_spawn_safe_rejects_notebook_functions(notebook_main):
    message = _raises(notebook_main, "spawn")
    assert "__main__.cell_func" in message and "notebook" in message
    message = _raises(functools.partial(notebook_main, 2), "spawn")
    assert "__main__.cell_func" in message


def test_check_spawn_safe_rejects_wrapped_notebook_functions(notebook_main):
    # timed() pickles fine in the kernel, by reference to __main__.cell_func, which a spawned
    # child does not have.
    message = _raises(timed(notebook_main), "spawn")
    assert "timed(cell_func)" in message and "__main__.cell_func" in message
    out = ChildOutput(multiprocessing.get_context("spawn"))
    try:
        assert "__main__.cell_func" in _raises(out.wrap(notebook_main), "spawn")
    finally:
        out.close()


def test_check_spawn_safe_rejects_a_notebook_kernel_main(monkeypatch):
    main = types.ModuleType("__main__")
    main.__file__ = "/tmp/kernel_launcher.py"
    main.get_ipython = lambda: None  # an IPython kernel's __main__
    func = _fake_notebook_function()
    main.cell_func = func
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert "notebook" in _raises(func, "spawn")


def test_check_spawn_safe_accepts_a_script_main(monkeypatch):
    main = types.ModuleType("__main__")
    main.__file__ = "/tmp/script.py"
    func = _fake_notebook_function()
    main.cell_func = func
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert check_spawn_safe(func, "spawn") is None


def test_check_spawn_safe_rejects_functions_it_cannot_find_again():
    func = _fake_notebook_function()
    func.__module__, func.__qualname__ = "helpers.tasks.workers", "square"  # an impostor
    assert "is not the object" in _raises(func, "spawn")
    func.__module__ = "no_such_module_for_the_course"
    assert "cannot be found again" in _raises(func, "spawn")


@pytest.mark.parametrize(
    "func",
    [
        workers.square,
        functools.partial(workers.square, 3),
        functools.partial(workers.slow_square, seconds=0.1),
        timed(workers.count_primes),
        timed(functools.partial(workers.square)),
        print,
        len,
    ],
)
def test_check_spawn_safe_accepts_importable_functions(func):
    assert check_spawn_safe(func) is None
    assert check_spawn_safe(func, "spawn") is None


def test_check_spawn_safe_accepts_child_output_wrappers():
    out = ChildOutput(multiprocessing.get_context("spawn"))
    try:
        assert check_spawn_safe(out.wrap(workers.greet), "spawn") is None
        assert check_spawn_safe(out.install, "spawn") is None
    finally:
        out.close()


def test_check_spawn_safe_message_names_function_method_and_fix():
    for method in START_METHODS:
        message = _raises(_nested(), method)
        assert "inner" in message
        assert f"'{method}'" in message
        assert "Fix:" in message and "%%writefile" in message and "helpers.tasks.workers" in message
    assert "spawn" in _raises(_nested(), "fork")  # under fork, it says where it would fail


def test_check_spawn_safe_default_start_method_is_named_and_left_alone():
    before = multiprocessing.get_start_method(allow_none=True)
    expected = before or multiprocessing.get_all_start_methods()[0]
    assert f"'{expected}'" in _raises(_nested())
    assert multiprocessing.get_start_method(allow_none=True) == before


def test_check_spawn_safe_rejects_non_callables():
    with pytest.raises(TypeError, match="needs a function") as info:
        check_spawn_safe(42)
    assert not isinstance(info.value, NotSpawnSafeError)
    assert issubclass(NotSpawnSafeError, TypeError)


def test_check_spawn_safe_is_quick_and_starts_no_process(notebook_main):
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    started = time.perf_counter()
    for func in [
        lambda x: x,
        _nested(),
        _closure(1),
        notebook_main,
        timed(notebook_main),
        functools.partial(lambda: 0),
    ]:
        with pytest.raises(NotSpawnSafeError):
            check_spawn_safe(func)
    for func in [workers.square, functools.partial(workers.square, 2)]:
        assert check_spawn_safe(func) is None
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"8 checks took {elapsed:.2f} s"
    assert {p.pid for p in me.children(recursive=True)} <= before


# --------------------------------------------------------------------------------- output


def run_with_child_output(ctx, *calls):
    """Run each ``(func, args, kwargs)`` in its own process, one after another, with its output
    collected by a ChildOutput; return the processes, the lines shown and the (closed) ChildOutput."""
    out = ChildOutput(ctx)
    try:
        procs = [ctx.Process(target=out.wrap(f), args=args, kwargs=kw) for f, args, kw in calls]
        for p in procs:
            p.start()
            p.join(30)
            assert p.exitcode == 0
        printed = out.show(timeout=10)
    finally:
        out.close()
    return procs, printed, out


def test_child_output_from_a_process(ctx, capsys):
    [p], printed, out = run_with_child_output(ctx, (workers.greet, ("Alice",), {}))
    expected = f"Worker Alice: my process ID is {p.pid}, my parent is "
    assert len(printed) == 1 and expected in printed[0]
    assert printed[0].startswith(f"[{p.name} pid={p.pid}] ")
    assert capsys.readouterr().out == printed[0] + "\n"
    assert [(pid, stream) for _, pid, stream, _ in out.lines] == [(p.pid, "stdout")]


def test_child_output_tags_stderr_and_flushes_partial_lines(ctx):
    # traceback.print_stack writes to sys.stderr, whatever it is when called.
    (stacker, printer), printed, out = run_with_child_output(
        ctx,
        (traceback.print_stack, (), {"limit": 1}),
        (print, ("no newline",), {"end": ""}),
    )
    stderr_tag = f"[{stacker.name} pid={stacker.pid} stderr] "
    assert any(line.startswith(stderr_tag) and "File " in line for line in printed), printed
    assert f"[{printer.name} pid={printer.pid}] no newline" in printed
    assert (printer.name, printer.pid, "stdout", "no newline") in out.lines


def test_child_output_from_pool_workers(ctx):
    # Repeated: a worker's lines must not be lost when the with-block terminates the pool.
    names = [f"w{i}" for i in range(6)]
    for _ in range(3):
        out = ChildOutput(ctx)
        try:
            with ctx.Pool(2, initializer=out.install) as pool:
                results = pool.map(workers.greet, names, chunksize=1)
            printed = out.show(timeout=10)
        finally:
            out.close()
        assert len(printed) == len(names)
        for result in results:
            assert any(line.endswith("] " + result) for line in printed), (result, printed)
        # Each line is tagged with the PID of the worker that printed it (greet names it too).
        for _, pid, stream, text in out.lines:
            assert stream == "stdout" and f"my process ID is {pid}," in text
            assert pid != os.getpid()


def test_child_output_does_not_block_a_chatty_child(ctx):
    # More than a pipe holds (64 KiB on Linux) before the parent collects: the child must not
    # block on a full pipe, or join() would never return.
    text = "\n".join(f"line {i:05d} " + "x" * 60 for i in range(3000)) + "\n"
    out = ChildOutput(ctx)
    try:
        p = ctx.Process(target=out.wrap(print), args=(text,), kwargs={"end": ""})
        p.start()
        p.join(30)
        if p.exitcode is None:
            p.kill()
            p.join(5)
            pytest.fail("the child blocked writing its output")
        lines = out.collect(timeout=10)
    finally:
        out.close()
    assert len(lines) == 3000
    assert lines[0][3].startswith("line 00000") and lines[-1][3].startswith("line 02999")


def test_child_output_default_context_and_close():
    out = ChildOutput()
    reader = out._reader
    assert reader is not None and reader.is_alive()
    assert out.collect(timeout=0.05) == []
    out.close()
    assert not reader.is_alive()
    out.close()  # twice is fine
    assert out.show(timeout=0.05) == []


def test_child_output_stops_reading_when_dropped():
    out = ChildOutput(multiprocessing.get_context("spawn"))
    reader = out._reader
    del out
    gc.collect()
    reader.join(5)
    assert not reader.is_alive()


def test_child_output_reports_a_failing_process_target(ctx, capfd):
    """A Process target that raises: traceback relayed through the queue, exit code 1."""
    from helpers.tasks.processes import fail

    out = ChildOutput(ctx)
    try:
        p = ctx.Process(target=out.wrap(fail), args=("boom",))
        p.start()
        p.join(30)
        assert p.exitcode == 1
        lines = out.show()
    finally:
        out.close()
    assert any("ValueError: boom" in line and "stderr" in line for line in lines), lines
    assert "Traceback" not in capfd.readouterr().err
