"""``mpcourse doctor``: check that this machine is ready for the course, and say how to fix it.

Run it from a terminal (``mpcourse doctor``) or from a notebook (``helpers.setup.doctor.run_doctor()``,
as lesson 00 does). Every line of the report starts with ``[ok]``, ``[FIX]`` (a problem: the next
line says what to do, and the exit code is 1) or ``[note]`` (worth knowing, not a problem).

What it checks:

- the Python version and every package the course needs, against the course's requirements
  (the same ones as ``pyproject.toml``; ``tests/test_packaging.py`` keeps them in step);
- how many CPUs this process can really use, and the default start method;
- that a child started with **spawn** (a fresh interpreter, as on Windows and macOS) can import
  the course's ``helpers`` package, the same copy as this process: every worker needs that;
- that JupyterLab has the nbgrader and widget front-end extensions, enabled and compatible with
  this JupyterLab, and nbgrader's server extensions (the **Validate** button needs them);
- that the course's JupyterLab settings are installed (no news prompt for a first-time learner).
"""

from __future__ import annotations

import importlib.metadata
import json
import multiprocessing
import os
import platform
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from helpers.instruments.cpus import usable_cpus

__all__ = [
    "Check",
    "INSTALL_HINT",
    "LAB_EXTENSIONS",
    "NBGRADER_SERVER_EXTENSIONS",
    "PACKAGES",
    "PYTHON_REQUIRES",
    "REQUIREMENTS",
    "VALIDATE_PLUGIN",
    "check_course",
    "check_package",
    "check_python",
    "check_spawned_child",
    "collect_checks",
    "extension_checks",
    "format_report",
    "run_doctor",
    "server_extension_check",
    "settings_check",
]

# The course's runtime requirements: the same as [project].dependencies in pyproject.toml
# (tests/test_packaging.py checks that they agree) and as environment.yml for Binder.
PYTHON_REQUIRES = ">=3.11"
REQUIREMENTS = [
    "jupyterlab>=4.2,<5",
    "nbgrader==0.9.6",
    "ipywidgets>=8,<9",
    "matplotlib>=3.7",
    "tqdm>=4.64",
    "psutil>=5.9",
    "distributed>=2024.8",
    "bokeh>=3.1",
    "joblib>=1.3",
]
PACKAGES = [re.split(r"[<>=!~ ]", r, maxsplit=1)[0] for r in REQUIREMENTS]  # names only

# Front-end (JupyterLab) extensions: the report's name for each, and the package that ships it.
LAB_EXTENSIONS = {
    "@jupyter/nbgrader": ("nbgrader in JupyterLab", "nbgrader==0.9.6"),
    "@jupyter-widgets/jupyterlab-manager": ("widgets in JupyterLab", "ipywidgets>=8,<9"),
}
# The nbgrader plug-in that adds the Validate button to the notebook toolbar.
VALIDATE_PLUGIN = "@jupyter/nbgrader:validate-assignment"
# Server extensions of nbgrader; Validate needs validate_assignment.
NBGRADER_SERVER_EXTENSIONS = [
    "nbgrader.server_extensions.validate_assignment",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.formgrader",
]

INSTALL_HINT = "(or run `make lab` from the course folder, which installs everything)"

# Set when this module is imported: a spawned child imports it afresh, so there it is the
# child's own PID. A forked child would inherit the parent's value instead.
_IMPORTED_IN_PID = os.getpid()


