"""``mpcourse grade``: a class graded in parallel records exactly what serial nbgrader records.

A small mixed class (right, wrong, blank, broken, misnamed) is graded twice in two copies of the
course: once by ``nbgrader autograde`` (serial, the reference), once by ``mpcourse grade``. The
gradebooks must agree cell by cell. Then: grading again skips what is graded, ``--force`` grades
again, a dask scheduler with two workers (separate processes on 127.0.0.1) gives the same grades,
an LMS zip is unpacked, and bad input is refused with a message. Speed is measured in
``benchmarks/grade_class.py``, never here.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import TAG, leftover_processes, new_tag
from support.dask_cli import dask_cli_cluster
from support.nbgrader_harness import Course, nbgrader
from support.tools import run_tool, tool_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grade_class"), pytest.mark.timeout(900)]

ASSIGNMENT = NB = "pool"
SERIAL = "def parallel_map(func, items, processes=2):\n    return [func(x) for x in items]\n"
CLASS = {
    "ada": ("reference", {}),
    "bo": ("blank", {}),
    "cy": ("reference", {"parallel_map": SERIAL}),
}


def _hand_in(course: Course) -> None:
    for student, (base, answers) in CLASS.items():
        course.submit(ASSIGNMENT, student, NB, answers, reference=(base == "reference"))
    broken = course.root / "submitted" / "dee" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / f"{NB}.ipynb").write_text("{ this is not a notebook")
    misnamed = course.submit(ASSIGNMENT, "eli", NB)
    (misnamed / f"{NB}.ipynb").rename(misnamed / "pool (1).ipynb")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Course:
    """A course with the release generated, once: each class below grades a copy of it."""
    course = Course.copy_of_repo(tmp_path_factory.mktemp("generated") / "course")
    course.generate(ASSIGNMENT)
    return course


def _new_course(generated: Course, path: Path, tag: str) -> Course:
    course = generated.clone(path, env={TAG: tag})
    _hand_in(course)
    return course


def mpcourse(*args: str, cwd: Path, tag: str) -> subprocess.CompletedProcess[str]:
    """The command under test, run as nbgrader is (the venv's bin first on PATH, the tag set)."""
    return run_tool("mpcourse", *args, cwd=cwd, timeout=800, env={TAG: tag})


def _differences(got: dict, expected: dict) -> list[str]:
    """The cells whose scores differ, as "student/cell: got x, expected y" (for the message)."""
    return [
        f"{student}/{cell}: got {got.get(student, {}).get(cell)}, expected {want}"
        for student, cells in expected.items()
        for cell, want in cells.items()
        if got.get(student, {}).get(cell) != want
    ] + [f"{student}: not expected" for student in got.keys() - expected.keys()]


def _all_scores(course: Course) -> dict[str, dict[str, float]]:
    students = ["ada", "bo", "cy", "dee", "eli"]
    found = {}
    for s in students:
        try:
            found[s] = course.scores(ASSIGNMENT, s, NB)
        except Exception:  # noqa: BLE001 - a student nbgrader never recorded
            found[s] = {}
    return found


@pytest.fixture(scope="module")
def classes(generated, tmp_path_factory):
    """The same class graded serially by nbgrader and in parallel by mpcourse grade."""
    tag = new_tag("grade-class")
    serial = _new_course(generated, tmp_path_factory.mktemp("serial") / "course", tag)
    nbgrader("autograde", ASSIGNMENT, "--force", cwd=serial.root, env={TAG: tag})
    parallel = _new_course(generated, tmp_path_factory.mktemp("parallel") / "course", tag)
    started = time.monotonic()
    done = mpcourse("grade", ASSIGNMENT, "--workers", "3", cwd=parallel.root, tag=tag)
    parallel.seconds = time.monotonic() - started
    parallel.done = done
    parallel.tag = tag
    return serial, parallel


def test_grades_are_those_of_serial_nbgrader(classes):
    serial, parallel = classes
    assert parallel.done.returncode == 0, parallel.done.stderr[-3000:]
    expected = _all_scores(serial)
    assert expected["ada"] and sum(expected["ada"].values()) == 10
    assert sum(expected["cy"].values()) < 10
    got = _all_scores(parallel)
    assert got == expected, _differences(got, expected)


def test_the_summary_names_every_student_and_problem(classes):
    _, parallel = classes
    out = parallel.done.stdout
    for student in ["ada", "bo", "cy", "dee", "eli"]:
        assert student in out
    assert "not a readable notebook" in out
    assert "missing pool.ipynb (found pool (1).ipynb)" in out
    assert "pass rate per test" in out


def test_grades_csv_feedback_and_figure(classes):
    _, parallel = classes
    with open(parallel.root / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert rows["ada"]["score"] == "10" and rows["bo"]["score"] == "0"
    assert "not a readable notebook" in rows["dee"]["problems"]
    assert (parallel.root / "feedback" / "ada" / ASSIGNMENT / f"{NB}.html").is_file()
    assert (parallel.root / f"grades-{ASSIGNMENT}.png").stat().st_size > 10_000


def test_graded_submissions_are_skipped_unless_forced(classes):
    _, parallel = classes
    again = mpcourse("grade", ASSIGNMENT, cwd=parallel.root, tag=parallel.tag)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count("skipped (already graded)") == 3
    forced = mpcourse(
        "grade", ASSIGNMENT, "--force", "--student", "ada", cwd=parallel.root, tag=parallel.tag
    )
    assert forced.returncode == 0
    assert "ada" in forced.stdout and "skipped" not in forced.stdout
    assert sum(_all_scores(parallel)["ada"].values()) == 10


def test_no_process_is_left(classes):
    assert leftover_processes(classes[1].tag) == []


def test_a_dask_cluster_grades_the_same(classes, generated, tmp_path):
    """A scheduler and two workers, started as separate processes on 127.0.0.1."""
    serial, _ = classes
    tag = new_tag("grade-dask")
    course = _new_course(generated, tmp_path / "course", tag)
    with dask_cli_cluster(tmp_path, tool_env({TAG: tag})) as address:
        done = mpcourse("grade", ASSIGNMENT, "--scheduler", address, cwd=course.root, tag=tag)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"dask at {address}" in done.stdout
    got, expected = _all_scores(course), _all_scores(serial)
    assert got == expected, _differences(got, expected)
    assert leftover_processes(tag) == []


def test_an_lms_zip_is_unpacked_and_graded(generated, tmp_path):
    tag = new_tag("grade-zip")
    course = generated.clone(tmp_path / "course", env={TAG: tag})
    folder = course.submit(ASSIGNMENT, "tmp", NB, reference=False)
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / f"{NB}.ipynb", "fay_attempt_pool.ipynb")
        zf.writestr("__MACOSX/._junk", "x")
    shutil.rmtree(course.root / "submitted")
    done = mpcourse(
        "grade", ASSIGNMENT, "--from-zip", str(archive), "--no-feedback", cwd=course.root, tag=tag
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "unpacked 1 submissions" in done.stdout
    nb = nbformat.read(course.root / "submitted" / "fay" / ASSIGNMENT / f"{NB}.ipynb", as_version=4)
    assert nb.cells
    assert sum(course.scores(ASSIGNMENT, "fay", NB).values()) == 0


def test_bad_input_is_refused_with_a_message(tmp_path):
    done = mpcourse("grade", "pool", cwd=tmp_path, tag=new_tag("bad"))
    assert done.returncode == 2 and "no nbgrader_config.py" in done.stderr
    course = Course.copy_of_repo(tmp_path / "course")
    done = mpcourse("grade", "nosuch", cwd=course.root, tag=new_tag("bad"))
    assert done.returncode == 2 and "no assignment 'nosuch'" in done.stderr
    assert "pool" in done.stderr
