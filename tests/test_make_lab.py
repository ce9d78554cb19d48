"""`make lab` starts JupyterLab from the venv and opens lesson 00."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request

import psutil
import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_opens_lesson_00(tmp_path):
    port = _free_port()
    token = "mpcourse-test"
    args = f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token}"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = open(tmp_path / "lab.log", "w")  # a pipe nobody reads would fill up and stall Lab
    proc = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_ARGS={args}", f"WORKSPACE={tmp_path / 'answers'}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        url = f"http://127.0.0.1:{port}/api/contents/notebooks/00_welcome.ipynb?token={token}"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert proc.poll() is None, (
                    f"make lab exited:\n{(tmp_path / 'lab.log').read_text()}"
                )
                assert time.monotonic() < deadline, "JupyterLab did not answer within 120 s"
                time.sleep(1)
        # The server was asked to open lesson 00: its page serves the lesson's tree URL.
        page = f"http://127.0.0.1:{port}/lab/tree/notebooks/00_welcome.ipynb?token={token}"
        with urllib.request.urlopen(page, timeout=10) as response:
            assert response.status == 200
        children = psutil.Process(proc.pid).children(recursive=True)
        assert any(
            "jupyter-lab" in " ".join(c.cmdline())
            or "jupyter lab" in " ".join(c.cmdline())
            or "jupyterlab" in " ".join(c.cmdline())
            for c in children
        ), "make lab did not start JupyterLab"
        # The course root is served (release/ must be reachable), and Lab opens at lesson 00.
        url = f"http://127.0.0.1:{port}/api/contents/release?token={token}"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?token={token}", timeout=10) as r:
            assert r.geturl().split("?")[0].endswith("/lab/tree/notebooks/00_welcome.ipynb")
    finally:
        procs = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        os.killpg(proc.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(procs, timeout=20)
        for p in alive:  # Jupyter Server sometimes hangs at exit (jupyterlab#10442)
            p.kill()
        psutil.wait_procs(alive, timeout=10)
        proc.wait(10)
        log.close()
