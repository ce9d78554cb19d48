"""Habits that let the next engineer carry the course on.

- one version, written in ``helpers.__version__`` and read by the packaging;
- the licence pyproject declares is the one in LICENSE;
- mypy runs in ``make lint`` (and here, so CI checks types) on a list of modules that all exist;
- the pre-commit hooks exist, and the notebook check refuses outputs and execution counts;
- CONTRIBUTING.md explains what it must, and its concept map points at files that exist;
- the README says what is tested where, and makes no promise the tests do not keep.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from packaging.requirements import Requirement

import helpers

sys.path.insert(0, str(ROOT / "tools"))
import check_clean_notebooks  # noqa: E402

BIN = Path(sys.executable).parent
MYPY = shutil.which("mypy", path=str(BIN))


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def recipe(target: str) -> str:
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"{target}\s*:(?!=)", line))
    body = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        body.append(line)
    return "\n".join(body)


# -- version and licence -----------------------------------------------------------------------


def test_the_installed_version_is_helpers_version():
    assert importlib.metadata.version("multiprocessing-course") == helpers.__version__


def test_the_version_is_written_once():
    project = pyproject()
    assert "version" not in project["project"], "pyproject.toml must not repeat the version"
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "helpers.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+([a-z]+\d+)?", helpers.__version__)


def test_mpcourse_reports_the_version(capsys):
    from helpers.setup.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"mpcourse {helpers.__version__}"


def test_doctor_reports_the_course_version():
    from helpers.setup import doctor

    check = doctor.check_course()
    assert check.ok and check.detail.startswith(f"{helpers.__version__} (")


def test_license_file_is_the_declared_bsd_3_clause():
    assert pyproject()["project"]["license"] == "BSD-3-Clause"
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "the multiprocessing-course authors" in text
    assert "Neither the name of the copyright holder nor the names of its" in text


# -- types -------------------------------------------------------------------------------------


def test_mypy_is_configured_for_the_checked_modules():
    config = pyproject()["tool"]["mypy"]
    assert config["python_version"] == "3.11"
    files = config["files"]
    assert files, "list at least one module"
    missing = [f for f in files if not (ROOT / f).exists()]
    assert not missing, f"[tool.mypy] files names modules that do not exist: {missing}"
    overrides = pyproject()["tool"]["mypy"].get("overrides", [])
    assert not config.get("ignore_errors"), "no blanket ignore_errors"
    assert not any(o.get("ignore_errors") for o in overrides), "no ignore_errors in overrides"
    test_extra = [
        Requirement(r).name for r in pyproject()["project"]["optional-dependencies"]["test"]
    ]
    assert "mypy" in test_extra


def test_make_lint_runs_ruff_and_mypy():
    lint = recipe("lint")
    assert "ruff check" in lint and "ruff format --check" in lint
    assert "typecheck" in lint
    assert "mypy" in recipe("typecheck")


@pytest.mark.skipif(MYPY is None, reason="mypy is not installed (pip install -e '.[test]')")
def test_mypy_passes_on_the_checked_modules():
    result = subprocess.run([MYPY], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("ruff", path=str(BIN)) is None, reason="ruff is not installed")
def test_tools_are_linted_like_the_package():
    """tools/ holds the pre-commit check; make lint covers it, and so does the suite (CI)."""
    ruff = shutil.which("ruff", path=str(BIN))
    assert ruff is not None
    for args in (["check", "tools"], ["format", "--check", "tools"]):
        result = subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_make_bench_runs_the_benchmarks_but_not_the_reference_scripts():
    bench = recipe("bench")
    assert "benchmarks/*.py" in bench and "$(BIN)/python" in bench
    assert "reference_*) continue" in bench


# -- pre-commit and clean notebooks ------------------------------------------------------------


def test_pre_commit_runs_ruff_and_refuses_notebook_outputs():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}
    assert {"ruff-check", "ruff-format", "clean-notebooks"} <= set(hooks)
    assert "ruff check" in hooks["ruff-check"]["entry"]
    assert "ruff format" in hooks["ruff-format"]["entry"]
    script = hooks["clean-notebooks"]["entry"].split()[-1]
    assert (ROOT / script).is_file(), script
    assert hooks["clean-notebooks"]["types"] == ["jupyter"]


def notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def code(source: str, outputs: list | None = None, count: int | None = None) -> dict:
    return {
        "cell_type": "code",
        "source": source,
        "metadata": {},
        "outputs": outputs or [],
        "execution_count": count,
    }


def test_the_notebook_check_refuses_outputs_and_counts_and_clears_them(tmp_path, capsys):
    clean = tmp_path / "clean.ipynb"
    clean.write_text(json.dumps(notebook(code("x = 1"), {"cell_type": "markdown", "source": "#"})))
    dirty = tmp_path / "dirty.ipynb"
    out = [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    dirty.write_text(
        json.dumps(notebook(code("x = 1"), code("print(x)", out, 2), code("y", [], 3)))
    )
    assert check_clean_notebooks.main([str(clean)]) == 0
    assert check_clean_notebooks.main([str(clean), str(dirty)]) == 1
    said = capsys.readouterr().out
    assert "cell 1 ('print(x)'): 1 output(s) and execution count 2" in said
    assert "cell 2 ('y'): execution count 3" in said
    assert check_clean_notebooks.main(["--clear", str(dirty)]) == 0
    assert check_clean_notebooks.main([str(dirty)]) == 0
    cells = json.loads(dirty.read_text())["cells"]
    assert [c["source"] for c in cells] == ["x = 1", "print(x)", "y"], "sources are kept"


def test_committed_notebooks_are_clean():
    paths = [
        *(ROOT / "notebooks").glob("*.ipynb"),
        *(ROOT / "source").glob("*/*.ipynb"),
        *(ROOT / "release").glob("*/*.ipynb"),
    ]
    dirty = {
        p.relative_to(ROOT).as_posix(): found
        for p in paths
        if (found := check_clean_notebooks.problems(json.loads(p.read_text())))
    }
    assert not dirty, f"clear with tools/check_clean_notebooks.py --clear: {dirty}"


# -- CONTRIBUTING.md ---------------------------------------------------------------------------


def contributing() -> str:
    return (ROOT / "CONTRIBUTING.md").read_text()


@pytest.mark.parametrize(
    "needed",
    [
        "make lab",
        "make test",
        "make lint",
        "tests/test_lessons.py -k",
        "chromium",
        "pre-commit install",
        "What you'll learn",
        "Key points",
        "Try it yourself",
        "helpers/selfcheck/lesson_NN.py",
        "<summary>Solution</summary>",
        "usable_cpus()",
        "taskset -c 0",
        "notebooks/reference/",
        "source/<a>/<a>.ipynb",
        '"""Check that …"""',
        "make release",
        "## Grading architecture",
        "## Concept map",
    ],
)
def test_contributing_explains(needed):
    assert needed in contributing()


def test_concept_map_covers_every_lesson_and_points_at_existing_files():
    doc = contributing()
    section = doc[doc.index("## Concept map") :]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    lessons = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))
    named = re.findall(r"`([^`]+)`", "\n".join(rows))
    assert sorted(p for p in named if p.startswith("notebooks/")) == lessons
    missing = [p for p in named if not (ROOT / p).exists()]
    assert not missing, (
        f"the concept map points at files that do not exist: {missing}; "
        "run python tools/concept_map.py --write"
    )


# -- README ------------------------------------------------------------------------------------


def readme() -> str:
    return (ROOT / "README.md").read_text()


def test_readme_makes_no_untested_platform_promise():
    text = " ".join(readme().split())
    assert "behaves the same on Linux, macOS and Windows" not in text
    assert "3.13 are tested" not in text
    assert "## What is tested where" in readme()


def test_readme_python_claims_match_ci():
    """The README names exactly the Pythons .ci/run's matrix runs, besides the default 3.11."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    loop = re.search(r"for version in ([\d. ]+); do", ci)
    matrix = loop.group(1).split() if loop else []
    rows = [line for line in readme().splitlines() if line.startswith("| Python 3.1")]
    named = sorted(set(re.findall(r"3\.1\d", " ".join(r.split("|")[1] for r in rows))))
    assert named == sorted({"3.11", *matrix}), (named, matrix)


