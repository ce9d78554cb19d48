"""The performance explorer of lesson 09 (helpers.instruments.explorer), driven without a browser:
widget values set, Run pressed, figures and points produced, Cancel stops the run, nothing left
running. Nothing here asserts how fast anything ran."""

from __future__ import annotations

import json
import time

import pytest
from conftest import START_METHODS, own_workers

from helpers.instruments import explorer as ex
from helpers.instruments.explorer import ExplorerRun, PerformanceExplorer, Settings, explain
from helpers.instruments.perf import parallel_fraction
from helpers.instruments.timeline import TaskRecord
from helpers.tasks.workers import count_primes

PNG = b"\x89PNG"


def small(**changes) -> dict:
    """Control values for a run of a second or less (tiny tasks)."""
    values = dict(workers=2, chunksize=1, limit=2_000, arg_bytes=0, tasks=6, repeats=1)
    values.update(changes)
    return values


def set_controls(explorer: PerformanceExplorer, **values) -> None:
    for name, value in values.items():
        explorer.controls[name].value = value


@pytest.fixture
def explorer():
    before = own_workers()
    panel = PerformanceExplorer()
    yield panel
    panel.close()
    deadline = time.monotonic() + 5
    while (left := own_workers() - before) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"the explorer left processes running: {left}"


def press_run(explorer: PerformanceExplorer) -> ExplorerRun:
    explorer.run_button.click()
    assert explorer.wait(120), "the run did not end"
    assert explorer.last is not None
    return explorer.last


# -- the child side --------------------------------------------------------------------------


def test_a_task_does_fixed_work_and_returns_a_small_record():
    record = ex.explorer_task((3, 2_000, bytes(100_000)))
    assert isinstance(record, TaskRecord)
    assert record.task == 3, "the record names the task by its index, not by its payload"
    assert record.result == count_primes(2_000)
    assert record.cpu is not None and record.cpu >= 0


def test_chunks_hold_every_task_once_with_its_own_payload():
    settings = Settings(tasks=7, chunksize=3, limit=10, arg_bytes=5)
    chunks = list(ex.make_chunks(settings))
    assert [len(c) for c in chunks] == [3, 3, 1]
    tasks = [t for c in chunks for t in c]
    assert [t[0] for t in tasks] == list(range(7))
    assert len({id(t[2]) for t in tasks}) == 7, "each task carries its own payload object"
    assert [r.task for r in ex.explorer_chunk(chunks[0])] == [0, 1, 2]


def test_settings_refuse_nonsense():
    with pytest.raises(ValueError):
        Settings(workers=0)
    with pytest.raises(ValueError):
        Settings(start_method="teleport")


def test_the_controls_show_settings_off_the_sliders_steps():
    """A caller's settings need not be a slider step: the controls show them as they are."""
    chosen = Settings(workers=9, chunksize=3, limit=1_000, arg_bytes=5, tasks=80, repeats=7)
    panel = PerformanceExplorer(chosen)
    try:
        assert panel.settings() == chosen
    finally:
        panel.close()


# -- Run, from the widgets ------------------------------------------------------------------


@pytest.mark.parametrize("method", START_METHODS)
def test_run_from_the_widgets_draws_a_timeline_and_adds_a_point(explorer, method):
    set_controls(explorer, **small(start_method=method))
    empty_plot = bytes(explorer.speedup_image.value)
    assert explorer.points.value == "points on the plot: 0"
    run = press_run(explorer)
    assert run.complete, explain(run)
    assert run.settings == Settings(**small(start_method=method))
    assert len(run.records) == 6 and {r.result for r in run.records} == {count_primes(2_000)}
    assert 1 <= len({r.pid for r in run.records}) <= 2
    assert bytes(explorer.timeline_image.value).startswith(PNG)
    assert bytes(explorer.speedup_image.value).startswith(PNG)
    assert bytes(explorer.speedup_image.value) != empty_plot
    assert explorer.points.value == "points on the plot: 1"
    assert explorer.progress.value == explorer.progress.max and explorer.progress.max > 0
    assert not explorer.run_button.disabled and explorer.cancel_button.disabled
    assert "speedup" in explorer.explanation.value


def test_a_second_run_adds_a_point_with_its_own_interleaved_rounds(explorer):
    set_controls(explorer, **small(start_method="fork", repeats=2))
    first = press_run(explorer)
    set_controls(explorer, workers=1)
    second = press_run(explorer)
    for run in first, second:
        assert len(run.serial) == len(run.pooled) == len(run.speedups) == 2
    assert second.serial != first.serial, "each run times the plain loop again, round by round"
    assert explorer.points.value == "points on the plot: 2"
    assert [r.settings.workers for r in explorer.runs] == [2, 1]


def test_run_returns_at_once_and_the_run_goes_on_in_a_thread(explorer):
    set_controls(explorer, **small(start_method="fork", tasks=12, limit=20_000, repeats=2))
    explorer.run_button.click()
    assert explorer.running, "Run returned only when the measurement had ended"
    assert explorer.run_button.disabled and not explorer.cancel_button.disabled
    assert explorer.run() is None, "a second Run while one is going is ignored"
    assert explorer.wait(120)
    assert explorer.last is not None and explorer.last.complete


def test_programmatic_run_returns_the_measurement(explorer):
    run = explorer.run(Settings(**small(start_method="fork", arg_bytes=100_000)), wait=True)
    assert run is not None and run.complete
    assert run.transfer > 0, "the cost of sending the argument was measured"
    assert len(run.speedups) == 1 and run.speedup > 0
    assert run.summary().startswith("6 x count_primes(2,000) with 100 KB each")


# -- Cancel ----------------------------------------------------------------------------------


