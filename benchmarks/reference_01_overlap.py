"""Make notebooks/reference/01_two_processes.json: lesson 01's "really at the same time?" figure.

Lesson 01 measures, live, whether N processes that each count primes (fixed work) computed at
the same time: every process records its CPU time and its clock interval. On a machine with one
usable CPU the lesson cannot show parallelism, so it prints this stored measurement from a
multi-core run instead, clearly labelled. Run this script on a machine with at least 2 free CPUs:

    .venv/bin/python benchmarks/reference_01_overlap.py

It refuses to write the file when fewer than 2 CPUs are usable, and records the load average
before and after, so that a noisy measurement can be recognised. On a shared machine that is
never idle, ``--nice 15`` runs the measurement at a raised priority (lower niceness; needs root),
so that the two processes get the CPUs nearly to themselves; the file records that it did.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

from helpers import usable_cpus
from helpers.instruments.perf import machine_info
from helpers.tasks.processes import count_primes_to_file, read_records

LIMIT = 350_000
PROCESSES = 2
ROUNDS = 5
OUT = Path(__file__).resolve().parent.parent / "notebooks" / "reference" / "01_two_processes.json"


def one_round(n: int, limit: int) -> list[dict]:
    """Start n processes that each count the primes below ``limit``; return their records."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"worker-{i}.json" for i in range(n)]
        procs = [mp.Process(target=count_primes_to_file, args=(limit, str(p))) for p in paths]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=120)
        return read_records(paths)


def computing_at_once(records: list[dict]) -> float:
    """CPU seconds of all records / clock seconds from the first start to the last end."""
    span = max(r["end"] for r in records) - min(r["start"] for r in records)
    return sum(r["cpu"] for r in records) / span


def raise_priority(amount: int) -> None:
    """Lower this process's niceness by ``amount``; its children inherit it.

    On Linux with autogroup scheduling, niceness only counts inside a session's group and the
    groups share the CPUs equally, so the script also starts a session of its own and lowers that
    group's niceness (``/proc/self/autogroup``).
    """
    os.nice(-amount)
    autogroup = Path("/proc/self/autogroup")
    if autogroup.exists():
        try:
            if os.getsid(0) != os.getpid():
                os.setsid()
            autogroup.write_text(f"{-amount}\n")
        except OSError as exc:
            print(f"could not raise the autogroup's priority: {exc}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--nice", type=int, default=0, help="raise the priority by this much (root only)"
    )
    options = parser.parse_args()
    cpus = usable_cpus()
    if cpus < 2:
        print(f"only {cpus} usable CPU: a reference needs at least 2", file=sys.stderr)
        return 1
    if options.nice:
        raise_priority(options.nice)
    load_before = os.getloadavg()[0]
    rounds = [one_round(PROCESSES, LIMIT) for _ in range(ROUNDS)]
    load_after = os.getloadavg()[0]
    at_once = [computing_at_once(r) for r in rounds]
    shares = [r["cpu"] / (r["end"] - r["start"]) for records in rounds for r in records]
    data = {
        "what": "lesson 01: processes counting primes at the same time (CPU time / clock time)",
        "date": datetime.date.today().isoformat(),
        "machine": f"{machine_info()['cpu_model']}, {platform.system()} {platform.release()}",
        "usable_cpus": cpus,
        "python": platform.python_version(),
        "start_method": mp.get_start_method(),
        "load_before": round(load_before, 2),
        "load_after": round(load_after, 2),
        "priority": (
            f"raised (niceness {os.nice(0)}) because the shared machine was busy"
            if options.nice
            else "normal"
        ),
        "processes": PROCESSES,
        "limit": LIMIT,
        "rounds": ROUNDS,
        "at_once": [round(x, 3) for x in at_once],
        "at_once_median": round(statistics.median(at_once), 3),
        "at_once_min": round(min(at_once), 3),
        "at_once_max": round(max(at_once), 3),
        "share_median": round(statistics.median(shares), 3),
        "share_min": round(min(shares), 3),
        "share_max": round(max(shares), 3),
        "cpu_seconds_median": round(statistics.median(r["cpu"] for rs in rounds for r in rs), 3),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(data, indent=2))
    if max(load_before, load_after) > cpus:
        print(f"warning: load average above {cpus}: the figure is noisy", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
