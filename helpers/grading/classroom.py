"""Grade a whole class in parallel: ``mpcourse grade ASSIGNMENT``.

Who imports this: the ``mpcourse`` command (:mod:`helpers.setup.cli`) and the course's tests and
benchmarks. Run it from the course folder (where ``nbgrader_config.py`` is).

nbgrader autogrades one submission after another, and its SQLite gradebook must have one writer.
So grading a class is split where the time goes:

1. **Check, in parallel.** For every submission the trusted checker
   (:func:`helpers.grading.checker.run_checker`, the expensive part: the learner's code runs in
   its sandbox) is run by a pool of ``--workers`` threads (default: two per usable CPU, since a
   check mostly waits), each driving its own checker process,
   or by the workers of a ``dask.distributed`` cluster (``--scheduler tcp://HOST:PORT``). Each
   result is stored in a verdict cache, under a digest of exactly what the checker was given.
2. **Record, in one process.** nbgrader's own ``autograde`` then runs for each submission, in
   this process, one at a time, with ``MPCOURSE_VERDICTS`` pointing at that cache:
   :class:`~helpers.grading.nbgrader_ext.TrustedExecute` finds every verdict already decided
   and nbgrader writes the gradebook as it always does. A submission whose request differs from
   what step 1 predicted is simply checked then, so the grades are those serial
   ``nbgrader autograde`` records, by construction.
3. **Report.** Feedback HTML (``nbgrader generate_feedback``), ``grades.csv`` at the course root,
   a summary table, and a figure of the score distribution and of each test's pass rate.

Already graded submissions (an autograded notebook newer than the submitted one) are skipped
unless ``force``; a broken submission (not a notebook, misnamed, a checker that crashes) is
reported and the rest are graded.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from helpers.grading.checker import request_key, run_checker
from helpers.grading.nbgrader_ext import split_notebook, submission_files

__all__ = [
    "ClassReport",
    "Submission",
    "check_request",
    "find_submissions",
    "grade_class",
    "plot_class",
    "unpack_zip",
]

#: Where the verdicts decided in parallel are kept, below the course folder (instructor only).
CACHE = Path(".mpcourse") / "verdicts"


@dataclass
class Submission:
    """One learner's hand-in of an assignment, and what grading it gave."""

    student: str
    folder: Path
    notebooks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: bool = False
    graded: bool = False
    scores: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class ClassReport:
    """What :func:`grade_class` did: per submission, and in all."""

    assignment: str
    submissions: list[Submission]
    max_scores: dict[str, float]
    check_seconds: float = 0.0
    record_seconds: float = 0.0
    workers: int = 1
    engine: str = "threads"

    @property
    def graded(self) -> list[Submission]:
        return [s for s in self.submissions if s.graded]

    def table(self) -> str:
        """A plain-text summary: one line per student, then the class's mean and pass rates."""
        total = sum(self.max_scores.values())
        lines = [f"{'student':<24} {'score':>9}  notes"]
        for sub in sorted(self.submissions, key=lambda s: s.student):
            score = f"{sum(sub.scores.values()):g}/{total:g}" if sub.scores else "-"
            notes = "; ".join(sub.problems) or ("skipped (already graded)" if sub.skipped else "")
            lines.append(f"{sub.student:<24} {score:>9}  {notes}")
        graded = [s for s in self.submissions if s.scores]
        if graded:
            mean = sum(sum(s.scores.values()) for s in graded) / len(graded)
            lines.append(f"{'mean':<24} {mean:>9.2f}")
            lines.append("pass rate per test:")
            for cell, points in self.max_scores.items():
                passed = sum(1 for s in graded if s.scores.get(cell, 0) >= points)
                lines.append(f"  {cell:<40} {passed}/{len(graded)}")
        return "\n".join(lines)


def _expected_notebooks(course: Path, assignment: str) -> list[str]:
    source = course / "source" / assignment
    names = sorted(p.stem for p in source.glob("*.ipynb"))
    if not names:
        raise FileNotFoundError(
            f"no notebooks in {source}: run mpcourse grade from the course folder, with the "
            "name of an assignment in source/"
        )
    return names


