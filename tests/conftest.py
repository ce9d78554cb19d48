"""Shared fixtures: the repository's paths, the venv's bin on PATH, and a process-leak guard."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
START_METHODS = ["fork", "spawn", "forkserver"]

# nbgrader calls `alembic` from PATH; the tests run nbgrader, so the venv's bin goes first.
_bin = str(Path(sys.executable).parent)
if not os.environ.get("PATH", "").startswith(_bin + os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

sys.path.insert(0, str(Path(__file__).resolve().parent))


def mp_processes() -> set[int]:
    """PIDs of processes that look like multiprocessing children or Jupyter kernels."""
    found = set()
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if "multiprocessing" in cmd or "ipykernel" in cmd:
            found.add(p.info["pid"])
    return found


def leftover_processes(before: set[int], grace: float = 5.0) -> list[str]:
    """Processes of the kinds above that appeared since ``before`` and are still alive."""
    import time

    deadline = time.monotonic() + grace
    while True:
        new = mp_processes() - before - {os.getpid()}
        alive = []
        for pid in new:
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE and pid not in {c.pid for c in
                                                                     psutil.Process().children(recursive=True)}:
                    alive.append(f"{pid}: {' '.join(p.cmdline())[:160]}")
            except psutil.Error:
                continue
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


@pytest.fixture
def root() -> Path:
    return ROOT