def test_readme_points_to_contributing_and_the_workspace():
    text = readme()
    assert "CONTRIBUTING.md" in text
    assert "workspace/<assignment>/" in text


# --- the package's layout (issue: a layout that explains itself) -------------------------------

HELPERS = ROOT / "helpers"
ROLES = {"tasks", "instruments", "selfcheck", "grading", "setup"}


def test_helpers_is_grouped_by_role():
    packages = {p.name for p in HELPERS.iterdir() if (p / "__init__.py").is_file()}
    assert packages == ROLES
    flat = sorted(p.name for p in HELPERS.glob("*.py") if p.name != "__init__.py")
    # Only the two old names that released notebooks used are left at the top, as aliases.
    assert flat == ["timeline.py", "workers.py"]
    for name in flat:
        assert "old name" in (HELPERS / name).read_text()


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_says_who_imports_it(role):
    import importlib

    doc = importlib.import_module(f"helpers.{role}").__doc__ or ""
    assert "import" in doc.lower(), f"helpers.{role} must say who imports it"


def test_every_helpers_module_has_a_docstring_and_all():
    import ast

    missing = []
    for path in sorted(HELPERS.rglob("*.py")):
        tree = ast.parse(path.read_text())
        names = {
            t.id
            for n in tree.body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        names |= {
            n.target.id
            for n in tree.body
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
        }
        if not ast.get_docstring(tree) or (
            "__all__" not in names and "import *" not in path.read_text()
        ):
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"modules without a docstring or __all__: {missing}"


def test_old_import_paths_still_work():
    import helpers.instruments.timeline
    import helpers.tasks.processes
    import helpers.tasks.sync
    import helpers.tasks.workers
    from helpers import processes, sync
    from helpers.timeline import processes_used
    from helpers.workers import count_primes

    assert processes is helpers.tasks.processes and sync is helpers.tasks.sync
    assert count_primes is helpers.tasks.workers.count_primes
    assert processes_used is helpers.instruments.timeline.processes_used
    # What a child process is told to import is the function's home, not the alias.
    assert count_primes.__module__ == "helpers.tasks.workers"
