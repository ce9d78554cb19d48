"""The ``mpcourse`` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mpcourse`` console script."""
    from helpers import __version__

    parser = argparse.ArgumentParser(prog="mpcourse", description="Multiprocessing course tools.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("doctor", help="check that this machine is ready for the course")
    sub.add_parser("cpus", help="print how many CPUs this process can really use")
    grade = sub.add_parser(
        "grade",
        help="grade every submission of an assignment, in parallel (run in the course folder)",
        description="Autograde submitted/*/ASSIGNMENT in parallel, each submission in its own "
        "sandbox; write the gradebook through nbgrader, feedback, grades.csv and a figure.",
    )
    grade.add_argument("assignment", help="the assignment's name, as in source/")
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument(
        "--workers", type=int, help="submissions checked at once (default: 2 per CPU)"
    )
    grade.add_argument("--scheduler", help="a dask.distributed scheduler, tcp://HOST:PORT")
    grade.add_argument("--force", action="store_true", help="grade again what is already graded")
    grade.add_argument("--timeout", type=float, default=60.0, help="seconds per cell (60)")
    grade.add_argument(
        "--submission-timeout",
        type=float,
        default=900.0,
        help="seconds per submission in all (900)",
    )
    grade.add_argument("--from-zip", type=Path, help="an LMS download of notebooks to grade")
    grade.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    grade.add_argument("--course", type=Path, default=Path("."), help="the course folder (.)")
    args = parser.parse_args(argv)
    if args.command == "grade":
        return _grade(args)
    if args.command == "doctor":
        from helpers.setup.doctor import run_doctor

        return run_doctor()
    if args.command == "cpus":
        from helpers.instruments.cpus import usable_cpus

        print(usable_cpus())
        return 0
    parser.print_help()
    return 0 if args.command is None else 2


def _grade(args: argparse.Namespace) -> int:
    from helpers.grading.classroom import grade_class, unpack_zip

    course = args.course.resolve()
    if not (course / "nbgrader_config.py").is_file():
        print(
            f"mpcourse grade: {course} has no nbgrader_config.py. Run it from the course folder "
            "(or pass --course PATH).",
            file=sys.stderr,
        )
        return 2
    if not (course / "source" / args.assignment).is_dir():
        known = sorted(p.name for p in (course / "source").glob("*") if p.is_dir())
        print(
            f"mpcourse grade: no assignment {args.assignment!r} in source/ (there are: "
            f"{', '.join(known) or 'none'}).",
            file=sys.stderr,
        )
        return 2
    students = args.student
    if args.from_zip:
        found = unpack_zip(course, args.assignment, args.from_zip)
        print(f"unpacked {len(found)} submissions from {args.from_zip}")
        students = students or found
    report = grade_class(
        course,
        args.assignment,
        students=students,
        workers=args.workers,
        scheduler=args.scheduler,
        force=args.force,
        timeout=args.timeout,
        submission_timeout=args.submission_timeout,
        feedback=not args.no_feedback,
    )
    print(report.table())
    print(
        f"checked with {report.engine} in {report.check_seconds:.1f} s; recorded by nbgrader in "
        f"{report.record_seconds:.1f} s; grades.csv and grades-{args.assignment}.png written"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
