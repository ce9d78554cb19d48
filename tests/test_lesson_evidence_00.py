"""What lesson 00 (and every lesson that draws a timeline) claims about its evidence, checked.

No test here asserts a speed. They check CPU accounting: a task's CPU time never exceeds its
wall time, and tasks pinned to one CPU cannot keep more than one CPU busy however much their
wall-clock bars overlap. The slow test reads lesson 00 as a learner on one CPU would.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import pickle

import pytest
from conftest import START_METHODS

from helpers import TaskRecord, timed
from helpers.instruments.plots import load_reference, plot_speedup, plot_timeline
from helpers.instruments.timeline import busy_cpus, records_from_dicts, records_to_dicts, wall_span
from helpers.tasks.workers import count_primes


@pytest.fixture(params=START_METHODS)
def ctx(request):
    return multiprocessing.get_context(request.param)


pinnable = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only"
)


def test_six_positional_arguments_still_make_a_record():
    record = TaskRecord("t", 1, 10, 20, 0.0, 1.0)
    assert record.cpu is None
    assert pickle.loads(pickle.dumps(record)) == record


def test_timed_records_cpu_time_within_the_wall_interval():
    record = timed(count_primes)(50_000)
    assert record.result == 5133
    assert record.cpu is not None and 0 < record.cpu <= record.duration + 0.01


def test_a_sleeping_task_uses_almost_no_cpu():
    from helpers.tasks.workers import sleep_task

    record = timed(sleep_task)(0.2)
    assert record.cpu < record.duration / 2


def test_busy_cpus_divides_cpu_by_wall():
    records = [TaskRecord("a", 0, 1, 1, 0.0, 2.0, 1.0), TaskRecord("b", 0, 2, 1, 0.0, 2.0, 1.0)]
    assert wall_span(records) == 2.0
    assert busy_cpus(records) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="CPU times"):
        busy_cpus([TaskRecord("a", 0, 1, 1, 0.0, 1.0)])


@pinnable
def test_two_processes_on_one_cpu_keep_at_most_one_cpu_busy(ctx):
    """The lie lesson 00 used to tell: overlapping bars, but one CPU's worth of work."""
    pin = functools.partial(os.sched_setaffinity, 0, {min(os.sched_getaffinity(0))})
    with ctx.Pool(2, initializer=pin) as pool:
        records = pool.map(timed(count_primes), [150_000, 150_000], chunksize=1)
    assert len({r.pid for r in records}) == 2
    assert records[0].start < records[1].end and records[1].start < records[0].end  # overlap
    assert busy_cpus(records) <= 1.1  # yet no more than one CPU's worth of computing


def test_reference_records_round_trip_through_json_dicts():
    records = [TaskRecord(5, 25, 1, 2, 10.0, 11.0, 0.9), TaskRecord(6, 36, 3, 4, 10.5, 12.0, 1.4)]
    back = records_from_dicts(records_to_dicts(records))
    assert [r.start for r in back] == [0.0, 0.5]
    assert [r.cpu for r in back] == [0.9, 1.4]


def test_the_reference_figures_are_stored_with_the_course():
    for name in ("00_two_tasks.json", "03_gil.json"):
        ref = load_reference(name)
        assert ref is not None, f"notebooks/reference/{name} is missing"
        assert ref["machine"]["usable_cpus"] >= 2, "a reference must come from several CPUs"
    assert load_reference("no_such_file.json") is None


def test_plot_timeline_draws_cpu_inside_wall_bars(plt):
    records = [TaskRecord("a", 0, 1, 1, 0.0, 2.0, 1.0), TaskRecord("b", 0, 2, 1, 0.0, 2.0, 1.0)]
    ax = plot_timeline(records)
    assert len(ax.patches) == 2  # one wall bar per task
    cpu_bars = [path for c in ax.collections for path in c.get_paths()]
    assert len(cpu_bars) == 2
    widths = [p.get_extents().width for p in cpu_bars]
    assert widths == pytest.approx([1.0, 1.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["wall time", "CPU time"]


def test_plot_timeline_leaves_shared_x_axes_to_autoscale(plt):
    _, (top, bottom) = plt.subplots(2, 1, sharex=True)
    plot_timeline([TaskRecord("a", 0, 1, 1, 0.0, 1.0, 0.5)], ax=top)
    plot_timeline([TaskRecord("b", 0, 1, 1, 0.0, 3.0, 2.5)], ax=bottom)
    assert top.get_autoscalex_on() and bottom.get_autoscalex_on()
    assert top.get_xlim() == bottom.get_xlim()
    assert top.get_xlim()[1] >= 3.0 and top.get_xlim()[0] >= -0.01


def test_plot_speedup_labels_curves_and_draws_ideal_once(plt):
    _, ax = plt.subplots()
    plot_speedup([1, 2], [2.0, 1.0], ax=ax, label="processes", spread=[(1.9, 2.1), (0.9, 1.2)])
    plot_speedup([1, 2], [2.0, 2.0], ax=ax, label="threads")
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels.count("ideal") == 1 and "processes" in labels and "threads" in labels
