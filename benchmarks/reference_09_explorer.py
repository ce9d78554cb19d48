"""Measure lesson 09's explorer on a machine with two or more CPUs, as the lesson's reference.

On one usable CPU the explorer can only show a pool that is never faster than the plain loop, so
lesson 09 also shows these stored runs, labelled as such: the explorer's starting settings on
pools of 1 to twice the usable CPUs, and the slow configuration of the lesson (tiny tasks with
1 MB arguments). Run it from the repository root, on an otherwise idle machine:

    .venv/bin/python benchmarks/reference_09_explorer.py

It writes ``notebooks/reference/09_explorer.json``: every run as
``helpers.instruments.explorer.ExplorerRun.to_dict()`` (settings, seconds of each serial and pooled
pass, pool start-up) and the machine (CPU model, usable CPUs, load average before and after,
Python, start method). Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
from pathlib import Path

from helpers.instruments import perf
from helpers.instruments.cpus import usable_cpus
from helpers.instruments.explorer import PerformanceExplorer, Settings

OUT = Path(__file__).resolve().parent.parent / "notebooks" / "reference" / "09_explorer.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the JSON")
    args = parser.parse_args()
    cpus = usable_cpus()
    if cpus < 2:
        raise SystemExit("a reference figure needs at least 2 usable CPUs; this machine has 1")
    method = mp.get_context().get_start_method()
    before = perf.machine_info()
    explorer = PerformanceExplorer(Settings(workers=cpus, start_method=method))
    runs = []
    try:
        for workers in range(1, 2 * cpus + 1):  # the lesson's starting settings, every pool size
            runs.append(explorer.run(Settings(workers=workers, start_method=method), wait=True))
        slow = Settings(workers=cpus, limit=2_000, arg_bytes=1_000_000, start_method=method)
        runs.append(explorer.run(slow, wait=True))  # the lesson's slow configuration
    finally:
        explorer.close()
    after = perf.machine_info()
    if not all(r is not None and r.complete for r in runs):
        raise SystemExit("a run did not complete; nothing written")
    data = {
        "what": "lesson 09: the explorer's runs (starting settings on every pool size, then slow)",
        "machine": {
            **before,
            "start_method": method,
            "load_average_after": after["load_average_1_5_15_min"],
        },
        "runs": [r.to_dict() for r in runs if r is not None],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {args.out}")
    for r in runs:
        if r is not None:
            print(r.summary())
    print(
        f"load average before {before['load_average_1_5_15_min']}, "
        f"after {after['load_average_1_5_15_min']}"
    )


if __name__ == "__main__":
    main()
