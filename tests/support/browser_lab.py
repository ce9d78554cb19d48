"""Support for the browser tests: a throw-away JupyterLab server and Debian's Chromium.

:class:`LabServer` starts ``jupyter lab`` from the venv on 127.0.0.1 (a free port, a token, no
browser) with the project's own configuration (the venv's server extensions and Lab settings, the
course's ``nbgrader_config.py``), serving a temporary copy of the course, with Jupyter's user
folders (settings, workspaces, runtime, data, config) inside the temporary folder so that nothing
from the developer's home leaks in and nothing in the repository is modified.

:func:`launch_chromium` starts the system Chromium through Playwright (never a downloaded one).

The steps every browser test shares are here too: :func:`serving` (a server for the test's
duration, proved to leave no process behind), :func:`chromium_session` (the same for the
browser), :func:`open_in_lab` and :func:`run_all` (what a learner does first).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

from support.servers import ServerProcess, free_port
from support.tools import BIN, tool_env

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# The notebook in the front tab (Lab keeps the others in the page, hidden).
ACTIVE_NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# What a learner's copy of the course holds (no .git, .venv, caches or grading output).
COURSE_FILES = [
    "notebooks",
    "release",
    "source",
    "helpers",
    "nbgrader_config.py",
    "README.md",
    "pyproject.toml",
    "environment.yml",
    "postBuild",
]


def chromium_path() -> str | None:
    """Debian's Chromium, if installed."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


def launch_chromium(playwright: Any) -> Any:
    """Headless system Chromium driven by Playwright."""
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
    )


