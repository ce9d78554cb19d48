"""How much faster does a process pool count primes? Serial vs Pool(1), Pool(2), ... in one run.

Counts the primes below each limit in ``--sizes`` with ``helpers.tasks.workers.count_primes``: first in
this process, one limit after another, then with ``Pool(k).map`` for k = 1 .. ``--max-workers``
(default: ``helpers.usable_cpus()``). For each pool size it runs ``--repeat`` interleaved rounds
(a serial run, then a pooled run, on a pool whose workers have already started) after an untimed
warm-up, and reports the median and the range of the rounds' speedups, as lesson 09 does; the
time to start each pool is reported separately. With ``--plot PATH`` it saves a chart drawn by
``helpers.instruments.plots.plot_speedup``.

    python benchmarks/pool_speedup.py
    python benchmarks/pool_speedup.py --sizes 100000,150000,200000 --repeat 7 --plot speedup.png

Timings on a shared or busy machine are noisy; nothing here is asserted by the test suite. With
the defaults it takes a few seconds per worker count (well under a minute on a 2-CPU machine).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from collections.abc import Sequence

from bench import add_repeat, load_average, machine_lines, positive_int

from helpers import usable_cpus
from helpers.tasks.workers import count_primes, whoami

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


def serial_run(sizes: Sequence[int]) -> tuple[float, list[int]]:
    """One serial run: its seconds and the counts."""
    start = time.perf_counter()
    counts = [count_primes(n) for n in sizes]
    return time.perf_counter() - start, counts


def time_pool(
    ctx: mp.context.BaseContext,
    workers: int,
    sizes: Sequence[int],
    repeat: int,
    chunksize: int,
    timeout: float,
    expected: list[int],
) -> tuple[float, list[float], list[float]]:
    """Start-up time of ``Pool(workers)``, then ``repeat`` interleaved rounds of *serial run,
    pooled run*: returns the start-up and the seconds of every serial and every pooled run.

    Interleaving means that a busy moment on the machine hits both sides of a round, so each
    round's speedup (serial / pooled) is fairer than one computed from far-apart runs.
    """
    start = time.perf_counter()
    serial: list[float] = []
    pooled: list[float] = []
    with ctx.Pool(workers) as pool:
        # Wait until every worker has started and answered, so that the runs below time the work.
        pool.map_async(whoami, range(workers), chunksize=1).get(timeout=timeout)
        startup = time.perf_counter() - start
        # Warm-up round, untimed; it also checks the pool's answers.
        if pool.map_async(count_primes, sizes, chunksize=chunksize).get(timeout) != expected:
            raise SystemExit(f"Pool({workers}) gave different counts than the serial run")
        for _ in range(repeat):
            serial.append(serial_run(sizes)[0])
            start = time.perf_counter()
            pool.map_async(count_primes, sizes, chunksize=chunksize).get(timeout=timeout)
            pooled.append(time.perf_counter() - start)
    return startup, serial, pooled


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
    add_repeat(parser, 5, "interleaved rounds (serial run, pooled run) per pool size")
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
        f" | {args.repeat} rounds | start method {ctx.get_start_method()} | usable CPUs {cpus}"
    )

    load_before = load_average()
    _, expected = serial_run(args.sizes)  # warm-up of the loop, and the reference answers
    print(
        f"\n{'run':>10} {'start-up s':>11} {'serial s':>9} {'pool s':>8} "
        f"{'speedup: median (min-max)':>27} {'per worker':>11}"
    )
    workers = list(range(1, max_workers + 1))
    seconds, spreads = [], []
    serial_all: list[float] = []
    for k in workers:
        startup, serial, pooled = time_pool(
            ctx, k, args.sizes, args.repeat, args.chunksize, args.timeout, expected
        )
        serial_all += serial
        seconds.append(statistics.median(pooled))
        spreads.append((min(pooled), max(pooled)))
        ratios = [s / p for s, p in zip(serial, pooled, strict=True)]
        mid = statistics.median(ratios)
        print(
            f"{f'Pool({k})':>10} {startup:11.3f} {statistics.median(serial):9.3f} "
            f"{seconds[-1]:8.3f} {f'{mid:.2f} ({min(ratios):.2f}-{max(ratios):.2f})':>27} "
            f"{mid / k:11.0%}"
        )
    serial_median = statistics.median(serial_all)

    print(
        "\nspeedup = serial run / pooled run of the same round (start-up excluded); per worker ="
        " speedup / workers.\nExpect it to stop growing at the usable CPUs, and to stay below"
        " them on a busy machine; a wide min-max range means the machine was busy."
    )
    print("\n".join(machine_lines(cpus, load_before, load_average())))

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")  # a file, no window: this is a script, not a notebook
        import matplotlib.pyplot as plt

        from helpers.instruments.plots import plot_speedup

        fig, ax = plt.subplots(figsize=(5, 3.5))
        plot_speedup(
            workers,
            seconds,
            spread=spreads,
            ax=ax,
            title=f"count_primes on {len(args.sizes)} limits ({ctx.get_start_method()})",
        )
        ax.lines[0].set_label("vs. Pool(1)")
        ax.plot(workers, [serial_median / s for s in seconds], "s:", label="vs. serial (no pool)")
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