def find_submissions(
    course: Path, assignment: str, students: Sequence[str] | None = None
) -> list[Submission]:
    """Every ``submitted/<student>/<assignment>/`` folder (or those of ``students``)."""
    expected = _expected_notebooks(course, assignment)
    found = []
    root = course / "submitted"
    folders = sorted(root.glob(f"*/{assignment}")) if root.is_dir() else []
    wanted = set(students or [])
    for folder in folders:
        student = folder.parent.name
        if wanted and student not in wanted:
            continue
        sub = Submission(student, folder)
        present = {p.stem for p in folder.glob("*.ipynb")}
        sub.notebooks = [name for name in expected if name in present]
        for name in expected:
            if name not in present:
                others = sorted(present - set(expected))
                hint = f" (found {', '.join(o + '.ipynb' for o in others)})" if others else ""
                sub.problems.append(f"missing {name}.ipynb{hint}: it scores 0")
        for name in sub.notebooks:
            try:
                nbformat.read(folder / f"{name}.ipynb", as_version=4)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is the learner's
                sub.problems.append(
                    f"{name}.ipynb is not a readable notebook ({exc.__class__.__name__})"
                )
        found.append(sub)
    missing = wanted - {s.student for s in found}
    for student in sorted(missing):
        found.append(Submission(student, root / student / assignment, problems=["no submission"]))
    return found


def _already_graded(course: Path, assignment: str, sub: Submission) -> bool:
    autograded = course / "autograded" / sub.student / assignment
    for name in sub.notebooks:
        done = autograded / f"{name}.ipynb"
        if (
            not done.exists()
            or done.stat().st_mtime < (sub.folder / f"{name}.ipynb").stat().st_mtime
        ):
            return False
    return bool(sub.notebooks)


