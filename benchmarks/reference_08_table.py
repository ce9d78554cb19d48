"""Measure lesson 08's processes-versus-threads table on two CPUs and store it as the reference.

Lesson 08 builds its table live from the learner's own measurements. On one usable CPU nothing
can compute in parallel, so the lesson also shows this stored run from a machine with two CPUs.
This script does not re-implement the measurements: it runs the lesson notebook itself (with
nbclient, pinned to two CPUs, default start method) and saves the ``RESULTS`` dict the notebook
built, plus a description of the machine. Run it from the repository root, on an idle machine:

    .venv/bin/python benchmarks/reference_08_table.py [--wait SECONDS]

With ``--wait`` it first waits (up to SECONDS) for the one-minute load average to drop below 2,
so that other programs do not take the CPUs the measurement needs. It writes ``notebooks/reference/08_processes_vs_threads.json``. Nothing here is asserted by the
test suite. Needs the test extra (nbclient, nbformat) and a machine with two or more CPUs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from helpers.instruments.perf import machine_info

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "notebooks" / "08_processes_vs_threads.ipynb"
OUT = ROOT / "notebooks" / "reference" / "08_processes_vs_threads.json"
CPUS = 2  # the reference is a two-CPU machine: the smallest that can show parallel work
MARK = "RESULTS_JSON="


def load_average() -> float:
    """The one-minute load average (-1.0 where the platform has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0


def run_lesson() -> dict[str, Any]:
    """Execute the lesson in a fresh kernel and return its ``RESULTS``."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(LESSON, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(f"import json\nprint({MARK!r} + json.dumps(RESULTS))")
    )
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(LESSON.parent)}}
    )
    client.execute()
    for out in nb.cells[-1].get("outputs", []):
        text = out.get("text", "")
        if out.get("output_type") == "stream" and text.startswith(MARK):
            return json.loads(text[len(MARK) :])
    raise RuntimeError("the lesson did not print its RESULTS")


def main() -> int:
    """Pin this process (and so the kernel it starts) to two CPUs, run the lesson, save."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait for load < 2")
    args = parser.parse_args()
    deadline = time.monotonic() + args.wait
    while load_average() >= CPUS and time.monotonic() < deadline:
        time.sleep(10)
    if not hasattr(os, "sched_setaffinity"):
        print("this script needs os.sched_setaffinity (Linux)", file=sys.stderr)
        return 1
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < CPUS:
        print(f"needs {CPUS} CPUs, this process may use {len(allowed)}", file=sys.stderr)
        return 1
    os.sched_setaffinity(0, allowed[:CPUS])
    before = load_average()
    started = time.time()
    results = run_lesson()
    results["machine"] = {
        "cpu": machine_info()["cpu_model"],
        "platform": f"{platform.system()} {platform.release()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "load_before": round(before, 2),
        "load_after": round(load_average(), 2),
        "seconds": round(time.time() - started, 1),
    }
    if results["cpus"] != CPUS:
        print(f"the lesson saw {results['cpus']} usable CPUs, not {CPUS}", file=sys.stderr)
        return 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    m = results["machine"]
    print(
        f"wrote {OUT.relative_to(ROOT)}: {m['cpu']}, load {m['load_before']} -> {m['load_after']}"
    )
    if max(m["load_before"], m["load_after"]) > CPUS:
        print("the machine was busy (load above 2): the figures are noisy; rerun when idle")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
