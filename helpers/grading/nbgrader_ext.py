"""nbgrader's side of trusted grading: the ``TrustedExecute`` autograde preprocessor.

Who imports this: nbgrader, through ``nbgrader_config.py``, which puts :class:`TrustedExecute`
in place of nbgrader's own ``Execute`` in ``Autograde.autograde_preprocessors``. Learners'
**Validate** is not affected: it still runs the notebook in a kernel, as before.

For one notebook, :class:`TrustedExecute` starts the checker (:mod:`helpers.grading.checker`) as a
separate process. The checker runs the learner's cells once, in a sandbox, and the test cells in
its own process; the preprocessor then writes the learner cells' outputs and, for each test cell,
the checker's verdict (nothing when it passed, the error when it failed) into the notebook. So
whatever a submission prints, patches or fakes, nbgrader scores the checker's verdicts. No kernel
runs the submission with the instructor's rights in the course folder, and the hidden tests are
never sent to the sandbox.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from helpers.grading.checker import request_key, run_checker
from helpers.grading.sandbox import sandbox_status

__all__ = ["TrustedExecute", "cached_or_checked", "split_notebook", "submission_files"]

#: Files of a submission that are copied into its sandbox: not notebooks, and not too many bytes.
MAX_FILE_BYTES = 8 << 20


def _meta(cell: NotebookNode) -> dict[str, Any]:
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def _is_test(cell: NotebookNode) -> bool:
    meta = _meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


def split_notebook(nb: NotebookNode) -> tuple[list[tuple[int, str]], str, list[tuple[str, str]]]:
    """The learner-side cells ``(index, source)``, the setup source, and ``(grade_id, source)``.

    The setup cell is the locked cell whose grade_id is ``setup`` (imports; it runs on both
    sides). Every other code cell that is not a test is learner-side, added cells included.
    """
    learner, tests, setup = [], [], ""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if _is_test(cell):
            tests.append((_meta(cell).get("grade_id", f"cell-{index}"), cell.source))
            continue
        if _meta(cell).get("grade_id") == "setup" and _meta(cell).get("locked"):
            setup = cell.source
        learner.append((index, cell.source))
    return learner, setup, tests


def submission_files(folder: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    total = 0
    if not folder.is_dir():
        return files
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.suffix == ".ipynb":
            continue
        if ".ipynb_checkpoints" in path.parts or "__pycache__" in path.parts:
            continue
        size = path.stat().st_size
        if total + size > MAX_FILE_BYTES:
            break
        total += size
        files[str(path.relative_to(folder))] = path.read_bytes().hex()
    return files


def cached_or_checked(request: dict[str, Any], submission_timeout: float) -> dict[str, Any]:
    """The checker's result for ``request``: from the verdict cache, or checked now.

    ``MPCOURSE_VERDICTS`` names a folder of results that ``mpcourse grade`` computed in parallel
    for exactly these requests (keyed by :func:`~helpers.grading.checker.request_key`); a request
    found there is not checked again. Without it every request is checked here.
    """
    cache = os.environ.get("MPCOURSE_VERDICTS")
    path = Path(cache) / f"{request_key(request)}.json" if cache else None
    if path is not None and path.is_file():
        with open(path) as f:
            cached: dict[str, Any] = json.load(f)
        return cached
    result = run_checker(request, submission_timeout)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result))
    return result


class TrustedExecute(NbGraderPreprocessor):
    """Autograde a notebook with verdicts from the trusted checker (see the module's doc)."""

    timeout = Integer(
        60, help="Seconds each cell may take (the learner's cells, and each test cell)."
    ).tag(config=True)

    def preprocess(
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        status = sandbox_status()
        if not status.isolated:
            self.log.warning(status.warning())
        folder = Path(resources.get("metadata", {}).get("path") or ".").resolve()
        learner, setup, tests = split_notebook(nb)
        course_dirs = {str(Path.cwd().resolve()), str(folder)}
        if len(folder.parents) >= 3:
            course_dirs.add(str(folder.parents[2]))  # autograded/<student>/<assignment>/
        request = {
            "learner_cells": learner,
            "setup": setup,
            "tests": tests,
            "files": submission_files(folder),
            "course_dirs": sorted(course_dirs),
            "cell_timeout": float(self.timeout),
        }
        submission_timeout = self.timeout * (len(learner) + len(tests)) + 60
        result = cached_or_checked(request, submission_timeout)
        if result.get("load_error"):
            self.log.warning("Grading %s: %s", folder, result["load_error"])
        self._write(nb, result)
        return nb, resources

    def _write(self, nb: NotebookNode, result: dict[str, Any]) -> None:
        outputs = result.get("cell_outputs", {})
        verdicts = {v["grade_id"]: v for v in result.get("verdicts", [])}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell.execution_count = None
            if _is_test(cell):
                grade_id = _meta(cell).get("grade_id")
                verdict = verdicts.get(grade_id) or {
                    "passed": False,
                    "ename": "GradingError",
                    "evalue": "the grader could not run this test: "
                    + (result.get("load_error") or "no verdict"),
                    "traceback": [],
                    "stdout": "",
                }
                cell.outputs = self._verdict_outputs(verdict)
            else:
                cell.outputs = [NotebookNode(o) for o in outputs.get(str(index), [])]

    @staticmethod
    def _verdict_outputs(verdict: dict[str, Any]) -> list[NotebookNode]:
        found = []
        if verdict.get("stdout"):
            found.append(NotebookNode(output_type="stream", name="stdout", text=verdict["stdout"]))
        if not verdict.get("passed"):
            found.append(
                NotebookNode(
                    output_type="error",
                    ename=verdict.get("ename", "AssertionError"),
                    evalue=verdict.get("evalue", ""),
                    traceback=list(verdict.get("traceback", [])),
                )
            )
        return found
