"""Drive nbgrader on a temporary copy of the course, as an instructor would.

A :class:`Course` is a throw-away course directory with the repository's ``source/`` and
``nbgrader_config.py``. Tests generate the release, hand in notebooks for made-up students (the
reference answer, the blank release, catalogued wrong answers), autograde them all in one nbgrader
call, and read back per-cell scores and the messages the learner would see.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
HIDDEN_MARKERS = re.compile(r"^\s*### (BEGIN|END) HIDDEN TESTS\s*$")


def nbgrader(
    *args: str, cwd: Path, timeout: float = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the venv's nbgrader with the venv's bin first on PATH (nbgrader calls alembic).

    ``env`` adds variables (the tests' process tag, which every kernel and worker inherits).
    """
    env = dict(os.environ, **(env or {}), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def strip_solution_markers(source: str) -> str:
    """The reference answer: a source cell's code without the BEGIN/END SOLUTION lines."""
    return "\n".join(line for line in source.splitlines() if not SOLUTION_MARKERS.match(line))


def release_drift(generated: Path, committed: Path) -> list[str]:
    """Files that differ between a freshly generated release folder and the committed one."""
    import filecmp

    cmp = filecmp.dircmp(generated, committed)
    drift = [*cmp.left_only, *cmp.right_only, *cmp.diff_files]
    drift += [
        name
        for name in cmp.common_files
        if (generated / name).read_bytes() != (committed / name).read_bytes()
    ]
    return sorted(set(drift))


class Course:
    """A temporary nbgrader course directory made from the repository."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = env or {}

    @classmethod
    def copy_of_repo(cls, dest: Path, env: dict[str, str] | None = None) -> Course:
        """A course made of the repository's source/ and nbgrader_config.py, in ``dest``."""
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copytree(ROOT / "source", dest / "source")
        shutil.copy(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
        return cls(dest, env)

    # -- instructor steps -------------------------------------------------------------------
    def generate(self, assignment: str) -> Path:
        """``nbgrader generate_assignment``; returns the release folder."""
        result = nbgrader("generate_assignment", assignment, "--force", cwd=self.root, env=self.env)
        assert result.returncode == 0, (
            f"generate_assignment failed:\n{result.stdout}\n{result.stderr}"
        )
        return self.root / "release" / assignment

    def autograde(self, assignment: str) -> subprocess.CompletedProcess:
        """``nbgrader autograde`` every submission of ``assignment`` in one call."""
        result = nbgrader("autograde", assignment, "--force", cwd=self.root, env=self.env)
        assert result.returncode == 0, f"autograde failed:\n{result.stdout}\n{result.stderr}"
        return result

    # -- notebooks ----------------------------------------------------------------------------
    def source_notebook(self, assignment: str, notebook: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "source" / assignment / f"{notebook}.ipynb", as_version=4)

    def release_notebook(self, assignment: str, notebook: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "release" / assignment / f"{notebook}.ipynb", as_version=4)

    def reference_answers(self, assignment: str, notebook: str) -> dict[str, str]:
        """The reference solution of every answer cell, by grade_id."""
        answers = {}
        for cell in self.source_notebook(assignment, notebook).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and cell.cell_type == "code":
                answers[meta["grade_id"]] = strip_solution_markers(cell.source)
        return answers

    def submit(
        self,
        assignment: str,
        student: str,
        notebook: str,
        answers: dict[str, str] | None = None,
        *,
        reference: bool = True,
    ) -> Path:
        """Hand in the release notebook for ``student``.

        With ``reference`` (the default), every answer cell holds the reference solution, and
        ``answers`` (by grade_id) replaces some of them: that is how a wrong answer is made. With
        ``reference=False`` only ``answers`` is filled in and the rest stays blank.
        """
        nb = self.release_notebook(assignment, notebook)
        fill = dict(self.reference_answers(assignment, notebook)) if reference else {}
        fill.update(answers or {})
        unknown = set(answers or {}) - {
            c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
        }
        assert not unknown, f"no answer cells with grade_id {sorted(unknown)}"
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in fill and cell.metadata["nbgrader"].get("solution"):
                cell.source = fill[grade_id]
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{notebook}.ipynb")
        return folder

    # -- results ------------------------------------------------------------------------------
    def scores(self, assignment: str, student: str, notebook: str) -> dict[str, float]:
        """Autograded score of every graded test cell, by grade_id."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            nb = gb.find_submission_notebook(notebook, assignment, student)
            return {
                g.name: g.score
                for g in nb.grades
                if g.cell.cell_type == "code" and not g.needs_manual_grade
            }

    def max_scores(self, assignment: str, notebook: str) -> dict[str, float]:
        """The points of every graded test cell, from the source notebook's metadata."""
        out = {}
        for cell in self.source_notebook(assignment, notebook).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                out[meta["grade_id"]] = float(meta["points"])
        return out

    def messages(self, assignment: str, student: str, notebook: str) -> dict[str, str]:
        """What each failing test cell told the learner (its error output), by grade_id."""
        path = self.root / "autograded" / student / assignment / f"{notebook}.ipynb"
        nb = nbformat.read(path, as_version=4)
        found = {}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            texts = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    texts.append(f"{out.get('ename')}: {out.get('evalue')}")
                elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                    texts.append("stderr: " + out.get("text", ""))
            if grade_id and texts:
                found[grade_id] = "\n".join(texts)
        return found
