"""What does a process pool cost, beyond the work? Start-up, messages, payloads, granularity.

Measures, in one run and under every start method side by side (default: all that this platform
offers), the overheads that lesson 09 (``notebooks/09_performance.ipynb``) explains:

1. **start-up**: from creating ``Pool(N)`` until each worker has answered once;
2. **per-task messages**: ``pool.map`` of many tiny tasks (``square``), one task per message and
   then with ``map``'s automatic ``chunksize``, in microseconds per task;
3. **payload**: eight tasks that each receive ``--payload-mb`` megabytes (``perf.digest``) and
   eight that each return as much (``perf.make_payload``), in milliseconds per megabyte;
4. **granularity**: counting the primes below ``--stop`` cut into more and more tasks, as a ratio
   of pool time to serial time (below 1: the pool wins; above 1: it loses).

Every number is the median of ``--repeat`` runs on a pool whose workers have already started
(except the start-up itself). Each table ends with ratios, so that the start methods can be
compared at a glance: which overheads depend on the start method, and which do not?

    python benchmarks/overhead.py
    python benchmarks/overhead.py --methods spawn,fork --repeat 5 --workers 4

Timings on a shared or busy machine are noisy; nothing here is asserted by the test suite. With
the defaults it takes a few seconds per start method (longer on a busy machine).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench import add_repeat, load_average, machine_lines, positive_int

from helpers import usable_cpus
from helpers.instruments import perf
from helpers.tasks.workers import count_primes, count_primes_in_range, square, whoami

TIMEOUT = 120.0


def bounded_map(
    pool: Any,
    func: Callable[..., Any],
    tasks: Sequence[Any],
    chunksize: int | None = 1,
    star: bool = False,
) -> list[Any]:
    """``pool.map`` (or ``starmap``) with a bounded wait."""
    submit = pool.starmap_async if star else pool.map_async
    return submit(func, tasks, chunksize=chunksize).get(timeout=TIMEOUT)


def measure_method(
    method: str,
    workers: int,
    repeat: int,
    tiny_tasks: int,
    payload: int,
    stop: int,
    parts: Sequence[int],
) -> dict[str, Any]:
    """All the measurements for one start method, as a dict of medians in seconds."""
    ctx = mp.get_context(method)
    startups = []
    for _ in range(repeat):
        begin = time.perf_counter()
        with ctx.Pool(workers) as pool:
            bounded_map(pool, whoami, range(workers))
            startups.append(time.perf_counter() - begin)
    result: dict[str, Any] = {"startup": sorted(startups)[len(startups) // 2]}

    with ctx.Pool(workers) as pool:
        bounded_map(pool, whoami, range(workers))
        numbers = list(range(tiny_tasks))
        result["tiny_one"] = (
            perf.time_call(bounded_map, pool, square, numbers, repeat=repeat).median / tiny_tasks
        )
        result["tiny_auto"] = (
            perf.time_call(bounded_map, pool, square, numbers, chunksize=None, repeat=repeat).median
            / tiny_tasks
        )

        data = [bytes(payload)] * 8
        megabytes = 8 * payload / 1e6
        result["args_per_mb"] = (
            perf.time_call(bounded_map, pool, perf.digest, data, repeat=repeat).median / megabytes
        )
        result["results_per_mb"] = (
            perf.time_call(
                bounded_map, pool, perf.make_payload, [payload] * 8, repeat=repeat
            ).median
            / megabytes
        )

        serial = perf.time_call(count_primes, stop, repeat=repeat).median
        result["granularity"] = {}
        for k in parts:
            ranges = perf.split_range(stop, k)
            pooled = perf.time_call(
                bounded_map, pool, count_primes_in_range, ranges, star=True, repeat=repeat
            ).median
            result["granularity"][k] = pooled / serial
    return result


def main(argv: Sequence[str] | None = None) -> int:
    available = mp.get_all_start_methods()
    parser = argparse.ArgumentParser(
        description="Measure a process pool's overheads under each start method, side by side."
    )
    parser.add_argument(
        "--methods",
        default=",".join(available),
        help=f"comma-separated start methods (default: {','.join(available)})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="pool size (default: helpers.usable_cpus(), at least 2)",
    )
    add_repeat(parser, 3, "runs per measurement")
    parser.add_argument(
        "--tiny-tasks",
        type=positive_int,
        default=5_000,
        help="number of tiny tasks for the per-message cost (default: 5000)",
    )
    parser.add_argument(
        "--payload-mb",
        type=float,
        default=2.0,
        help="megabytes per task for the payload test (default: 2)",
    )
    parser.add_argument(
        "--stop",
        type=int,
        default=60_000,
        help="count the primes below this for the granularity test (default: 60000)",
    )
    args = parser.parse_args(argv)

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in available]
    if unknown or not methods:
        parser.error(f"unknown start method(s) {unknown}; this platform has {available}")
    if args.payload_mb <= 0:
        parser.error("--payload-mb must be positive")
    workers = args.workers or max(2, usable_cpus())
    payload = int(args.payload_mb * 1e6)
    parts = [k for k in (workers, 100, 1_000, 10_000) if k <= args.stop]

    print(
        f"Pool({workers}) | usable CPUs {usable_cpus()} | median of {args.repeat} runs | "
        f"methods: {', '.join(methods)}"
    )
    load_before = load_average()
    results = {}
    for method in methods:
        print(f"measuring {method} ...", flush=True)
        results[method] = measure_method(
            method, workers, args.repeat, args.tiny_tasks, payload, args.stop, parts
        )

    load_after = load_average()
    fastest = min(r["startup"] for r in results.values())
    print(f"\n1. Start-up of Pool({workers}), until every worker answered once")
    print(f"{'method':>11} {'ms':>9} {'x fastest':>10}")
    for method, r in results.items():
        print(f"{method:>11} {r['startup'] * 1000:9.1f} {r['startup'] / fastest:10.1f}")

    print(f"\n2. Per-task cost of {args.tiny_tasks:,} tiny tasks (square), microseconds per task")
    print(f"{'method':>11} {'chunksize=1':>12} {'automatic':>10} {'ratio':>7}")
    for method, r in results.items():
        print(
            f"{method:>11} {r['tiny_one'] * 1e6:12.1f} {r['tiny_auto'] * 1e6:10.1f} "
            f"{r['tiny_one'] / r['tiny_auto']:7.1f}"
        )

    print(f"\n3. Moving data: 8 tasks of {args.payload_mb:g} MB each, milliseconds per MB moved")
    print(f"{'method':>11} {'arguments':>10} {'results':>9}")
    for method, r in results.items():
        print(f"{method:>11} {r['args_per_mb'] * 1000:10.2f} {r['results_per_mb'] * 1000:9.2f}")

    print(
        f"\n4. Granularity: primes below {args.stop:,} in k tasks (chunksize=1), "
        "pool time / serial time (< 1: the pool wins)"
    )
    print(f"{'method':>11} " + " ".join(f"{f'k={k:,}':>9}" for k in parts))
    for method, r in results.items():
        print(f"{method:>11} " + " ".join(f"{r['granularity'][k]:9.2f}" for k in parts))

    print(
        "\nExpect start-up to depend on the start method, and the other three costs hardly at"
        "\nall: once the workers run, every method sends tasks the same way (pickles"
        "\nthrough pipes). Timings vary from run to run: read the ratios, not the decimals."
    )
    print("\n".join(machine_lines(usable_cpus(), load_before, load_after)))
    return 0


# Required: spawn and forkserver workers import this file again (as __mp_main__); the guard keeps
# them from running main() themselves.
if __name__ == "__main__":
    raise SystemExit(main())
