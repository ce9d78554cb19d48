"""``mpcourse doctor``: check that this machine is ready for the course, and say how to fix it."""

from __future__ import annotations

import importlib.metadata
import multiprocessing
import os
import platform
import sys
from dataclasses import dataclass

from helpers.cpus import usable_cpus
from helpers.workers import whoami

PACKAGES = ["jupyterlab", "nbgrader", "ipywidgets", "matplotlib", "tqdm", "psutil"]


@dataclass
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_spawned_child(timeout: float = 60.0) -> Check:
    """Start one spawned child and ask it for its PID: proves ``helpers`` imports in a child."""
    ctx = multiprocessing.get_context("spawn")
    try:
        with ctx.Pool(1) as pool:
            tag, pid, _ = pool.apply_async(whoami, ("doctor",)).get(timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        return Check("helpers in a spawned child", False, f"{type(exc).__name__}: {exc}",
                     "Install the course into the Python that runs Jupyter: "
                     "python -m pip install -e . (or run `make lab`).")
    return Check("helpers in a spawned child", pid != os.getpid(), f"child PID {pid} answered")


def collect_checks(spawn_child: bool = True) -> list[Check]:
    """Run every check and return the results (no printing)."""
    checks = [
        Check("Python", sys.version_info >= (3, 11),
              f"{platform.python_version()} ({sys.executable})",
              "The course needs Python 3.11 or newer."),
    ]
    for name in PACKAGES:
        try:
            version = importlib.metadata.version(name)
            checks.append(Check(name, True, version))
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(name, False, "not installed",
                                f"python -m pip install {name} (or `make lab`)."))
    cpus = usable_cpus()
    checks.append(Check("usable CPUs", True, f"{cpus} (os.cpu_count() says {os.cpu_count()})"))
    checks.append(Check("default start method", True, multiprocessing.get_start_method()))
    if spawn_child:
        checks.append(check_spawned_child())
    checks.extend(_extension_checks())
    return checks


def _extension_checks() -> list[Check]:
    """Are the nbgrader and widget front-end extensions installed for JupyterLab?"""
    found = []
    try:
        from jupyter_core.paths import jupyter_path
        from jupyterlab.commands import AppOptions, get_app_info

        info = get_app_info(app_options=AppOptions(labextensions_path=jupyter_path("labextensions")))
        extensions = info.get("federated_extensions", {})
        disabled = {name for name, off in (info.get("disabled") or {}).items() if off}
    except Exception as exc:  # noqa: BLE001
        return [Check("JupyterLab extensions", False, f"could not list them ({exc})",
                      "Install jupyterlab 4: python -m pip install 'jupyterlab>=4,<5'.")]
    for ext, fix in [("@jupyter/nbgrader", "python -m pip install nbgrader==0.9.6"),
                     ("@jupyter-widgets/jupyterlab-manager", "python -m pip install 'ipywidgets>=8'")]:
        ok = ext in extensions and ext not in disabled
        detail = "enabled" if ok else ("disabled" if ext in extensions else "missing")
        found.append(Check(f"Lab extension {ext}", ok, detail, fix))
    return found


def run_doctor(spawn_child: bool = True) -> int:
    """Print the report; return 0 when every check passed, 1 otherwise."""
    checks = collect_checks(spawn_child=spawn_child)
    width = max(len(c.name) for c in checks)
    for c in checks:
        mark = "ok " if c.ok else "FIX"
        print(f"[{mark}] {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            print(f"      -> {c.fix}")
    bad = [c for c in checks if not c.ok]
    print("\nAll good: you are ready for the course." if not bad else
          f"\n{len(bad)} problem(s) found; fix them and run `mpcourse doctor` again.")
    return 0 if not bad else 1