@dataclass
class Check:
    """One line of the doctor's report.

    ``required=False`` makes a failed check a ``[note]``: it is shown with its fix but does not
    make the doctor report a problem.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def mark(self) -> str:
        if self.ok:
            return "ok"
        return "FIX" if self.required else "note"


# -- Python and packages ---------------------------------------------------------------------


def _satisfies(version: str, specifier: str) -> bool:
    """Does ``version`` satisfy ``specifier`` (">=4.2,<5")? Uses ``packaging`` (a JupyterLab
    dependency); without it, only tells whether anything is installed at all."""
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging comes with jupyterlab and pip tools
        return True
    try:
        return SpecifierSet(specifier).contains(Version(version), prereleases=True)
    except (InvalidVersion, ValueError):
        return False


def _split(requirement: str) -> tuple[str, str]:
    """'nbgrader==0.9.6' -> ('nbgrader', '==0.9.6')."""
    name = re.split(r"[<>=!~ ]", requirement, maxsplit=1)[0]
    return name, requirement[len(name) :].strip()


def check_python() -> Check:
    version = platform.python_version()
    ok = _satisfies(version, PYTHON_REQUIRES)
    return Check(
        "Python",
        ok,
        f"{version} ({sys.executable})",
        f"The course needs Python {PYTHON_REQUIRES}: install a newer Python and "
        "create the course's environment with it (`make lab PYTHON=python3.12`).",
    )


def check_course() -> Check:
    """Which version of the course's ``helpers`` this process imports, and from where."""
    import helpers

    where = Path(helpers.__file__).resolve().parent
    return Check("course helpers", True, f"{helpers.__version__} ({where})")


def check_package(requirement: str) -> Check:
    """Is the package installed, in a version the course supports?"""
    name, specifier = _split(requirement)
    fix = f"python -m pip install '{requirement}' {INSTALL_HINT}"
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return Check(name, False, f"not installed (the course needs {specifier})", fix)
    ok = _satisfies(version, specifier)
    detail = version if ok else f"{version} installed, but the course needs {specifier}"
    return Check(name, ok, detail, fix)


# -- Processes -------------------------------------------------------------------------------


def _report_to_parent(conn: Connection) -> None:
    """Runs in the spawned child: send back who we are and which ``helpers`` we imported."""
    import helpers

    conn.send(
        {
            "pid": os.getpid(),
            "ppid": os.getppid(),
            "imported_in_pid": _IMPORTED_IN_PID,
            "helpers_dir": str(Path(helpers.__file__).resolve().parent),
            "executable": sys.executable,
        }
    )
    conn.close()


def check_spawned_child(
    timeout: float = 60.0, target: Callable[[Connection], None] | None = None
) -> Check:
    """Start one child with the spawn start method and ask it who it is.

    Spawn starts a fresh interpreter that must import the module of its target function, here
    ``helpers.setup.doctor``: the check proves that the course's package can be imported by every worker
    the lessons start, whatever the start method. ``target`` (a picklable function that sends a
    report like :func:`_report_to_parent` through the connection it gets) is for tests.
    """
    name = "helpers in a spawned child"
    fix = (
        "Install the course into the Python that runs Jupyter: from the course folder, "
        f"python -m pip install -e . {INSTALL_HINT}; then restart the kernel."
    )
    ctx = multiprocessing.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(
        target=target or _report_to_parent,
        args=(writer,),
        name="mpcourse-doctor-child",
        daemon=True,
    )
    try:
        child.start()
    except Exception as exc:  # noqa: BLE001 - any failure to start is the finding
        reader.close()
        writer.close()
        return Check(
            name, False, f"could not start a spawned child: {type(exc).__name__}: {exc}", fix
        )
    writer.close()  # the child holds the only writer: if it dies, poll() sees end-of-file
    report = None
    answered = False
    try:
        answered = reader.poll(timeout)  # True on a report and on end-of-file (the child died)
        if answered:
            try:
                report = reader.recv()
            except (EOFError, OSError):
                report = None
        child.join(timeout=10 if answered else 0)
    finally:
        if child.is_alive():
            child.kill()
            child.join(timeout=5)
        reader.close()
    if report is None:
        if not answered:
            detail = f"the spawned child did not answer within {timeout:g} s and was stopped"
        else:
            detail = (
                f"the spawned child exited with code {child.exitcode} before answering: it "
                "could not import the course's code (its traceback went to the terminal "
                "that runs Python or Jupyter)"
            )
        return Check(name, False, detail, fix)
    here = str(Path(__file__).resolve().parents[1])
    if report["helpers_dir"] != here:
        return Check(
            name,
            False,
            f"the child imported another copy of helpers, from {report['helpers_dir']} "
            f"(this process uses {here})",
            "Two copies of the course are installed. Remove the old one "
            "(python -m pip uninstall multiprocessing-course), then reinstall from the "
            f"course folder: python -m pip install -e . {INSTALL_HINT}.",
        )
    return Check(
        name,
        report["pid"] != os.getpid(),
        f"child PID {report['pid']} answered (this process: PID {os.getpid()}); "
        f"it imported helpers from {report['helpers_dir']}",
        fix,
    )


