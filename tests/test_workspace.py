"""The learner answers in a git-ignored ``workspace/``, which nothing but the learner overwrites.

``make lab`` runs ``make workspace`` first: it copies ``release/<assignment>/`` to
``workspace/<assignment>/`` only when that folder does not exist yet. ``make release`` (nbgrader
``--force`` rewrites ``release/``), ``make clean`` and the test suite never touch ``workspace/``;
only ``make clean-workspace`` deletes it, after asking (or with ``FORCE=1``).

Every make run here happens in a temporary copy of the course, never in the repository itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT
from support.tools import tool_env
from test_habits import recipe  # the one reader of Makefile recipes

ASSIGNMENTS = sorted(p.name for p in (ROOT / "release").iterdir() if p.is_dir())


def make(course: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run ``make -s ARGS`` in ``course``; the venv's tools first on PATH, as the Makefile does."""
    env = tool_env(
        {
            "JUPYTER_DATA_DIR": str(course / ".jupyter-data"),
            "JUPYTER_CONFIG_DIR": str(course / ".jupyter-config"),
        }
    )
    env.pop("MAKEFLAGS", None)
    env.pop("WORKSPACE", None)
    return subprocess.run(
        ["make", "-s", *args],
        cwd=course,
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A copy of what make's targets read: the Makefile and release/ (source/ for make release)."""
    dest = tmp_path / "course"
    dest.mkdir()
    shutil.copy2(ROOT / "Makefile", dest / "Makefile")
    shutil.copytree(ROOT / "release", dest / "release")
    return dest


def answer(path: Path, text: str) -> None:
    """Write ``text`` into the first solution cell of the notebook at ``path``, as a learner."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "YOUR CODE HERE" in c.source)
    cell.source = cell.source.replace("raise NotImplementedError()", text)
    nbformat.write(nb, path)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_workspace_is_git_ignored():
    result = subprocess.run(
        ["git", "check-ignore", "-q", "workspace/pool/pool.ipynb"], cwd=ROOT, check=False
    )
    assert result.returncode == 0, "put workspace/ in .gitignore: it holds the learner's answers"


def test_make_workspace_copies_every_assignment_once(course):
    result = make(course, "workspace")
    assert result.returncode == 0, result.stdout + result.stderr
    assert snapshot(course / "workspace") == snapshot(course / "release")
    for a in ASSIGNMENTS:
        assert f"workspace/{a}: copied from release/{a}" in result.stdout


def test_make_workspace_never_overwrites_a_learners_answer(course):
    assert make(course, "workspace").returncode == 0
    notebook = course / "workspace" / "pool" / "pool.ipynb"
    answer(notebook, "return 'my answer'")
    edited = notebook.read_bytes()
    (course / "workspace" / "pool" / "notes.txt").write_text("mine")
    # The release changes (a new version of the assignment); the learner's copy stays theirs.
    released = course / "release" / "pool" / "pool.ipynb"
    released.write_bytes(released.read_bytes().replace(b"YOUR CODE HERE", b"YOUR CODE, HERE"))
    result = make(course, "workspace")
    assert result.returncode == 0, result.stdout + result.stderr
    assert notebook.read_bytes() == edited
    assert (course / "workspace" / "pool" / "notes.txt").read_text() == "mine"
    assert "workspace/pool: kept (your answers)" in result.stdout


def test_make_workspace_keeps_an_assignment_the_learner_emptied(course):
    """A folder that exists is the learner's, even without the notebook (they may have moved it)."""
    assert make(course, "workspace").returncode == 0
    (course / "workspace" / "pool" / "pool.ipynb").unlink()
    assert make(course, "workspace").returncode == 0
    assert not (course / "workspace" / "pool" / "pool.ipynb").exists()


def test_make_workspace_adds_an_assignment_released_later(course):
    assert make(course, "workspace").returncode == 0
    shutil.copytree(course / "release" / "pool", course / "release" / "newer")
    result = make(course, "workspace")
    assert result.returncode == 0
    assert (course / "workspace" / "newer" / "pool.ipynb").exists()
    assert "workspace/newer: copied from release/newer" in result.stdout


def test_make_lab_fills_the_workspace_before_starting_jupyterlab():
    """``make -n lab`` prints what it would run: the workspace step comes before ``jupyter lab``."""
    result = make(ROOT, "-n", "-o", ".venv/.installed", "lab", "WORKSPACE=/nonexistent/ws")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    fill = next(i for i, line in enumerate(lines) if 'mkdir -p "/nonexistent/ws"' in line)
    lab = next(i for i, line in enumerate(lines) if "jupyter lab" in line)
    assert fill < lab
    assert not Path("/nonexistent/ws").exists()


def test_make_clean_keeps_the_workspace(course):
    assert make(course, "workspace").returncode == 0
    answer(course / "workspace" / "pool" / "pool.ipynb", "return 'kept'")
    (course / "workspace" / "pool" / "__pycache__").mkdir()
    before = snapshot(course / "workspace")
    result = make(course, "clean")
    assert result.returncode == 0, result.stdout + result.stderr
    assert snapshot(course / "workspace") == before


def test_make_clean_workspace_asks_and_keeps_it_unless_confirmed(course):
    assert make(course, "workspace").returncode == 0
    refused = make(course, "clean-workspace")  # no answer (stdin closed): nothing is deleted
    assert refused.returncode != 0
    assert "Kept workspace/" in refused.stdout
    assert (course / "workspace" / "pool" / "pool.ipynb").exists()
    assert make(course, "clean-workspace", stdin="n\n").returncode != 0
    assert (course / "workspace").exists()
    confirmed = make(course, "clean-workspace", stdin="y\n")
    assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
    assert not (course / "workspace").exists()


def test_make_clean_workspace_with_force(course):
    assert make(course, "workspace").returncode == 0
    assert make(course, "clean-workspace", "FORCE=1").returncode == 0
    assert not (course / "workspace").exists()


def test_only_the_workspace_targets_write_to_workspace():
    """Static guard: release, test and clean recipes, and the tests, do not name workspace/."""
    for target in ["release", "test", "install", "lint", "bench"]:
        assert "workspace" not in recipe(target).lower(), target
    assert "rm -rf workspace" not in recipe("clean")
    assert "-path ./workspace -prune" in recipe("clean")
    # A path literal: "workspace", 'workspace/pool/...' (not prose such as "workspace/<a>/").
    literal = re.compile(r"""["']workspace(?:["']|/[\w.'"-])""")
    offenders = [
        p.name
        for p in (ROOT / "tests").glob("*.py")
        if p.name != "test_workspace.py" and literal.search(p.read_text())
    ]
    assert not offenders, f"tests that name workspace/ (the learner's answers): {offenders}"


@pytest.mark.slow
def test_make_release_leaves_the_workspace_untouched(course):
    """``make release`` regenerates release/ with nbgrader --force; workspace/ is not its business.

    Runs on a copy of the course with the venv linked in (``-o .venv/.installed``: make does not
    reinstall), so the repository's own release/ is not rewritten.
    """
    for name in ["nbgrader_config.py", "pyproject.toml"]:
        shutil.copy2(ROOT / name, course / name)
    shutil.copytree(ROOT / "source", course / "source")
    (course / ".venv").symlink_to(Path(sys.prefix))
    assert make(course, "workspace").returncode == 0
    answer(course / "workspace" / "pool" / "pool.ipynb", "return 'my answer'")
    (course / "workspace" / "extra.txt").write_text("mine")
    before = snapshot(course / "workspace")
    shutil.rmtree(course / "release")  # nbgrader must regenerate it, not find it there
    result = make(course, "-o", ".venv/.installed", "release")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (course / "release").iterdir()) == ASSIGNMENTS
    assert snapshot(course / "workspace") == before
