"""The grading harness's own checks can fail: release drift and reference answers."""

from __future__ import annotations

from support.nbgrader_harness import release_drift, strip_solution_markers


def test_release_drift_finds_changed_missing_and_extra_files(tmp_path):
    a, b = tmp_path / "generated", tmp_path / "committed"
    a.mkdir()
    b.mkdir()
    (a / "same.ipynb").write_text("x")
    (b / "same.ipynb").write_text("x")
    assert release_drift(a, b) == []
    (a / "changed.ipynb").write_text("new")
    (b / "changed.ipynb").write_text("old")
    (a / "only_generated.ipynb").write_text("")
    (b / "only_committed.ipynb").write_text("")
    assert release_drift(a, b) == ["changed.ipynb", "only_committed.ipynb", "only_generated.ipynb"]


def test_reference_answer_keeps_the_code_between_the_markers():
    cell = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    assert strip_solution_markers(cell) == "def f():\n    return 1"