# -- JupyterLab ------------------------------------------------------------------------------


def _lab_info() -> dict[str, Any]:
    """JupyterLab's own view of its extensions (the data behind `jupyter labextension list`)."""
    from jupyter_core.paths import jupyter_path
    from jupyterlab.commands import AppOptions, get_app_info

    info: dict[str, Any] = get_app_info(
        app_options=AppOptions(labextensions_path=jupyter_path("labextensions"))
    )
    return info


def _is_disabled(name: str, disabled: dict[str, bool]) -> bool:
    try:
        from jupyterlab.commands import _is_disabled as lab_is_disabled

        return bool(lab_is_disabled(name, disabled))
    except ImportError:  # pragma: no cover - private helper moved: fall back to exact names
        return bool(disabled.get(name))


def _compat_errors(name: str, data: dict[str, Any], info: dict[str, Any]) -> list[Any]:
    """What `jupyter labextension list` marks with a red X (extension built for another Lab)."""
    try:
        from jupyterlab.commands import _validate_compatibility

        return list(_validate_compatibility(name, data.get("dependencies", {}), info["core_data"]))
    except Exception:  # noqa: BLE001 - private helper moved or data missing: no verdict
        return []


def extension_checks(info: dict[str, Any] | None = None) -> list[Check]:
    """Are the nbgrader and widget front-end extensions installed, enabled and compatible?"""
    try:
        info = info if info is not None else _lab_info()
    except Exception as exc:  # noqa: BLE001
        return [
            Check(
                "JupyterLab extensions",
                False,
                f"could not list them ({exc})",
                f"python -m pip install 'jupyterlab>=4.2,<5' {INSTALL_HINT}",
            )
        ]
    installed = info.get("federated_extensions", {})
    disabled = info.get("disabled") or {}
    checks = []
    for ext, (name, requirement) in LAB_EXTENSIONS.items():
        if ext not in installed:
            checks.append(
                Check(
                    name,
                    False,
                    f"extension {ext} is missing",
                    f"python -m pip install '{requirement}' {INSTALL_HINT}; "
                    "then restart JupyterLab and reload the page.",
                )
            )
        elif _is_disabled(ext, disabled):
            checks.append(
                Check(
                    name,
                    False,
                    f"extension {ext} is disabled",
                    f"jupyter labextension enable {ext}; then reload the page.",
                )
            )
        elif errors := _compat_errors(ext, installed[ext], info):
            wanted = ", ".join(f"{dep} {spec}" for dep, _core, spec in errors)
            checks.append(
                Check(
                    name,
                    False,
                    f"extension {ext} {installed[ext]['version']} is built for "
                    f"another JupyterLab (needs {wanted}); it would not load",
                    f"python -m pip install '{requirement}' {INSTALL_HINT}",
                )
            )
        else:
            checks.append(
                Check(name, True, f"extension {ext} {installed[ext]['version']}, enabled")
            )
    if "@jupyter/nbgrader" in installed and not _is_disabled("@jupyter/nbgrader", disabled):
        off = _is_disabled(VALIDATE_PLUGIN, disabled)
        checks.append(
            Check(
                "Validate button",
                not off,
                f"{VALIDATE_PLUGIN} " + ("is disabled" if off else "enabled"),
                f"jupyter labextension enable {VALIDATE_PLUGIN}; then reload the page.",
            )
        )
    return checks


