"""ruff keeps helpers/, tests/, benchmarks/ and the notebooks clean (as `make lint` does)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed")
def test_ruff_check():
    result = subprocess.run(
        [RUFF, "check", "helpers", "tests", "notebooks", "source", "benchmarks", "tools"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed")
def test_ruff_format():
    result = subprocess.run(
        [RUFF, "format", "--check", "helpers", "tests", "benchmarks", "tools"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, "run `ruff format helpers tests benchmarks`:\n" + result.stdout
