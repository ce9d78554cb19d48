"""Measure lesson 09's speedup experiment and store it as the lesson's reference figure.

Lesson 09 runs the same measurement live. On a machine where the notebook may use only one CPU no
speedup is possible, so the lesson also shows this stored run from a machine with two or more
usable CPUs. Run it from the repository root, on an otherwise idle machine:

    .venv/bin/python benchmarks/reference_09_speedup.py

It writes ``notebooks/reference/09_speedup.json``: the job, the seconds of every timed round of
the serial loop and of each pool (rounds interleaved, as in the lesson), one timeline of the pool
with CPU time per task, and a description of the machine (CPU model, usable CPUs, load average
before and after, Python, start method). Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
from pathlib import Path

import helpers
from helpers.instruments import perf
from helpers.instruments.timeline import records_to_dicts
from helpers.tasks import workers

JOB = [110_000] * 8  # the lesson's job: the same fixed work, about a second serially
ROUNDS = 5  # timed rounds, after one untimed warm-up round
OUT = Path(__file__).resolve().parent.parent / "notebooks" / "reference" / "09_speedup.json"


def run_on(pool: mp.pool.Pool, func: object, tasks: list[int]) -> list[object]:
    """``pool.map`` with a bounded wait, as in the lesson."""
    return pool.map_async(func, tasks, chunksize=1).get(timeout=120)


def measure(ctx: mp.context.BaseContext, sizes: list[int]) -> dict[str, object]:
    """Interleaved rounds: the serial loop, then each pool, ``ROUNDS`` times after a warm-up."""
    expected = [workers.count_primes(n) for n in JOB]
    serial: list[float] = []
    pooled: dict[int, list[float]] = {n: [] for n in sizes}
    pools = {n: ctx.Pool(n) for n in sizes}
    try:
        for n, pool in pools.items():
            assert run_on(pool, workers.count_primes, JOB) == expected, f"Pool({n}) is wrong"
        for _ in range(ROUNDS):
            start = time.perf_counter()
            [workers.count_primes(n) for n in JOB]
            serial.append(time.perf_counter() - start)
            for n, pool in pools.items():
                start = time.perf_counter()
                run_on(pool, workers.count_primes, JOB)
                pooled[n].append(time.perf_counter() - start)
        largest = pools[max(sizes)]
        records = run_on(largest, helpers.timed(workers.count_primes), JOB)
    finally:
        for pool in pools.values():
            pool.close()
            pool.join()
    return {"serial": serial, "pools": {str(n): t for n, t in pooled.items()}, "records": records}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the JSON")
    args = parser.parse_args()
    ctx = mp.get_context()
    cpus = helpers.usable_cpus()
    if cpus < 2:
        raise SystemExit("a reference figure needs at least 2 usable CPUs; this machine has 1")
    before = perf.machine_info()
    found = measure(ctx, sorted({1, cpus}))
    after = perf.machine_info()
    records = found.pop("records")
    speedups = [s / p for s, p in zip(found["serial"], found["pools"][str(cpus)], strict=True)]
    low, mid, high = perf.amdahl_fraction_range(speedups, cpus)
    data = {
        "what": "lesson 09: the serial loop against Pool(n), interleaved rounds",
        "machine": {
            **before,
            "start_method": ctx.get_start_method(),
            "load_average_after": after["load_average_1_5_15_min"],
        },
        "job": JOB,
        "rounds": ROUNDS,
        **found,
        "speedups": speedups,
        "amdahl_p": {"low": low, "median": mid, "high": high},
        "timeline": records_to_dicts(records),
        "busy_cpus": helpers.instruments.timeline.busy_cpus(records),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {args.out}")
    print(f"speedup on {cpus} workers: {', '.join(f'{s:.2f}' for s in speedups)}")
    print(
        f"load average before {before['load_average_1_5_15_min']}, after {after['load_average_1_5_15_min']}"
    )


if __name__ == "__main__":
    main()
