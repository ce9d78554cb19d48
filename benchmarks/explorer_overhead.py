"""What does lesson 09's performance explorer add to the time it measures? Its instrumented pool
loop against a plain ``Pool.map`` of the same work, side by side in one run.

Both sides run ``count_primes(--limit)`` for ``--tasks`` equal tasks on a fresh, warmed-up pool of
``usable_cpus()`` workers (same start method, ``chunksize`` 1), and time only the pass over the
tasks (start-up is excluded from both):

- **explorer**: ``PerformanceExplorer.run(settings, wait=True)`` with one repeat, headless (the
  same code the Run button starts): chunks built in the parent, ``imap_unordered`` polled every
  0.1 s for a Cancel, a timing record per task, a progress bar;
- **plain**: ``pool.map(count_primes, tasks)``.

``--repeat`` interleaved rounds (which side goes first alternates). The overhead is the median
over the rounds of ``explorer pass / plain pass - 1``, paired round by round as lesson 09 pairs
its speedups (the goal is 5 % or less); the ratio of the two medians and of the two fastest runs
are printed beside it, and so is the whole press of Run (start-up, plain loop, pass, drawing).
Before each timed pass both sides run ``gc.collect()``, as the explorer does, so that garbage
left by earlier figures is not collected while the clock runs.

    python benchmarks/explorer_overhead.py
    python benchmarks/explorer_overhead.py --repeat 9

The first line printed is ``explorer overhead: X%``; the lines after it are the measurements
behind it. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import statistics
import time

from bench import add_repeat, load_average, machine_lines, positive_int, spread

from helpers.instruments.cpus import usable_cpus
from helpers.instruments.explorer import PerformanceExplorer, Settings
from helpers.tasks.workers import count_primes, whoami

TIMEOUT = 300.0
MS = (1000, " ms", 1)  # spread() of seconds, in milliseconds to one decimal


def plain_pass(ctx: mp.context.BaseContext, settings: Settings) -> tuple[float, float]:
    """A fresh pool, warmed up, then one timed ``pool.map``: (pass seconds, whole seconds)."""
    tasks = [settings.limit] * settings.tasks
    begin = time.perf_counter()
    with ctx.Pool(settings.workers) as pool:
        pool.map_async(whoami, range(settings.workers), chunksize=1).get(TIMEOUT)
        gc.collect()  # as the explorer does before each timed pass
        t0 = time.perf_counter()
        pool.map_async(count_primes, tasks, chunksize=settings.chunksize).get(TIMEOUT)
        seconds = time.perf_counter() - t0
    return seconds, time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--limit", type=positive_int, default=40_000, help="count_primes limit per task"
    )
    parser.add_argument("--tasks", type=positive_int, default=32, help="number of equal tasks")
    add_repeat(parser, 11, "interleaved rounds")
    args = parser.parse_args()

    cpus = usable_cpus()
    ctx = mp.get_context()
    settings = Settings(
        workers=cpus,
        limit=args.limit,
        tasks=args.tasks,
        repeats=1,
        start_method=ctx.get_start_method(),
    )
    explorer = PerformanceExplorer(settings)
    load_before = load_average()
    explorer.run(settings, wait=True)  # warm-up (its rounds are not counted)
    plain_pass(ctx, settings)
    explored, plain, explored_whole, plain_whole = [], [], [], []
    try:
        for i in range(args.repeat):
            for side in ("explorer", "plain") if i % 2 == 0 else ("plain", "explorer"):
                if side == "plain":  # the order alternates, so neither side always goes first
                    seconds, whole = plain_pass(ctx, settings)
                    plain.append(seconds)
                    plain_whole.append(whole)
                    continue
                t0 = time.perf_counter()
                run = explorer.run(settings, wait=True, timeout=TIMEOUT)
                explored_whole.append(time.perf_counter() - t0)
                if run is None or not run.complete:
                    raise SystemExit(f"the explorer's run did not complete: {run and run.error}")
                explored.append(run.pooled[0])
    finally:
        explorer.close()
    load_after = load_average()

    ratios = [e / p - 1 for e, p in zip(explored, plain, strict=True)]
    overhead = statistics.median(ratios)  # paired rounds, as the speedups of lesson 09
    print(f"explorer overhead: {overhead * 100:.1f}%")
    print(f"  workload: {args.tasks} x count_primes({args.limit:,}), Pool({cpus}), chunksize 1, "
          f"{ctx.get_start_method()}")  # fmt: skip
    print(f"  explorer pass (imap_unordered, records, progress): {spread(explored, *MS)}")
    print(f"  plain pool.map pass: {spread(plain, *MS)}")
    print(f"  overhead per round: {', '.join(f'{r * 100:+.1f}%' for r in ratios)}")
    print(f"  overhead = median of the rounds' (explorer / plain - 1); ratio of the medians: "
          f"{(statistics.median(explored) / statistics.median(plain) - 1) * 100:+.1f}%")  # fmt: skip
    best = min(explored) / min(plain) - 1
    print(f"  from the fastest run of each (least disturbed by other programs): {best * 100:+.1f}%")
    print(
        f"  whole press of Run (start-up, plain loop, pass, drawing): {spread(explored_whole, *MS)}"
        f"; plain pool start-up and map: {spread(plain_whole, *MS)}"
    )
    print("\n".join(machine_lines(cpus, load_before, load_after)))


if __name__ == "__main__":
    main()
