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
import statistics
import time

from bench import add_repeat, load_average, machine_lines, positive_int, spread

from helpers.instruments.cpus import usable_cpus
from helpers.tasks.workers import count_primes, whoami

TIMEOUT = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--limit", type=positive_int, default=120_000, help="count_primes limit per task"
    )
    parser.add_argument(
        "--tasks-per-cpu", type=positive_int, default=4, help="equal tasks per usable CPU"
    )
    add_repeat(parser, 7, "interleaved rounds")
    args = parser.parse_args()

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
    if cpus == 1:
        print("  one usable CPU: no speedup is possible, so this is the pool's cost, not a speedup")
    print("\n".join(machine_lines(cpus, load_before, load_after)))


if __name__ == "__main__":
    main()
