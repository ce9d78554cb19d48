"""The trusted checker: runs a notebook's test cells and decides every verdict.

Who imports this: :mod:`helpers.grading.nbgrader_ext` starts it as its own process
(``python -m helpers.grading.checker REQUEST RESULT``) for each notebook it autogrades; tests may
call :func:`check` directly. Learner code never runs in this process.

The checker runs the notebook's setup cell (instructor code: imports), then each test cell, in a
namespace where every name the setup did not define is a :class:`~helpers.grading.remote.LearnerRef`.
The learner's cells run once, in a sandboxed runner (:class:`~helpers.grading.remote.Session`);
each ``run_bounded(learner_function, ...)`` in a test is made there, and its result comes back as
data. So a submission cannot rebind the names a test uses, patch ``run_bounded`` or the
assertions, install IPython transformers, shadow builtins, or print a fake pass: none of that
happens where the test runs. What it returns is checked like any answer.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from helpers.grading.remote import LearnerRef, Session, using_session
from helpers.grading.sandbox import Limits, sandbox_status

__all__ = ["CheckRequest", "check", "main"]

#: A test cell's file name in tracebacks.
_CELL_FILE = "<test cell {}>"


@dataclass
class CheckRequest:
    """What the checker needs: the notebook split into learner cells, setup and tests.

    ``learner_cells`` are ``(index, source)`` of every code cell that is not a test, in order
    (the setup cell included: it runs on both sides). ``tests`` are ``(grade_id, source)``.
    """

    learner_cells: list[tuple[int, str]]
    setup: str
    tests: list[tuple[str, str]]
    files: dict[str, bytes] = field(default_factory=dict)
    course_dirs: list[str] = field(default_factory=list)
    cell_timeout: float = 30.0
    log_path: str = "/dev/null"


def _names_used(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _short_traceback(exc: BaseException, cell: str) -> list[str]:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == cell]
    lines = [f"  {cell}, line {f.lineno}: {f.line}" for f in frames[-1:]]
    return [*lines, f"{type(exc).__name__}: {exc}"]


def _run_test(source: str, grade_id: str, namespace: dict[str, Any]) -> dict[str, Any]:
    for name in _names_used(source):
        if name not in namespace and not hasattr(builtins, name):
            namespace[name] = LearnerRef(name)
    out = io.StringIO()
    cell = _CELL_FILE.format(grade_id)
    started = time.monotonic()
    try:
        code = compile(source, cell, "exec")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(code, namespace)
    except BaseException as exc:  # noqa: BLE001 - a test's failure, whatever its type
        return {
            "grade_id": grade_id,
            "passed": False,
            "ename": type(exc).__name__,
            "evalue": str(exc),
            "traceback": _short_traceback(exc, cell),
            "stdout": out.getvalue()[-20_000:],
            "seconds": time.monotonic() - started,
        }
    return {
        "grade_id": grade_id,
        "passed": True,
        "stdout": out.getvalue()[-20_000:],
        "seconds": time.monotonic() - started,
    }


def check(request: CheckRequest) -> dict[str, Any]:
    """Run the learner's cells in a sandbox and every test here; return outputs and verdicts."""
    session = Session(
        cells=request.learner_cells,
        files=request.files,
        course_dirs=request.course_dirs,
        limits=Limits(),
        cell_timeout=request.cell_timeout,
        log_path=request.log_path,
    )
    status = sandbox_status()
    namespace: dict[str, Any] = {"__name__": "__grader__", "__builtins__": builtins}
    verdicts = []
    try:
        outputs = session.start()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(request.setup, "<setup cell>", "exec"), namespace)
        with using_session(session):
            for grade_id, source in request.tests:
                verdict = _run_test(source, grade_id, namespace)
                if not verdict["passed"] and session.load_error:
                    verdict["evalue"] = f"{verdict['evalue']}\n{session.load_error}".strip()
                verdicts.append(verdict)
    finally:
        session.close()
    return {
        "cell_outputs": {str(i): out for (i, _), out in zip(request.learner_cells, outputs)},
        "load_error": session.load_error,
        "verdicts": verdicts,
        "sandbox": {"isolated": status.isolated, "tool": status.tool, "reason": status.reason},
    }


def request_key(request: dict[str, Any]) -> str:
    """A digest of everything a verdict depends on (not where files or logs happen to be)."""
    import hashlib

    keep = {k: request.get(k) for k in ("learner_cells", "setup", "tests", "files", "cell_timeout")}
    text = json.dumps(keep, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def failed_result(request: dict[str, Any], why: str) -> dict[str, Any]:
    """A result in which every test failed with ``why`` (the checker could not decide)."""
    verdicts = [
        {"grade_id": grade_id, "passed": False, "ename": "GradingError", "evalue": why}
        for grade_id, _ in request.get("tests", [])
    ]
    return {"cell_outputs": {}, "verdicts": verdicts, "load_error": why}


def run_checker(request: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run the checker on ``request`` (JSON-ready, files as hex) in its own process.

    Returns its result, or a result in which every test failed with the reason when the checker
    did not finish within ``timeout`` seconds or failed. Never raises for the learner's sake.
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mpcourse-check-") as tmp:
        request = {**request, "log_path": os.path.join(tmp, "sandbox.log")}
        request_path = os.path.join(tmp, "request.json")
        result_path = os.path.join(tmp, "result.json")
        with open(request_path, "w") as f:
            json.dump(request, f)
        command = [sys.executable, "-m", "helpers.grading.checker", request_path, result_path]
        try:
            done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return failed_result(
                request, f"grading took longer than its time limit of {timeout:.0f} s"
            )
        try:
            with open(result_path) as f:
                result: dict[str, Any] = json.load(f)
        except (OSError, ValueError):
            return failed_result(request, "the checker failed: " + done.stderr[-2000:])
    return result


def main() -> None:
    """``python -m helpers.grading.checker REQUEST.json RESULT.json``."""
    request_path, result_path = sys.argv[1:3]
    with open(request_path) as f:
        raw = json.load(f)
    raw["files"] = {k: bytes.fromhex(v) for k, v in raw.get("files", {}).items()}
    raw["learner_cells"] = [tuple(x) for x in raw["learner_cells"]]
    raw["tests"] = [tuple(x) for x in raw["tests"]]
    result = check(CheckRequest(**raw))
    with open(result_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
