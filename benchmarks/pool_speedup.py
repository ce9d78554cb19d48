"""How much faster does a process pool count primes? Serial vs Pool(1), Pool(2), ... in one run.

Counts the primes below each limit in ``--sizes`` with ``helpers.workers.count_primes``: first in
this process, one limit after another, then with ``Pool(k).map`` for k = 1 .. ``--max-workers``
(default: ``helpers.usable_cpus()``). Each measurement is the best of ``--repeat`` runs, on a pool
whose workers have already started; the time to start each pool is reported separately. Prints
a table of times and speedups (serial time / pool time), and with ``--plot PATH`` saves a chart
drawn by ``helpers.plots.plot_speedup``.

    python benchmarks/pool_speedup.py
    python benchmarks/pool_speedup.py --sizes 100000,150000,200000 --repeat 5 --plot speedup.png

Timings on a shared or busy machine are noisy; nothing here is asserted by the test suite. With
the defaults it takes a few seconds per worker count (well under a minute on a 2-CPU machine).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from collections.abc import Sequence

from helpers import usable_cpus
from helpers.workers import count_primes, whoami

DEFAULT_SIZES = ",".join(str(n) for n in range(60_000, 180_001, 8_000))  # 16 limits


def parse_sizes(text: str) -> list[int]:
    """Parse ``"60000,80000"`` (underscores allowed) into a list of positive ints."""
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--sizes needs comma-separated integers: {exc}") from exc
    if not sizes or any(n < 0 for n in sizes):
        raise argparse.ArgumentTypeError("--sizes needs at least one non-negative integer")
    return sizes


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def time_serial(sizes: Sequence[int], repeat: int) -> tuple[float, list[int]]:
    """Best time of ``repeat`` serial runs, and the counts."""
    best = float("inf")
    counts: list[int] = []
    for _ in range(repeat):
        start = time.perf_counter()
        counts = [count_primes(n) for n in sizes]
        best = min(best, time.perf_counter() - start)
    return best, counts


def time_pool(
    ctx: mp.context.BaseContext,
    workers: int,
    sizes: Sequence[int],
    repeat: int,
    chunksize: int,
    timeout: float,
) -> tuple[float, float, list[int]]:
    """Start-up time, best map time of ``repeat`` runs, and the counts, for ``Pool(workers)``."""
    start = time.perf_counter()
    with ctx.Pool(workers) as pool:
        # Wait until every worker has started and answered, so that the runs below time the work.
        pool.map_async(whoami, range(workers), chunksize=1).get(timeout=timeout)
        startup = time.perf_counter() - start
        best = float("inf")
        counts: list[int] = []
        for _ in range(repeat):
            start = time.perf_counter()
            counts = pool.map_async(count_primes, sizes, chunksize=chunksize).get(timeout=timeout)
            best = min(best, time.perf_counter() - start)
    return startup, best, counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time count_primes serially and with Pool(1..N), and print the speedups."
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes(DEFAULT_SIZES),
        help="comma-separated limits, one task each (default: 16 limits from 60000 to 180000)",
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=3,
        help="runs per measurement; the best is kept (default: 3)",
    )
    parser.add_argument(
        "--max-workers",
        type=positive_int,
        default=None,
        help="largest pool to try (default: helpers.usable_cpus())",
    )
    parser.add_argument(
        "--chunksize",
        type=positive_int,
        default=1,
        help="Pool.map chunksize (default: 1, best for a few long tasks)",
    )
    parser.add_argument(
        "--start-method",
        choices=mp.get_all_start_methods(),
        default=None,
        help="start method for the pools (default: the platform's)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="give up on a single map after this many seconds (default: 120)",
    )
    parser.add_argument(
        "--plot",
        metavar="PATH",
        default=None,
        help="save a speedup chart (PNG, SVG, PDF, ...) to PATH",
    )
    args = parser.parse_args(argv)

    ctx = mp.get_context(args.start_method)
    cpus = usable_cpus()
    max_workers = args.max_workers or cpus
    print(
        f"{len(args.sizes)} tasks: count_primes(n) for n in {min(args.sizes)}..{max(args.sizes)}"
        f" | best of {args.repeat} | start method {ctx.get_start_method()} | usable CPUs {cpus}"
    )

    serial, expected = time_serial(args.sizes, args.repeat)
    print(f"\n{'run':>10} {'start-up s':>11} {'work s':>8} {'speedup':>8} {'per worker':>11}")
    print(f"{'serial':>10} {'':>11} {serial:8.3f} {1.0:8.2f} {'':>11}")

    workers = list(range(1, max_workers + 1))
    seconds = []
    for k in workers:
        startup, best, counts = time_pool(
            ctx, k, args.sizes, args.repeat, args.chunksize, args.timeout
        )
        if counts != expected:
            raise SystemExit(f"Pool({k}) gave different counts than the serial run")
        seconds.append(best)
        speedup = serial / best
        print(f"{f'Pool({k})':>10} {startup:11.3f} {best:8.3f} {speedup:8.2f} {speedup / k:11.0%}")

    print(
        "\nspeedup = serial time / pool time (start-up excluded); per worker = speedup / workers."
        "\nExpect it to stop growing at the usable CPUs, and to stay below them on a busy machine."
    )

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")  # a file, no window: this is a script, not a notebook
        import matplotlib.pyplot as plt

        from helpers.plots import plot_speedup

        fig, ax = plt.subplots(figsize=(5, 3.5))
        plot_speedup(
            workers,
            seconds,
            ax=ax,
            title=f"count_primes on {len(args.sizes)} limits ({ctx.get_start_method()})",
        )
        ax.lines[0].set_label("vs. Pool(1)")
        ax.plot(workers, [serial / s for s in seconds], "s:", label="vs. serial (no pool)")
        ax.set_xticks(workers)
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot)
        print(f"saved the chart to {args.plot}")
    return 0


# Required: spawn and forkserver workers import this file again (as __mp_main__); the guard keeps
# them from running main() themselves.
if __name__ == "__main__":
    raise SystemExit(main())
