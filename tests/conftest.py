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


TAG = "MPCOURSE_TEST_TAG"


def own_workers() -> set[int]:
    """PIDs of this test process's live descendants, except multiprocessing's long-lived
    resource tracker and forkserver (started once per test process, on first use)."""
    me = psutil.Process()
    found = set()
    for child in me.children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            cmd = " ".join(child.cmdline())
            parent = child.ppid()
        except psutil.Error:
            continue
        if parent == me.pid and ("resource_tracker" in cmd or "forkserver import main" in cmd):
            continue
        found.add(child.pid)
    return found


def tagged_processes(tag: str) -> list[str]:
    """Live processes that inherited ``MPCOURSE_TEST_TAG=tag`` from a test (kernels, workers).

    Every process a test starts (nbgrader, its kernels, their pool workers, forkservers...)
    inherits the environment, so the tag finds them even after they were orphaned, and only them:
    other work on the machine is not mistaken for a leak.
    """
    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        if p.info["pid"] == os.getpid():
            continue
        try:
            if p.status() == psutil.STATUS_ZOMBIE or p.environ().get(TAG) != tag:
                continue
        except psutil.Error:
            continue
        found.append(f"{p.info['pid']}: {' '.join(p.info.get('cmdline') or [])[:160]}")
    return found


def leftover_processes(tag: str, grace: float = 5.0) -> list[str]:
    """The processes tagged ``tag`` still alive after up to ``grace`` seconds."""
    import time

    deadline = time.monotonic() + grace
    while True:
        alive = tagged_processes(tag)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def new_tag(name: str) -> str:
    """A unique tag value for one test's processes."""
    import uuid

    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def plt():
    """matplotlib's pyplot on the Agg backend (no window); every figure closed afterwards."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as pyplot

    yield pyplot
    pyplot.close("all")