def _sanitized(course: Path, assignment: str, sub: Submission, name: str) -> nbformat.NotebookNode:
    """The submitted notebook with its locked cells as in source/, as nbgrader's OverwriteCells
    makes it. Only a prediction: a request that differs is checked again in step 2."""
    nb = nbformat.read(sub.folder / f"{name}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / assignment / f"{name}.ipynb", as_version=4)
    by_id = {
        c.metadata.get("nbgrader", {}).get("grade_id"): c
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        original = by_id.get(meta.get("grade_id"))
        if original is None:
            continue
        original_meta = original.metadata.get("nbgrader", {})
        if original_meta.get("locked") or (
            original_meta.get("grade") and not original_meta.get("solution")
        ):
            cell.source = original.source
            cell.metadata["nbgrader"] = dict(original_meta)
    return nb  # type: ignore[no-any-return]


def _request(
    course: Path, assignment: str, sub: Submission, name: str, timeout: float
) -> dict[str, Any]:
    learner, setup, tests = split_notebook(_sanitized(course, assignment, sub, name))
    folder = course / "autograded" / sub.student / assignment
    files = submission_files(sub.folder)
    files.update(submission_files(course / "source" / assignment))  # nbgrader's master copies
    return {
        "learner_cells": learner,
        "setup": setup,
        "tests": tests,
        "files": files,
        "course_dirs": sorted({str(course), str(folder)}),
        "cell_timeout": float(timeout),
    }


def check_request(request: dict[str, Any], submission_timeout: float) -> dict[str, Any]:
    """Run the trusted checker on one request (a top-level function: dask sends it by name)."""
    return run_checker(request, submission_timeout)


def _run_checks(
    jobs: list[tuple[str, dict[str, Any]]],
    submission_timeout: float,
    workers: int,
    scheduler: str | None,
    on_done: Callable[[str], None],
) -> dict[str, dict[str, Any]]:
    """Check every ``(key, request)``: in threads here, or on a dask cluster."""
    results: dict[str, dict[str, Any]] = {}
    if scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(scheduler, timeout="30s") as client:
            futures = {
                client.submit(
                    check_request, request, submission_timeout, key=f"check-{key}", pure=False
                ): key
                for key, request in jobs
            }
            for future in dask_completed(futures):
                results[futures[future]] = future.result()
                on_done(futures[future])
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="check") as pool:
        pending = {
            pool.submit(check_request, request, submission_timeout): key for key, request in jobs
        }
        for future in as_completed(pending):
            results[pending[future]] = future.result()
            on_done(pending[future])
    return results


def _nbgrader_api(course: Path) -> Any:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    coursedir = CourseDirectory(config=config, root=str(course))
    return NbGraderAPI(coursedir=coursedir, config=config)


def _scores(course: Path, assignment: str, student: str, names: Iterable[str]) -> dict[str, float]:
    from nbgrader.api import Gradebook, MissingEntry

    found: dict[str, float] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for name in names:
            try:
                nb = gb.find_submission_notebook(name, assignment, student)
            except MissingEntry:
                continue
            for grade in nb.grades:
                if grade.cell.cell_type == "code":
                    found[grade.name] = float(grade.score)
    return found


def _max_scores(course: Path, assignment: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in _expected_notebooks(course, assignment):
        nb = nbformat.read(course / "source" / assignment / f"{name}.ipynb", as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
                out[meta["grade_id"]] = float(meta.get("points", 0))
    return out


def unpack_zip(course: Path, assignment: str, archive: Path) -> list[str]:
    """Put an LMS download's notebooks into ``submitted/<student>/<assignment>/``.

    Each member named ``<student>_<anything>.ipynb`` (or ``<student>/<anything>.ipynb``) becomes
    the student's copy of the assignment's notebook (the first one, when it has only one).
    Returns the students found.
    """
    expected = _expected_notebooks(course, assignment)
    students = []
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            path = Path(member)
            if path.suffix != ".ipynb" or path.name.startswith("."):
                continue
            student = path.parts[0] if len(path.parts) > 1 else path.stem.split("_", 1)[0]
            student = "".join(ch for ch in student if ch.isalnum() or ch in "-_.") or "unknown"
            stem = path.stem.split("_", 1)[-1] if len(path.parts) == 1 else path.stem
            name = stem if stem in expected else expected[0]
            target = course / "submitted" / student / assignment / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(member))
            students.append(student)
    return sorted(set(students))


def grade_class(
    course: Path,
    assignment: str,
    *,
    students: Sequence[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    timeout: float = 60.0,
    submission_timeout: float = 900.0,
    feedback: bool = True,
    progress: bool = True,
) -> ClassReport:
    """Grade every submission of ``assignment`` (see the module's doc); return the report.

    ``timeout`` is each cell's limit (as ``TrustedExecute.timeout``), ``submission_timeout`` the most one
    submission may take in all. Writes ``grades.csv`` and ``grades-<assignment>.png``.
    """
    from helpers.grading.sandbox import sandbox_status
    from helpers.instruments.cpus import usable_cpus

    course = course.resolve()
    status = sandbox_status()
    if not status.isolated:
        print(status.warning(), file=sys.stderr)
    # A check mostly waits (for processes to start, for the learner's tasks to sleep or block),
    # so two checks per CPU keep the CPUs busy: measured in benchmarks/grade_class.py.
    workers = workers or 2 * usable_cpus()
    subs = find_submissions(course, assignment, students)
    report = ClassReport(assignment, subs, _max_scores(course, assignment), workers=workers)
    report.engine = f"dask at {scheduler}" if scheduler else f"{workers} threads"
    cache = course / CACHE / assignment
    cache.mkdir(parents=True, exist_ok=True)
    todo = []
    for sub in subs:
        if not sub.notebooks:
            continue
        if not force and _already_graded(course, assignment, sub):
            sub.skipped = True
            sub.scores = _scores(course, assignment, sub.student, sub.notebooks)
            continue
        todo.append(sub)
    jobs = []
    queued: set[str] = set()
    for sub in todo:
        for name in sub.notebooks:
            try:
                request = _request(course, assignment, sub, name, timeout)
            except Exception:  # noqa: BLE001 - unreadable: nbgrader reports it in step 2
                continue
            key = request_key(request)
            if key in queued:
                continue  # an identical notebook: one check decides both
            if force or not (cache / f"{key}.json").exists():
                jobs.append((key, request))
                queued.add(key)
    bar = _progress(len(jobs) + len(todo), progress, f"grading {assignment}")
    started = time.monotonic()
    results = _run_checks(jobs, submission_timeout, workers, scheduler, lambda key: bar.update(1))
    for key, result in results.items():
        (cache / f"{key}.json").write_text(json.dumps(result))
    report.check_seconds = time.monotonic() - started

    started = time.monotonic()
    api = _nbgrader_api(course)
    previous = os.environ.get("MPCOURSE_VERDICTS")
    os.environ["MPCOURSE_VERDICTS"] = str(cache)
    here = os.getcwd()
    os.chdir(course)
    try:
        for sub in todo:
            t0 = time.monotonic()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # nbgrader's SQLAlchemy chatter, every time
                outcome = api.autograde(assignment, sub.student, force=True, create=True)
            if not outcome.get("success") and not sub.problems:
                last = (outcome.get("error") or outcome.get("log") or "").strip().splitlines()
                sub.problems.append("nbgrader could not grade it: " + (last[-1] if last else "?"))
            elif not outcome.get("success"):
                pass  # already explained (an unreadable or missing notebook)
            else:
                sub.graded = True
                if feedback:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        api.generate_feedback(assignment, sub.student, force=True)
            sub.scores = _scores(course, assignment, sub.student, sub.notebooks)
            sub.seconds = time.monotonic() - t0
            bar.update(1)
    finally:
        os.chdir(here)
        if previous is None:
            os.environ.pop("MPCOURSE_VERDICTS", None)
        else:
            os.environ["MPCOURSE_VERDICTS"] = previous
        bar.close()
    report.record_seconds = time.monotonic() - started
    _write_csv(course / "grades.csv", report)
    try:
        plot_class(report, course / f"grades-{assignment}.png")
    except Exception as exc:  # noqa: BLE001 - a figure must never cost the grades
        print(f"(no figure: {exc})", file=sys.stderr)
    return report


def _progress(total: int, show: bool, label: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, disable=not show, unit="step")


def _write_csv(path: Path, report: ClassReport) -> None:
    """``grades.csv``: one row per student of this assignment; other assignments' rows kept."""
    cells = list(report.max_scores)
    rows: list[dict[str, str]] = []
    if path.exists():
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if r.get("assignment") != report.assignment]
    fields = ["assignment", "student", "score", "max_score", "problems", *cells]
    for sub in sorted(report.submissions, key=lambda s: s.student):
        row = {
            "assignment": report.assignment,
            "student": sub.student,
            "score": f"{sum(sub.scores.values()):g}",
            "max_score": f"{sum(report.max_scores.values()):g}",
            "problems": "; ".join(sub.problems),
        }
        row.update({c: f"{sub.scores.get(c, 0.0):g}" for c in cells})
        rows.append(row)
    all_fields = list(dict.fromkeys(fields + [k for r in rows for k in r]))
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=all_fields, restval="")
        writer.writeheader()
        writer.writerows(rows)
    shutil.move(str(tmp), path)


def plot_class(report: ClassReport, path: Path | None = None, axes: Any = None) -> Any:
    """Draw the score distribution and each test's pass rate; save to ``path``; return axes."""
    import matplotlib

    if axes is None:
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    total = sum(report.max_scores.values())
    graded = [s for s in report.submissions if s.scores]
    scores = [sum(s.scores.values()) for s in graded]
    ax_scores, ax_tests = axes
    ax_scores.hist(scores, bins=max(1, int(total) + 1), range=(-0.5, total + 0.5), color="#4878a8")
    ax_scores.set(
        xlabel=f"score (out of {total:g})",
        ylabel="learners",
        title=f"{report.assignment}: {len(graded)} submissions",
    )
    names = list(report.max_scores)
    rates = [
        sum(1 for s in graded if s.scores.get(c, 0) >= report.max_scores[c]) / max(1, len(graded))
        for c in names
    ]
    ax_tests.barh(names, rates, color="#6a9f58")
    ax_tests.set(xlim=(0, 1), xlabel="share of learners who passed", title="each test")
    ax_tests.invert_yaxis()
    if path is not None:
        ax_scores.figure.savefig(path, dpi=110)
    return axes
