"""How much faster does ``mpcourse grade`` grade a class than serial ``nbgrader autograde``?

Builds a class of ``--students`` generated submissions of one assignment (right answers, answers
written differently, classic wrong answers, blank notebooks and broken files), in three copies of
a course, and grades it in one run:

1. serially, with ``nbgrader autograde ASSIGNMENT`` (every submission in its sandbox, one after
   another);
2. with ``mpcourse grade ASSIGNMENT`` (``--workers`` submissions checked at once);
3. with ``mpcourse grade ASSIGNMENT --scheduler tcp://127.0.0.1:PORT``: a dask scheduler and two
   workers started here as separate processes (``--no-dask`` skips it).

It prints the wall time of each, ``grading speedup: X`` (serial time / parallel time, measured
side by side in this run) and ``scores identical: yes`` when every gradebook records the same
score for every cell of every student. Nothing is asserted; on a busy machine the ratio is noisy.

    python benchmarks/grade_class.py                     # pool, 24 students
    python benchmarks/grade_class.py --assignment lock --students 30 --workers 4
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bench import load_average, machine_lines, positive_int  # noqa: E402
from support.dask_cli import dask_cli_cluster  # noqa: E402
from support.nbgrader_harness import Course  # noqa: E402
from support.tools import BIN, tool_env  # noqa: E402

from helpers.instruments.cpus import usable_cpus  # noqa: E402

#: Wrong or alternative answers per assignment (answer cell grade_id to source).
VARIANTS = {
    "pool": [
        {
            "parallel_map": "def parallel_map(func, items, processes=2):\n    return [func(x) for x in items]\n"
        },
        {
            "results_as_completed": (
                "def results_as_completed(func, items, processes=2):\n"
                "    with mp.Pool(processes) as pool:\n"
                "        return pool.map(func, items)\n"
            )
        },
        {
            "parallel_map": (
                "from concurrent.futures import ProcessPoolExecutor\n\n"
                "def parallel_map(func, items, processes=2):\n"
                "    with ProcessPoolExecutor(processes) as ex:\n"
                "        return list(ex.map(func, items))\n"
            )
        },
    ],
}


def build_class(course: Course, assignment: str, students: int) -> list[str]:
    """Hand in ``students`` submissions: a mix of right, wrong, blank and broken ones."""
    names = []
    variants = VARIANTS.get(assignment, [{}])
    for i in range(students):
        name = f"s{i:03d}"
        names.append(name)
        kind = i % 6
        if kind == 4:
            course.submit(assignment, name, assignment, reference=False)
        elif kind == 5:
            folder = course.root / "submitted" / name / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{assignment}.ipynb").write_text("{ broken")
        else:
            answers = dict(variants[kind % len(variants)] if kind in (1, 2, 3) else {})
            # Every learner's notebook differs (as in a real class), so that no check is shared.
            cell = next(iter(answers), None) or next(
                iter(course.reference_answers(assignment, assignment))
            )
            source = answers.get(cell) or course.reference_answers(assignment, assignment)[cell]
            first, _, rest = source.partition("\n")
            if first.startswith("%%"):  # a cell magic must stay on the first line
                answers[cell] = f"{first}\n# handed in by {name}\n{rest}"
            else:
                answers[cell] = f"# handed in by {name}\n{source}"
            course.submit(assignment, name, assignment, answers)
    return names


def all_scores(course: Course, assignment: str, students: list[str]) -> dict[str, dict[str, float]]:
    found = {}
    for s in students:
        try:
            found[s] = course.scores(assignment, s, assignment)
        except Exception:  # noqa: BLE001 - nbgrader recorded nothing for this student
            found[s] = {}
    return found


def timed(command: list[str], cwd: Path) -> float:
    env = tool_env()
    started = time.monotonic()
    subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="pool")
    parser.add_argument("--students", type=positive_int, default=24)
    parser.add_argument("--workers", type=positive_int, default=None)
    parser.add_argument("--no-dask", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mpcourse-bench-"))
    try:
        courses = {}
        for label in ["serial", "parallel", "dask"]:
            course = Course.copy_of_repo(workdir / label)
            course.generate(args.assignment)
            students = build_class(course, args.assignment, args.students)
            courses[label] = course
        print(f"{args.students} submissions of {args.assignment!r}")
        load_before = load_average()

        serial = timed(
            [str(BIN / "nbgrader"), "autograde", args.assignment, "--force"], courses["serial"].root
        )
        print(f"serial nbgrader autograde: {serial:7.1f} s")
        grade = [str(BIN / "mpcourse"), "grade", args.assignment, "--no-feedback"]
        if args.workers:
            grade += ["--workers", str(args.workers)]
        parallel = timed(grade, courses["parallel"].root)
        print(f"mpcourse grade:            {parallel:7.1f} s")
        reference = all_scores(courses["serial"], args.assignment, students)
        same = all_scores(courses["parallel"], args.assignment, students) == reference
        print(f"grading speedup: {serial / parallel:.2f}")
        print(f"scores identical: {'yes' if same else 'NO'}")

        if not args.no_dask:
            with dask_cli_cluster(workdir) as address:
                through = timed([*grade, "--scheduler", address], courses["dask"].root)
            same = all_scores(courses["dask"], args.assignment, students) == reference
            print(f"mpcourse grade --scheduler (2 dask workers): {through:7.1f} s")
            print(f"grading speedup through dask: {serial / through:.2f}")
            print(f"scores identical through dask: {'yes' if same else 'NO'}")
        print("\n".join(machine_lines(usable_cpus(), load_before, load_average())))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