def server_extension_check() -> Check:
    """Are nbgrader's Jupyter server extensions enabled (Validate, assignment list, formgrader)?"""
    name = "nbgrader server extensions"
    try:
        from jupyter_core.paths import jupyter_config_path
        from jupyter_server.extension.config import ExtensionConfigManager

        enabled = ExtensionConfigManager(
            read_config_path=jupyter_config_path()
        ).get_jpserver_extensions()
    except Exception as exc:  # noqa: BLE001
        return Check(
            name,
            False,
            f"could not read the server configuration ({exc})",
            f"python -m pip install 'jupyterlab>=4.2,<5' 'nbgrader==0.9.6' {INSTALL_HINT}",
        )
    off = [ext for ext in NBGRADER_SERVER_EXTENSIONS if not enabled.get(ext)]
    if not off:
        return Check(name, True, "enabled (Validate, assignment list, course list, formgrader)")
    return Check(
        name,
        False,
        "not enabled: " + ", ".join(e.rsplit(".", 1)[-1] for e in off),
        "; ".join(f"jupyter server extension enable --sys-prefix {e}" for e in off)
        + "; then restart JupyterLab.",
    )


def settings_check(lab_dir: str | os.PathLike[str] | None = None) -> Check:
    """Are the course's JupyterLab settings installed (see helpers.setup.labsetup)?"""
    from helpers.setup import labsetup

    path = labsetup.settings_dir(lab_dir=lab_dir) / "overrides.json"
    try:
        current = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        current = {}
    missing = [
        f"{plugin}:{key}"
        for plugin, values in labsetup.OVERRIDES.items()
        for key, value in values.items()
        if current.get(plugin, {}).get(key) != value
    ]
    if not missing:
        return Check("course Lab settings", True, f"installed ({path})", required=False)
    return Check(
        "course Lab settings",
        False,
        "not installed: JupyterLab will ask a first-time learner about Jupyter news",
        "python -m helpers.setup.labsetup",
        required=False,
    )


# -- Report ----------------------------------------------------------------------------------


def collect_checks(spawn_child: bool = True) -> list[Check]:
    """Run every check and return the results (no printing)."""
    checks = [check_python(), check_course()]
    checks += [check_package(r) for r in REQUIREMENTS]
    cpus, host = usable_cpus(), os.cpu_count()
    detail = f"{cpus} (os.cpu_count() says {host})"
    if host and cpus < host:
        detail += ": size pools from helpers.usable_cpus(), not os.cpu_count()"
    checks.append(Check("usable CPUs", True, detail))
    checks.append(Check("default start method", True, multiprocessing.get_start_method()))
    if spawn_child:
        checks.append(check_spawned_child())
    try:
        info = _lab_info()
    except Exception:  # noqa: BLE001 - extension_checks reports it
        info = None
    checks += extension_checks(info)
    checks.append(server_extension_check())
    checks.append(settings_check(lab_dir=(info or {}).get("app_dir")))
    return checks


def format_report(checks: list[Check]) -> str:
    """The report as text: one line per check, then the fix of each problem under it."""
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        lines.append(f"{'[' + c.mark + ']':<6} {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"       -> {c.fix}")
    problems = [c for c in checks if not c.ok and c.required]
    lines.append("")
    if problems:
        lines.append(
            f"{len(problems)} problem(s) found: do what the -> lines say, then run "
            "`mpcourse doctor` again (in a notebook: restart the kernel first)."
        )
    else:
        lines.append("All good: you are ready for the course.")
    return "\n".join(lines)


def run_doctor(spawn_child: bool = True) -> int:
    """Print the report; return 0 when nothing needs fixing, 1 otherwise."""
    checks = collect_checks(spawn_child=spawn_child)
    print(format_report(checks))
    return 1 if any(not c.ok and c.required for c in checks) else 0


if __name__ == "__main__":
    sys.exit(run_doctor())
