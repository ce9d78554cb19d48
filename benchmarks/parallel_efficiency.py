"""Parallel efficiency of the course's reference CPU-bound workload: the plain loop against
``Pool(usable_cpus())``, side by side in one run.

The workload is fixed work: ``count_primes(--limit)`` for ``--tasks-per-cpu`` tasks per usable CPU
(equal tasks, a multiple of the pool size, so no worker waits for another at the end). One pool is
started and warmed up first (its start-up is reported, not counted); then ``--repeat`` interleaved
rounds each time the serial loop and then ``pool.map`` of the same tasks, and check that both give
the same counts. The speedup of a round is serial time over pooled time; the efficiency is the
median speedup divided by the number of usable CPUs (the goal is 0.95 or more on 2 idle CPUs).

    python benchmarks/parallel_efficiency.py
    python benchmarks/parallel_efficiency.py --repeat 9 --limit 150000

The first line printed is ``parallel efficiency: X``; the lines after it are the measurements
behind it. On a shared machine (1-minute load average above the number of CPUs) the figure is
noisy and says so. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import time

from helpers.instruments.cpus import usable_cpus
from helpers.tasks.workers import count_primes, whoami

TIMEOUT = 300.0


def load_average() -> float | None:
    """The 1-minute load average, or None where the platform has none."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def spread(runs: list[float], scale: float = 1.0, unit: str = "") -> str:
    """``median (min to max)`` of ``runs``, times ``scale``."""
    return (
        f"{statistics.median(runs) * scale:.3f}{unit} "
        f"(from {min(runs) * scale:.3f} to {max(runs) * scale:.3f}, {len(runs)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=120_000, help="count_primes limit per task")
    parser.add_argument("--tasks-per-cpu", type=int, default=4, help="equal tasks per usable CPU")
    parser.add_argument("--repeat", type=int, default=7, help="interleaved rounds (median)")
    args = parser.parse_args()
    if args.repeat < 1 or args.tasks_per_cpu < 1 or args.limit < 1:
        parser.error("--repeat, --tasks-per-cpu and --limit must be at least 1")

    cpus = usable_cpus()
    tasks = [args.limit] * (args.tasks_per_cpu * cpus)
    ctx = mp.get_context()
    load_before = load_average()

    expected = [count_primes(n) for n in tasks]  # the loop's warm-up and the answers to match
    serial, pooled = [], []
    begin = time.perf_counter()
    with ctx.Pool(cpus) as pool:
        pool.map_async(whoami, range(cpus), chunksize=1).get(TIMEOUT)
        startup = time.perf_counter() - begin
        if pool.map_async(count_primes, tasks, chunksize=1).get(TIMEOUT) != expected:
            raise SystemExit("the pool's counts differ from the loop's")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            [count_primes(n) for n in tasks]
            serial.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            pool.map_async(count_primes, tasks, chunksize=1).get(TIMEOUT)
            pooled.append(time.perf_counter() - t0)
    load_after = load_average()

    speedups = [s / p for s, p in zip(serial, pooled, strict=True)]
    efficiency = statistics.median(speedups) / cpus
    print(f"parallel efficiency: {efficiency:.2f}")
    print(f"  workload: {len(tasks)} x count_primes({args.limit:,}), Pool({cpus}), chunksize 1")
    print(f"  serial loop: {spread(serial, 1000, ' ms')}")
    print(f"  Pool({cpus}).map: {spread(pooled, 1000, ' ms')}")
    print(f"  speedup per round: {', '.join(f'{s:.2f}' for s in speedups)}")
    print(f"  speedup: {spread(speedups)}; efficiency = median speedup / {cpus} usable CPU(s)")
    best = min(serial) / min(pooled) / cpus
    print(f"  from the fastest run of each (least disturbed by other programs): {best:.2f}")
    print(f"  pool start-up ({ctx.get_start_method()}), not counted: {startup * 1000:.0f} ms")
    print(
        f"  cpus: {cpus} usable of {os.cpu_count()} | load average (1 min) before {load_before} "
        f"after {load_after} | Python {platform.python_version()} | {platform.platform()}"
    )
    if cpus == 1:
        print("  one usable CPU: no speedup is possible, so this is the pool's cost, not a speedup")
    if load_before is not None and max(load_before, load_after or 0) > cpus:
        print(f"  NOISY: the load average was above {cpus}: other programs used the CPUs")


if __name__ == "__main__":
    main()
