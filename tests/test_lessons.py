"""Every lesson runs top to bottom ("Run All") under fork, spawn and forkserver, and pinned to
one CPU under spawn (what a one-CPU Binder session gives a learner)."""

from __future__ import annotations

import json
import os

import pytest
from conftest import ROOT, START_METHODS, TAG, leftover_processes, new_tag
from support.notebook_runner import run_notebook, stderr_outputs

LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_lessons():
    assert LESSONS, "no lessons found in notebooks/"


ONE_CPU = "spawn-1cpu"  # spawn, with the kernel and its children pinned to one CPU

# What a lesson must (and must never) print for a learner with one usable CPU: no parallel claim
# the machine did not produce, and the stored reference figure instead. Checked on the same run.
ONE_CPU_SAYS = {
    "00_welcome": [
        "This notebook may use ONE CPU",
        "the two processes took turns",
        "Reference: CPUs kept busy",
    ],
    "03_pool": [
        "This notebook may use ONE CPU, so no speedup is possible here",
        "Reference: threads",
    ],
    "08_processes_vs_threads": [
        "usable CPUs: 1",
        "You have ONE usable CPU",
        "here processes cannot beat threads for computing",
        "not on 1 CPU",
        "REFERENCE, measured",
    ],
}
ONE_CPU_NEVER_SAYS = {
    "00_welcome": ["really ran at the same time"],
    "03_pool": ["shared the work over"],
}


def printed_text(nb) -> str:
    """Everything the notebook printed or displayed as text, with runs of white space made one
    space (printed sentences are wrapped)."""
    text = " ".join(
        out.get("text", "") + out.get("data", {}).get("text/markdown", "")
        for cell in nb.cells
        for out in cell.get("outputs", [])
    )
    return " ".join(text.split())


@pytest.mark.slow
@pytest.mark.parametrize("method", [*START_METHODS, ONE_CPU])
@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_top_to_bottom(lesson, method, tmp_path, monkeypatch):
    if method == ONE_CPU and not hasattr(os, "sched_setaffinity"):
        pytest.skip("this platform cannot pin a process to one CPU")
    tag = new_tag(lesson.stem)
    monkeypatch.setenv(TAG, tag)  # the kernel and every process it starts inherit it
    one_cpu = method == ONE_CPU
    nb = run_notebook(lesson, tmp_path, "spawn" if one_cpu else method, one_cpu=one_cpu)
    errors = [
        out
        for cell in nb.cells
        if "raises-exception" not in cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    # Warnings or children's tracebacks in a cell: a learner would see red text for no reason.
    assert stderr_outputs(nb) == [], "a cell wrote to stderr"
    assert leftover_processes(tag) == [], "the lesson left processes running"
    if one_cpu:
        text = printed_text(nb)
        missing = [p for p in ONE_CPU_SAYS.get(lesson.stem, []) if p not in text]
        assert not missing, f"on one CPU the lesson did not say: {missing}"
        wrong = [p for p in ONE_CPU_NEVER_SAYS.get(lesson.stem, []) if p in text]
        assert not wrong, f"on one CPU the lesson claimed: {wrong}"


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_is_stored_clean(lesson):
    nb = json.loads(lesson.read_text())
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"{lesson.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_has_the_course_shape(lesson):
    nb = json.loads(lesson.read_text())
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    first = "".join(nb["cells"][0]["source"])
    assert first.lstrip().startswith("# "), "the first cell is the lesson's title"
    for heading in ["What you'll learn", "Key points", "Try it yourself"]:
        assert heading in markdown, f"{lesson.name} lacks a '{heading}' section"