def copy_course(dest: Path) -> Path:
    """A temporary copy of the course as a learner has it; returns its root."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc")
    for name in COURSE_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def snapshot(paths: list[str], root: Path = ROOT) -> dict[str, str]:
    """Content hashes of ``paths`` in the repository, and any Jupyter checkpoint folders next to
    them: to prove that the browser tests (which open and save those notebooks) change nothing."""
    found = {}
    for rel in paths:
        path = root / rel
        found[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"
        checkpoints = path.parent / ".ipynb_checkpoints"
        found[f"{checkpoints.relative_to(root)}/"] = "exists" if checkpoints.exists() else "none"
    return found


class LabServer(ServerProcess):
    """``jupyter lab`` serving ``root``, with every Jupyter user folder under ``home``."""

    name = "jupyter lab"

    def __init__(
        self,
        root: Path,
        home: Path,
        extra_args: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(home / "jupyter-lab.log")
        self.root = root
        self.home = home
        self.extra_args = list(extra_args)
        self.extra_env = dict(extra_env or {})
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.descendants: dict[int, tuple[float, str]] = {}  # pid: (create_time, cmdline)

    # -- environment -----------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in tool_env().items()
            if not k.startswith(("JUPYTER", "MPCOURSE_EXCHANGE")) and k != "JPY_SESSION_NAME"
        }
        env.update(
            JUPYTER_CONFIG_DIR=str(self.home / "config"),  # no ~/.jupyter
            JUPYTER_DATA_DIR=str(self.home / "data"),  # the learner's private exchange
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(self.home / "user-settings"),  # a first-time learner
            JUPYTERLAB_WORKSPACES_DIR=str(self.home / "workspaces"),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    # -- life cycle ------------------------------------------------------------------------
    def start(self, timeout: float = 90) -> LabServer:
        self.home.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(BIN / "jupyter"),
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI containers run as root; Binder and laptops do not
        cmd += self.extra_args
        log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.root,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.wait_until_answering(timeout, interval=0.25)
        return self

    def answers(self) -> bool:
        self.api("api/status")  # raises until the server is up
        return True

    def api(self, path: str, method: str = "GET", timeout: float = 60) -> Any:
        """Call the server's REST API with the token; return the decoded JSON (or None)."""
        req = urllib.request.Request(
            f"{self.url}/{path.lstrip('/')}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
        return json.loads(body) if body.strip() else None

    def lab_url(self, path: str = "") -> str:
        """The URL that opens ``path`` in a fresh Lab workspace (no tabs left from before)."""
        tree = f"/tree/{path}" if path else ""
        return f"{self.url}/lab{tree}?reset&token={self.token}"

    def remember_descendants(self) -> None:
        """Note every process the server has started so far (kernels and their children)."""
        if self.proc is None:
            return
        try:
            for p in psutil.Process(self.proc.pid).children(recursive=True):
                try:
                    self.descendants[p.pid] = (p.create_time(), " ".join(p.cmdline())[:160])
                except psutil.Error:
                    continue
        except psutil.Error:
            pass

    def stop(self, grace: float = 15) -> list[str]:
        """Shut the server down (kernels first) and return the processes that outlived it.

        Jupyter Server sometimes hangs at interpreter exit after a clean shutdown, joining an idle
        AnyIO worker thread (jupyterlab/jupyterlab#10442); by then its kernels are gone, so after
        ``grace`` seconds the server's own process group is terminated.
        """
        if self.proc is None:
            return []
        self.remember_descendants()
        if self.proc.poll() is None:
            try:
                for kernel in self.api("api/kernels", timeout=10) or []:
                    self.api(f"api/kernels/{kernel['id']}", method="DELETE", timeout=30)
                self.api("api/shutdown", method="POST", timeout=10)
            except (urllib.error.URLError, ConnectionError, OSError, ValueError):
                pass
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self._kill_group(signal.SIGTERM)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self._kill_group(signal.SIGKILL)
                    self.proc.wait(5)
        leftovers = self._leftovers()
        for pid in leftovers:  # ours for sure: same PID and same start time as noted
            try:
                psutil.Process(pid).kill()
            except psutil.Error:
                pass
        self.proc = None
        return [f"{pid}: {self.descendants[pid][1]}" for pid in leftovers]

    def _kill_group(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _leftovers(self, wait: float = 5) -> list[int]:
        deadline = time.monotonic() + wait
        while True:
            alive = []
            for pid, (created, _) in self.descendants.items():
                try:
                    p = psutil.Process(pid)
                    if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                        alive.append(pid)
                except psutil.Error:
                    continue
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.2)


# --- shared by the browser tests (test_browser, test_site, the hub) -----------------------------


def unavailable(reason: str, variable: str = "MPCOURSE_REQUIRE_BROWSER") -> None:
    """Skip the test for ``reason``; fail it instead when CI requires it (``variable=1``)."""
    import pytest

    if os.environ.get(variable) == "1":
        pytest.fail(f"{reason}, and {variable}=1 requires this test")
    pytest.skip(reason)


def browser_processes() -> dict[int, str]:
    """Chromium and Playwright driver processes started by this test process."""
    found = {}
    for p in psutil.Process().children(recursive=True):
        try:
            cmd = " ".join(p.cmdline())
            if p.status() != psutil.STATUS_ZOMBIE and ("chromium" in cmd or "playwright" in cmd):
                found[p.pid] = cmd[:120]
        except psutil.Error:
            continue
    return found


def screenshot(
    page: Any, tmp_path: Path, name: str, folder: str = "browser", full_page: bool = False
) -> Path:
    """Save a screenshot under the test's tmp_path, and under $MPCOURSE_ARTIFACTS/<folder>/ if
    that is set, so that CI can keep it (pytest deletes all but its last three temporary
    folders)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    if os.environ.get("MPCOURSE_ARTIFACTS"):
        keep = Path(os.environ["MPCOURSE_ARTIFACTS"]) / folder / f"{tmp_path.name}-{name}.png"
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, keep)
    return path


def playwright_or_skip(variable: str = "MPCOURSE_REQUIRE_BROWSER") -> Any:
    """Playwright's ``sync_playwright``, or skip (fail when ``variable=1``) without Chromium or
    Playwright.

    The returned context manager also works after an earlier test in this pytest process left
    an event loop marked as running in this thread (seen under xdist in a full run): the sync API
    refuses to start inside a running loop, so the stale mark is put aside meanwhile.
    """
    import asyncio
    import contextlib

    if chromium_path() is None:
        unavailable("Debian's chromium is not installed (apt-get install chromium)", variable)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (python -m pip install -e '.[test]')", variable)

    @contextlib.contextmanager
    def session() -> Any:
        stale = asyncio._get_running_loop()
        if stale is not None:
            print(f"an earlier test left {stale!r} marked as running; put aside for Playwright")
            asyncio._set_running_loop(None)
        try:
            with sync_playwright() as pw:
                yield pw
        finally:
            if stale is not None:
                asyncio._set_running_loop(stale)

    return session


@contextlib.contextmanager
def serving(root: Path, home: Path, tag: str) -> Iterator[LabServer]:
    """JupyterLab serving ``root`` for the block, every process it starts tagged ``tag``; on
    exit it is stopped, and the test fails if any of those processes outlived it."""
    from conftest import TAG, leftover_processes

    server = LabServer(root, home, extra_env={TAG: tag})
    server.start()
    try:
        yield server
    finally:
        leftovers = server.stop()
    assert not leftovers, f"processes outlived JupyterLab: {leftovers}"
    assert not leftover_processes(tag), "processes started by JupyterLab are still running"


@contextlib.contextmanager
def chromium_session(sync_playwright: Any) -> Iterator[Any]:
    """Headless Chromium (from :func:`playwright_or_skip`'s ``sync_playwright``) for the block;
    on exit it is closed, and the test fails if a browser process it started is still running."""
    before = set(browser_processes())
    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        try:
            yield chromium
        finally:
            chromium.close()
    deadline = time.monotonic() + 10
    while left := {pid: cmd for pid, cmd in browser_processes().items() if pid not in before}:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left, f"browser processes left running: {left}"


def open_in_lab(page: Any, lab: LabServer, path: str = "") -> None:
    """Open Lab (at ``path``, a notebook) in a fresh workspace and wait until it is usable."""
    page.goto(lab.lab_url(path))
    page.wait_for_selector("#jp-main-statusbar")
    if path.endswith(".ipynb"):
        page.wait_for_selector(f"{ACTIVE_NOTEBOOK} .jp-Notebook .jp-Cell")
        # the kernel has started and answered
        page.wait_for_selector("#jp-main-statusbar >> text=/\\| Idle/", timeout=90_000)


def run_all(page: Any) -> None:
    """Run > Run All Cells, as a learner does, and wait until every code cell has run."""
    page.click("#jp-MainMenu >> text=Run")
    page.click("li.lm-Menu-item:has-text('Run All Cells')")
    page.wait_for_function(
        """sel => {
            const prompts = [...document.querySelectorAll(sel + ' .jp-CodeCell .jp-InputPrompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        arg=ACTIVE_NOTEBOOK,
        timeout=120_000,
    )