def long_settings(method: str) -> Settings:
    return Settings(workers=2, limit=150_000, tasks=64, repeats=5, start_method=method)


@pytest.mark.parametrize("method", START_METHODS)
def test_cancel_in_the_pool_stops_the_run_and_leaves_nothing(explorer, method):
    settings = Settings(workers=2, limit=20_000, tasks=64, repeats=5, start_method=method)
    explorer.run(settings)
    deadline = time.monotonic() + 60
    while explorer.progress.description != "Pool(2)" and time.monotonic() < deadline:
        time.sleep(0.05)  # the pool has started and answered
    assert explorer.running
    explorer.cancel_button.click()
    assert explorer.wait(10), "the run did not stop within 10 s of Cancel"
    run = explorer.last
    assert run is not None and run.cancelled and not run.complete
    assert explorer.points.value == "points on the plot: 0"
    assert explorer.progress.description == "cancelled"
    assert "Cancelled" in explorer.explanation.value


def test_cancel_while_big_arguments_are_being_sent(explorer):
    settings = Settings(workers=2, limit=5_000, arg_bytes=4_000_000, tasks=64, repeats=5)
    explorer.run(settings)
    deadline = time.monotonic() + 60
    while explorer.progress.description != "Pool(2)" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert explorer.cancel(10), "the run did not stop within 10 s of Cancel"
    assert explorer.last is not None and explorer.last.cancelled


def test_cancel_during_the_plain_loop(explorer):
    explorer.run(long_settings("fork"))
    deadline = time.monotonic() + 60
    while explorer.progress.description != "plain loop" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert explorer.cancel(10)
    assert explorer.last is not None and explorer.last.cancelled
    assert explorer.last.serial == (), "the cancelled loop was not timed"


def test_close_cancels_a_run(explorer):
    explorer.run(long_settings("fork"))
    time.sleep(0.3)
    explorer.close()
    assert not explorer.running


# -- one CPU, and the explanations ------------------------------------------------------------


def fake_run(workers: int, cpus: int, speedup: float, **changes) -> ExplorerRun:
    """A complete run with made-up timings (the explanations only read numbers)."""
    settings = Settings(**{**small(workers=workers, repeats=3, tasks=8), **changes})
    pooled = 1.0 / speedup
    records = [
        TaskRecord(i, 0, 100 + i % workers, 1, 0.0, pooled, pooled) for i in range(settings.tasks)
    ]
    return ExplorerRun(settings, cpus, serial=(1.0,) * 3, startup=0.1, pooled=(pooled,) * 3,
                       records=records)  # fmt: skip


def test_one_cpu_is_said_plainly_and_no_fit_is_claimed(monkeypatch):
    monkeypatch.setattr(ex, "usable_cpus", lambda: 1)
    panel = PerformanceExplorer()
    try:
        assert "Only ONE CPU is usable here" in panel.header.value
        assert panel.controls["workers"].max >= 2, "the learner can still oversubscribe"
    finally:
        panel.close()
    run = fake_run(2, 1, 0.95)
    assert any("Only ONE CPU is usable" in line for line in explain(run))
    assert ex.fit_parallel_fraction([run], 1) is None


def test_oversubscription_is_named():
    lines = explain(fake_run(6, 2, 1.8))
    assert any("6 workers on 2 CPUs: oversubscribed" in line for line in lines)


def test_too_few_chunks_are_named():
    lines = explain(fake_run(2, 2, 1.0, chunksize=8, tasks=8))
    assert any("only 1 chunk(s)" in line for line in lines)


def test_the_cost_of_big_arguments_is_named():
    run = fake_run(2, 2, 0.5, arg_bytes=1_000_000)
    run.transfer = 0.002  # 2 ms to send each argument; each task computes 1/8 s
    assert not any("moving its data" in line for line in explain(run))
    run.transfer = 0.2
    assert any("moving its data" in line for line in explain(run))


def test_amdahl_is_fitted_only_from_pools_the_cpus_can_run():
    good = fake_run(2, 2, 1.8)
    over = fake_run(8, 2, 1.7)
    assert ex.fit_parallel_fraction([over], 2) is None
    assert ex.fit_parallel_fraction([good, over], 2) == pytest.approx(parallel_fraction(1.8, 2))


def test_the_explorer_does_not_fix_the_start_method():
    """A learner may still call mp.set_start_method() after making an explorer."""
    import subprocess
    import sys

    code = (
        "import multiprocessing as mp\n"
        "from helpers.instruments.explorer import PerformanceExplorer, Settings\n"
        "Settings(); PerformanceExplorer().close()\n"
        "assert mp.get_start_method(allow_none=True) is None\n"
        "mp.set_start_method('spawn')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_stored_run_comes_back_with_the_same_figures():
    run = fake_run(2, 2, 1.8, arg_bytes=1_000)
    back = ExplorerRun.from_dict(json.loads(json.dumps(run.to_dict())))
    assert back.settings == run.settings and back.complete
    assert back.speedups == pytest.approx(run.speedups)
    assert back.records == [], "stored runs carry no timeline"


def test_load_imbalance_from_big_chunks_is_named():
    run = fake_run(2, 2, 1.3, chunksize=6, tasks=8)
    run.records = [TaskRecord(i, 0, 100 if i < 6 else 101, 1, 0.0, 0.1, 0.1) for i in range(8)]
    lines = explain(run)
    assert any("Load imbalance: the busiest worker ran 6 of the 8 tasks" in x for x in lines)
    run.settings = Settings(**small(workers=2, repeats=3, tasks=8, chunksize=1))
    assert not any("Load imbalance" in x for x in explain(run)), "chunksize 1 is not the cause"
