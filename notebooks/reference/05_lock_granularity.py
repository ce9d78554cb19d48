"""Measure lesson 05's lock-granularity comparison and store it as the lesson's reference figure.

Lesson 05 (section 7) runs the same measurement live. On a machine where the kernel may use only
one CPU no strategy can run in parallel, so the lesson also shows this stored run from a machine
with two or more CPUs. Run from the repository root, on an otherwise idle machine:

    .venv/bin/python notebooks/reference/05_lock_granularity.py

The work is sized exactly as in the lesson: ``sync.seconds_per_item(UNITS)`` times one item
here, and each worker gets ``WORK_SECONDS / workers / per_item`` items per run, with
``WORK_SECONDS = min(usable CPUs, 2)`` (about a second per run where the work spreads over two
CPUs, about two under the whole-loop lock).

It writes ``notebooks/reference/05_lock_granularity.json``: for each strategy, the wall-clock
seconds and the CPU seconds used by all workers in every run, the final counts, the sizing, and
the machine (CPU model, usable CPUs, Python, start method, load average before and after).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

import helpers
from helpers.tasks import sync

UNITS, REPEATS = 40, 7  # the lesson uses the same UNITS and sizing rule (and 5 repeats)
OUT = Path(__file__).with_suffix(".json")


def measure(
    ctx: mp.context.BaseContext, strategy: str, workers: int, items: int
) -> tuple[list[tuple[float, float]], int]:
    """REPEATS runs of one strategy: ([(wall s, CPU s of all workers)], final count), as in the
    lesson: the workers start once and meet at the barrier before every run."""
    counter = ctx.Value("i", 0, lock=False)
    lock = ctx.Lock()
    together = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=sync.count_items,
            args=(strategy, counter, lock, items, together, results),
            kwargs={"units": UNITS, "repeats": REPEATS},
        )
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    records = [results.get(timeout=120) for _ in range(workers * REPEATS)]
    for p in procs:
        p.join(30)
    runs = []
    for r in range(REPEATS):
        mine = [rec for rec in records if rec.task[1] == r]
        wall = max(rec.end for rec in mine) - min(rec.start for rec in mine)
        runs.append((wall, sum(rec.cpu for rec in mine)))
    return runs, counter.value


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    """Measure every strategy REPEATS times, interleaved, and write the JSON file."""
    ctx = mp.get_context()
    cpus = helpers.usable_cpus()
    if cpus < 2:
        sys.exit("the reference needs a machine with at least two usable CPUs")
    workers = max(2, min(cpus, 4))
    work_seconds = min(cpus, 2)
    load_before = os.getloadavg()
    per_item = sync.seconds_per_item(UNITS)
    items = round(work_seconds / workers / per_item)
    runs, counts = {}, {}
    for strategy in sync.STRATEGIES:
        runs[strategy], counts[strategy] = measure(ctx, strategy, workers, items)
    data = {
        "what": "lesson 05, section 7: one shared counter, three locking strategies",
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {
            "cpu": cpu_model(),
            "usable_cpus": helpers.usable_cpus(),
            "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(),
            "start_method": ctx.get_start_method(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "workers": workers,
        "work_seconds": work_seconds,
        "seconds_per_item": round(per_item, 9),
        "items_per_worker": items,
        "units_per_item": UNITS,
        "repeats": REPEATS,
        "counts": counts,
        "runs": {
            s: [{"wall": round(w, 4), "cpu": round(c, 4)} for w, c in r] for s, r in runs.items()
        },
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
