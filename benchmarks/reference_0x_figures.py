"""Regenerate the reference figures of lessons 00 and 03 (``notebooks/reference/0[03]_*.json``).

A learner whose notebook may use only one CPU cannot see a parallel speedup: no pool can beat a
serial loop there. Lessons 00 and 03 then show, clearly labelled, what the same code measured on
a machine with at least two usable CPUs. This script is that measurement, with the same fixed
work and the same orchestration as the lessons' cells:

- ``00_two_tasks.json``: two ``count_primes(400_000)`` tasks in a pool of two processes, three
  times; the TaskRecords (wall interval and CPU time per task) of the last run, and each run's
  wall span and busy CPUs (CPU seconds / wall seconds).
- ``03_gil.json``: four ``count_primes(250_000)`` tasks run serially, in a ``ThreadPool`` and in a
  process ``Pool`` (both sized from ``usable_cpus()``), five times each (pools started before
  timing); the seconds of every repeat, and the TaskRecords of one thread run and one process
  run.

Each file also records the machine: CPU model, usable CPUs, Python, OS, start method, the load
average before and after, the share of CPU time that was idle just before, and the date. Run it on an otherwise idle machine with at least two
usable CPUs (it refuses fewer), then commit the JSON files:

    .venv/bin/python benchmarks/reference_0x_figures.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing.pool import ThreadPool
from pathlib import Path
from typing import Any

from helpers import timed, usable_cpus
from helpers.instruments.perf import machine_info
from helpers.instruments.timeline import busy_cpus, records_to_dicts, wall_span
from helpers.tasks.workers import count_primes, square

OUT = Path(__file__).resolve().parent.parent / "notebooks" / "reference"

LESSON00_LIMIT = 400_000  # one task: about half a second on the reference machine
LESSON03_LIMIT = 250_000  # four of them: about a second of serial work
LESSON03_TASKS = [LESSON03_LIMIT] * 4


def idle_fraction(seconds: float = 2.0) -> float | None:
    """The share of all CPUs' time spent idle over the next ``seconds`` (Linux), else None."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total

    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return (idle1 - idle0) / max(1, total1 - total0)


def machine(load_before: tuple[float, float, float], idle: float | None) -> dict[str, Any]:
    """Where and when the figures were measured."""
    return {
        "cpu_model": machine_info()["cpu_model"],
        "os_cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "start_method": mp.get_start_method(),
        "load_average_before": [round(x, 2) for x in load_before],
        "cpu_idle_before": None if idle is None else round(idle, 2),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def measure(run: Callable[[], object], repeats: int) -> list[float]:
    """Wall-clock seconds of each of ``repeats`` calls of ``run``."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return seconds


def lesson00(repeats: int = 3) -> dict[str, Any]:
    """Two fixed tasks in a pool of two processes, as in lesson 00."""
    spans, busy, records = [], [], []
    with mp.Pool(processes=2) as pool:
        for _ in range(repeats):
            records = pool.map_async(timed(count_primes), [LESSON00_LIMIT] * 2).get(timeout=60)
            spans.append(wall_span(records))
            busy.append(busy_cpus(records))
    return {"limit": LESSON00_LIMIT, "spans": spans, "busy_cpus": busy, "records": records}


def lesson03(repeats: int = 5) -> dict[str, Any]:
    """Serial, thread pool and process pool on the same fixed work, as in lesson 03."""
    n = usable_cpus()
    serial = measure(lambda: [count_primes(x) for x in LESSON03_TASKS], repeats)
    with ThreadPool(n) as tpool:
        threads = measure(lambda: tpool.map(count_primes, LESSON03_TASKS, chunksize=1), repeats)
        thread_records = tpool.map(timed(count_primes), LESSON03_TASKS, chunksize=1)
    with mp.Pool(n) as pool:
        pool.map(square, range(n))  # every worker is up before the clock starts
        procs = measure(lambda: pool.map(count_primes, LESSON03_TASKS, chunksize=1), repeats)
        process_records = pool.map(timed(count_primes), LESSON03_TASKS, chunksize=1)
    return {
        "tasks": LESSON03_TASKS,
        "pool_size": n,
        "seconds": {"serial loop": serial, f"ThreadPool({n})": threads, f"Pool({n})": procs},
        "medians": {
            "serial": statistics.median(serial),
            "threads": statistics.median(threads),
            "processes": statistics.median(procs),
        },
        "thread_records": thread_records,
        "process_records": process_records,
    }


def to_json(data: dict[str, Any]) -> str:
    """Dump ``data``, turning TaskRecord lists (under keys ending in ``records``) into dicts."""
    clean = {k: records_to_dicts(v) if k.endswith("records") else v for k, v in data.items()}
    return json.dumps(clean, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the JSON files")
    parser.add_argument("--force", action="store_true", help="measure even on one usable CPU")
    args = parser.parse_args(argv)
    if usable_cpus() < 2 and not args.force:
        print("This process may use only one CPU: a reference figure needs at least two.")
        return 1
    load = os.getloadavg()
    idle = idle_fraction()
    if load[0] > 1.0 or (idle is not None and idle < 0.9):
        print(f"warning: load average {load[0]:.2f}, CPUs idle {idle}: other work may distort it")
    r00 = lesson00()
    r03 = lesson03()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in (("00_two_tasks.json", r00), ("03_gil.json", r03)):
        data["machine"] = machine(load, idle)
        (args.out / name).write_text(to_json(data))
        print("wrote", args.out / name)
    m = r03["medians"]
    print(
        f"00: spans {[round(s, 2) for s in r00['spans']]}, busy CPUs "
        f"{[round(b, 2) for b in r00['busy_cpus']]}"
    )
    print(
        f"03: serial {m['serial']:.2f} s, threads {m['threads']:.2f} s, processes "
        f"{m['processes']:.2f} s (medians); speedups {m['serial'] / m['threads']:.2f}x, "
        f"{m['serial'] / m['processes']:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
