"""What lesson 09 and helpers.instruments.perf claim, checked by behaviour (never by wall-clock speed)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re

import pytest
from conftest import ROOT

import helpers
from helpers.instruments import perf
from helpers.instruments.plots import load_reference
from helpers.instruments.timeline import busy_cpus
from helpers.tasks import workers

P_VALUES = [0.0, 0.3, 0.5, 0.9, 0.99, 1.0]
N_VALUES = [1, 2, 4, 16, 64]


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("n", N_VALUES[1:])
def test_parallel_fraction_undoes_amdahl(p, n):
    assert perf.parallel_fraction(perf.amdahl_speedup(p, n), n) == pytest.approx(p, abs=1e-9)


@pytest.mark.parametrize("p", P_VALUES[:-1])
def test_amdahl_never_passes_its_limit(p):
    assert perf.amdahl_speedup(p, 10**9) < 1 / (1 - p) + 1e-6
    assert all(perf.amdahl_speedup(p, n) <= n for n in N_VALUES)


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize("n", N_VALUES)
def test_gustafson_fraction_is_a_different_number_for_the_same_run(p, n):
    """Amdahl's p (share of the serial run) and Gustafson's p' (share of the parallel run)
    describe one run; converted, both laws give the same speedup."""
    p_prime = perf.gustafson_fraction(p, n)
    assert perf.gustafson_speedup(p_prime, n) == pytest.approx(perf.amdahl_speedup(p, n))
    assert p_prime <= p + 1e-12
    if 0 < p < 1 and n > 1:
        assert p_prime < p  # the same number would mean a different program


def test_fraction_range_is_ordered_and_needs_two_workers():
    low, mid, high = perf.amdahl_fraction_range([1.2, 1.9, 1.5, 0.8], 2)
    assert 0.0 == low <= mid <= high <= 1.0
    with pytest.raises(ValueError):
        perf.amdahl_fraction_range([1.0], 1)
    with pytest.raises(ValueError):
        perf.amdahl_fraction_range([], 2)


def test_time_call_times_every_repeat_and_reports_spread():
    timing = perf.time_call(workers.count_primes, 2_000, repeat=4, warmup=2)
    assert len(timing.runs) == 4 and all(t > 0 for t in timing.runs)
    assert timing.best <= timing.median <= max(timing.runs)
    assert timing.spread == max(timing.runs) - min(timing.runs)


@pytest.mark.parametrize(("stop", "parts"), [(10, 3), (200_000, 8), (5_003, 3), (7, 7)])
def test_split_range_covers_every_number_once(stop, parts):
    ranges = perf.split_range(stop, parts)
    assert len(ranges) == parts
    assert [n for a, b in ranges for n in range(a, b)] == list(range(stop))


def test_the_pool_computes_what_the_loop_computes():
    job = [20_000] * 4
    with mp.get_context().Pool(2) as pool:
        assert pool.map_async(workers.count_primes, job).get(timeout=60) == [
            workers.count_primes(n) for n in job
        ]


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_two_workers_on_one_cpu_take_turns():
    """The lesson's evidence rule: on one CPU, overlapping bars carry no more than one CPU's
    worth of CPU time (the processes take turns), whatever the wall-clock bars suggest."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        with mp.get_context().Pool(2) as pool:  # the workers inherit the affinity
            records = pool.map_async(
                helpers.timed(workers.count_primes), [60_000] * 6, chunksize=1
            ).get(timeout=120)
    finally:
        os.sched_setaffinity(0, before)
    assert len(helpers.processes_used(records)) == 2
    assert all(r.cpu <= r.duration + 0.02 for r in records)
    assert busy_cpus(records) <= 1.1


def test_utilisation_is_a_share():
    with mp.get_context().Pool(2) as pool:
        records = pool.map(helpers.timed(workers.count_primes), [5_000, 30_000, 5_000])
    assert 0.0 < perf.utilisation(records, 2) <= 1.0


def test_machine_info_describes_the_machine():
    info = perf.machine_info()
    assert info["usable_cpus"] == helpers.usable_cpus()
    assert {"cpu_model", "python", "platform", "measured_at_utc"} <= set(info)


def test_the_stored_reference_matches_the_lesson():
    """The reference figure the lesson shows on one CPU: the lesson's job, on 2+ CPUs, and its
    speedups are the ratios of its own stored rounds."""
    ref = load_reference("09_speedup.json")
    assert ref is not None, "notebooks/reference/09_speedup.json is missing"
    assert ref["machine"]["usable_cpus"] >= 2
    lesson = json.loads((ROOT / "notebooks" / "09_performance.ipynb").read_text())
    source = "\n".join("".join(c["source"]) for c in lesson["cells"])
    size, count = re.search(r"job = \[([\d_]+)\] \* (\d+)", source).groups()
    assert ref["job"] == [int(size)] * int(count)
    n = str(ref["machine"]["usable_cpus"])
    assert len(ref["serial"]) == len(ref["pools"][n]) == len(ref["speedups"]) == ref["rounds"]
    for s, p, speedup in zip(ref["serial"], ref["pools"][n], ref["speedups"], strict=True):
        assert speedup == pytest.approx(s / p)
