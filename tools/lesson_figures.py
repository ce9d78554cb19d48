"""Run the lessons where speed or overlap is the point and print the figures they measured.

Each lesson is executed top to bottom with nbclient, in a temporary copy (the notebooks in
``notebooks/`` are never written), under the default start method, and its printed lines that
carry a measurement (a speedup, a median, a spread, "CPUs busy", ...) are collected. Run it once
on all the CPUs and once pinned to one, and compare:

    .venv/bin/python tools/lesson_figures.py              # lessons 00 03 05 08 09, all CPUs
    .venv/bin/python tools/lesson_figures.py --one-cpu    # the same, pinned to one CPU
    .venv/bin/python tools/lesson_figures.py 05 --all     # lesson 05 only, every printed line

``--one-cpu`` pins this process (and so the kernel and every process the lesson starts) to its
first usable CPU with ``os.sched_setaffinity``, as ``taskset -c 0`` would (Linux only). The
report starts with the date, ``uptime`` (figures taken while the load is above the number of
CPUs are noisy) and the CPUs the kernel may use; each lesson ends with its run time and its
slowest cell. Nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_LESSONS = ["00", "03", "05", "08", "09"]

# A printed line is a figure if it says one of these (case-insensitive).
FIGURE = re.compile(
    r"speed-?up|median|×|\bs ±|± ?\d|spread|busy|times as long|times faster|"
    r"faster|slower|overlap|in parallel|REFERENCE|per run|items each|noisy",
    re.IGNORECASE,
)


def lesson_path(key: str) -> Path:
    """The notebook for ``key``: a lesson number ("05") or a file name."""
    if Path(key).is_file():
        return Path(key)
    found = sorted(NOTEBOOKS.glob(f"{key}_*.ipynb"))
    if not found:
        sys.exit(f"no lesson {key!r} in {NOTEBOOKS}")
    return found[0]


def text_of(output: dict) -> str:
    """The plain text of one cell output (streams, and text/plain of results)."""
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") in {"execute_result", "display_data"}:
        return output.get("data", {}).get("text/plain", "")
    if output.get("output_type") == "error":
        return f"{output.get('ename')}: {output.get('evalue')}"
    return ""


def figure_lines(text: str, every_line: bool = False) -> list[str]:
    """The lines of ``text`` that carry a figure, with what completes them: a table's rows after
    its matching header, and the rest of a wrapped sentence.

    >>> figure_lines("hello\\nstrategy   median s   spread\\nfine   1.2   1.1-1.3\\n\\nbye")
    ['strategy   median s   spread', 'fine   1.2   1.1-1.3']
    >>> figure_lines("x\\nspeedup 1.5, and\\nthat is all.\\ny")
    ['speedup 1.5, and', 'that is all.']
    """
    lines, in_table, in_sentence = [], False, False
    for line in text.splitlines():
        if not line.strip():
            in_table = in_sentence = False
            continue
        matched = bool(FIGURE.search(line))
        if every_line or in_table or in_sentence or matched:
            lines.append(line.rstrip())
            in_table = in_table or (matched and "   " in line.strip())
            in_sentence = not in_table and not line.rstrip().endswith((".", ")", ":", "!"))
    return lines


def cell_seconds(cell: nbformat.NotebookNode) -> float | None:
    """How long a cell ran, from the timing nbclient records in its metadata."""
    timing = cell.get("metadata", {}).get("execution", {})
    began, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (began and ended):
        return None
    parse = datetime.datetime.fromisoformat
    return (
        parse(ended.replace("Z", "+00:00")) - parse(began.replace("Z", "+00:00"))
    ).total_seconds()


def run_lesson(path: Path, timeout: int, every_line: bool) -> bool:
    """Execute ``path`` in a temporary copy and print its figure lines; True if it ran clean."""
    print(f"\n=== {path.name}")
    with tempfile.TemporaryDirectory(prefix="lesson-figures-") as tmp:
        work = Path(tmp)
        for extra in path.parent.iterdir():  # data files a lesson may read
            if extra.is_file() and extra.suffix != ".ipynb":
                shutil.copy(extra, work / extra.name)
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": tmp}}
        )
        began = time.perf_counter()
        ok = True
        try:
            client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log, not the cells'
        except (CellExecutionError, CellTimeoutError) as err:
            ok = False
            print(f"!! the lesson stopped: {type(err).__name__}: {str(err).splitlines()[-1:]}")
        total = time.perf_counter() - began
    slowest, slowest_at = 0.0, None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        seconds = cell_seconds(cell)
        if seconds is not None and seconds > slowest:
            slowest, slowest_at = seconds, index
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                ok = False
                print(f"[cell {index}] STDERR: {output.get('text', '').strip()[:300]}")
                continue
            data = output.get("data", {})
            if output.get("output_type") == "display_data" or "highlight" in str(
                data.get("text/html", "")
            ):
                continue  # displayed source code, plots, widgets: no printed figures
            for line in figure_lines(text_of(output), every_line):
                print(f"[cell {index}] {line}")
    print(
        f"--- {path.name}: {total:.0f} s in all, slowest cell {slowest_at} ({slowest:.1f} s)"
        + ("" if ok else "; NOT CLEAN (error or stderr above)")
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, pin if asked, print the header and run each lesson."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", default=DEFAULT_LESSONS, help="numbers or files")
    parser.add_argument("--one-cpu", action="store_true", help="pin to one CPU (Linux)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell (120)")
    parser.add_argument("--all", action="store_true", help="print every output line")
    args = parser.parse_args(argv)
    if args.one_cpu:
        if not hasattr(os, "sched_setaffinity"):
            sys.exit("--one-cpu needs os.sched_setaffinity (Linux)")
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M:%S} UTC")
    print(f"uptime: {uptime.strip()}")
    print(f"machine: {platform.system()} {platform.release()}, Python {platform.python_version()}")
    pinned = "pinned by --one-cpu" if args.one_cpu else "as given (taskset, cgroup...)"
    print(f"CPUs this run may use: {cpus} ({pinned})")
    results = [run_lesson(lesson_path(key), args.timeout, args.all) for key in args.lessons]
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    print(f"\nuptime at the end: {uptime.strip()}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
