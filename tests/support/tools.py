"""Run the venv's programs (nbgrader, mpcourse, ruff, jupyter) as a user of the course would.

Every test that starts one of them goes through :func:`run_tool` or :func:`tool_env`: the venv's
``bin`` first on PATH, because nbgrader calls ``alembic``, ``mpcourse grade`` calls nbgrader and
the Makefile expects the same.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["BIN", "run_tool", "tool_env"]

BIN = Path(sys.executable).parent


def tool_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a venv tool: ours, plus ``env``, with the venv's bin first on PATH.

    nbgrader calls ``alembic`` and ``mpcourse grade`` calls nbgrader from PATH; ``env`` adds
    variables (the tests' process tag, which every kernel and worker inherits).
    """
    return dict(os.environ, **(env or {}), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def run_tool(
    name: str,
    *args: str,
    cwd: Path,
    timeout: float,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the venv's program ``name`` with ``args`` in ``cwd`` (see :func:`tool_env` for
    ``env``), feeding it ``stdin``; its output is captured as text."""
    return subprocess.run(
        [str(BIN / name), *args],
        cwd=cwd,
        env=tool_env(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
