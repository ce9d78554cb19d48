"""``mpcourse doctor``: it reports what is really there, says how to fix each problem, and exits 1.

The checks run for real: the spawned-child check starts a child with the spawn start method, the
extension checks read JupyterLab's own configuration. Problems are made by changing what the
doctor sees (a package version, a disabled extension, a child that cannot import its code), never
by mocking the check itself.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
from conftest import ROOT
from support.tools import run_tool

from helpers.setup import doctor
from helpers.setup.cli import main as cli_main


def fake_versions(monkeypatch, **versions: str | None) -> None:
    """Make importlib.metadata.version report ``versions`` (None: not installed)."""
    real = importlib.metadata.version

    def version(name: str) -> str:
        if name in versions:
            if versions[name] is None:
                raise importlib.metadata.PackageNotFoundError(name)
            return versions[name]
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)


def report_lines(text: str, name: str) -> list[str]:
    """The line of check ``name`` and its fix line, if any."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.split("]", 1)[-1].strip().startswith(name):
            return lines[i : i + 2] if i + 1 < len(lines) and "->" in lines[i + 1] else [line]
    raise AssertionError(f"no line for {name!r} in:\n{text}")


# -- the healthy environment -----------------------------------------------------------------


def test_this_environment_is_all_good(capsys):
    assert doctor.run_doctor() == 0
    out = capsys.readouterr().out
    assert "All good" in out
    for name in doctor.PACKAGES:
        (line,) = report_lines(out, name)
        assert line.startswith("[ok]") and importlib.metadata.version(name) in line
    assert report_lines(out, "Python")[0].startswith("[ok]")
    assert f"{doctor.usable_cpus()} (os.cpu_count() says {os.cpu_count()}" in out
    import multiprocessing

    assert multiprocessing.get_start_method() in report_lines(out, "default start method")[0]
    for name in [
        "nbgrader in JupyterLab",
        "widgets in JupyterLab",
        "Validate button",
        "nbgrader server extensions",
        "helpers in a spawned child",
    ]:
        assert report_lines(out, name)[0].startswith("[ok]"), out


def test_mpcourse_doctor_command_runs_and_exits_0():
    result = run_tool("mpcourse", "doctor", cwd=ROOT.parent, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All good: you are ready for the course." in result.stdout
    assert "helpers in a spawned child" in result.stdout


# -- packages --------------------------------------------------------------------------------


def test_a_missing_package_is_reported_with_its_fix_and_exit_code_1(monkeypatch, capsys):
    fake_versions(monkeypatch, ipywidgets=None)
    assert doctor.run_doctor(spawn_child=False) == 1
    out = capsys.readouterr().out
    line, fix = report_lines(out, "ipywidgets")
    assert line.startswith("[FIX]") and "not installed" in line and ">=8,<9" in line
    assert "python -m pip install 'ipywidgets>=8,<9'" in fix
    assert "1 problem(s) found" in out


def test_a_too_old_package_is_reported_with_the_version_the_course_needs(monkeypatch):
    fake_versions(monkeypatch, nbgrader="0.9.5")
    check = doctor.check_package("nbgrader==0.9.6")
    assert not check.ok
    assert check.detail == "0.9.5 installed, but the course needs ==0.9.6"
    assert "python -m pip install 'nbgrader==0.9.6'" in check.fix
    fake_versions(monkeypatch, jupyterlab="5.0.0")
    assert not doctor.check_package("jupyterlab>=4.2,<5").ok
    fake_versions(monkeypatch, jupyterlab="4.2.0")
    assert doctor.check_package("jupyterlab>=4.2,<5").ok


def test_the_cli_returns_the_doctors_exit_code(monkeypatch, capsys):
    fake_versions(monkeypatch, tqdm=None)
    monkeypatch.setattr(
        doctor,
        "check_spawned_child",
        lambda: doctor.Check("helpers in a spawned child", True, "skipped"),
    )
    assert cli_main(["doctor"]) == 1
    assert "[FIX]" in capsys.readouterr().out


# -- the spawned child -----------------------------------------------------------------------


def test_the_spawned_child_check_really_starts_a_child_and_leaves_none():
    check = doctor.check_spawned_child(timeout=60)
    assert check.ok, check.detail
    pid = int(check.detail.split("child PID ")[1].split()[0])
    assert pid != os.getpid()
    assert str(Path(doctor.__file__).resolve().parents[1]) in check.detail
    assert pid not in {p.pid for p in psutil.Process().children(recursive=True)}, (
        "the child is still running (or was not reaped)"
    )


def test_the_child_imports_helpers_itself_and_is_our_child(tmp_path, monkeypatch):
    """Under spawn the child imports helpers.setup.doctor afresh: its import-time PID is its own."""
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "doctor_probe.py").write_text(
        textwrap.dedent("""
        import os

        def report(conn):
            import helpers.setup.doctor as d
            conn.send({"pid": os.getpid(), "ppid": os.getppid(),
                       "imported_in_pid": d._IMPORTED_IN_PID})
            conn.close()
    """)
    )
    import multiprocessing

    import doctor_probe

    ctx = multiprocessing.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    child = ctx.Process(target=doctor_probe.report, args=(writer,))
    child.start()
    writer.close()
    assert reader.poll(60)
    seen = reader.recv()
    child.join(10)
    assert seen["ppid"] == os.getpid()
    assert seen["imported_in_pid"] == seen["pid"] != os.getpid()


def test_a_child_that_cannot_import_its_code_is_reported_quickly(tmp_path, monkeypatch):
    """The classic failure: the code imports in the notebook, not in a spawned child."""
    (tmp_path / "only_here.py").write_text("def report(conn):\n    conn.send({})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import only_here

    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    check = doctor.check_spawned_child(timeout=60, target=only_here.report)
    assert not check.ok
    assert "exited with code 1 before answering" in check.detail
    assert "python -m pip install -e ." in check.fix


def test_a_child_that_hangs_is_stopped_at_the_time_limit(tmp_path, monkeypatch):
    (tmp_path / "hangs.py").write_text("import time\n\ndef report(conn):\n    time.sleep(60)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import hangs

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    check = doctor.check_spawned_child(timeout=3, target=hangs.report)
    assert not check.ok and "did not answer within 3 s" in check.detail
    left = [
        p
        for p in psutil.Process().children(recursive=True)
        if p.pid not in before
        and p.status() != psutil.STATUS_ZOMBIE
        and "multiprocessing" in " ".join(p.cmdline())
    ]
    assert not left, "the hung child was left running"


# -- JupyterLab ------------------------------------------------------------------------------


def test_a_disabled_widget_extension_is_reported_with_the_command_to_enable_it(
    tmp_path, monkeypatch
):
    """Disable it the way a user would (page_config.json in a Jupyter config dir)."""
    labconfig = tmp_path / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(
        json.dumps(
            {
                "disabledExtensions": {
                    "@jupyter-widgets/jupyterlab-manager": True,
                    "@jupyter/nbgrader:validate-assignment": True,
                }
            }
        )
    )
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    checks = {c.name: c for c in doctor.extension_checks()}
    widgets = checks["widgets in JupyterLab"]
    assert not widgets.ok and "disabled" in widgets.detail
    assert widgets.fix.startswith("jupyter labextension enable @jupyter-widgets/jupyterlab-manager")
    assert checks["nbgrader in JupyterLab"].ok
    validate = checks["Validate button"]
    assert not validate.ok
    assert "jupyter labextension enable @jupyter/nbgrader:validate-assignment" in validate.fix


def test_a_missing_or_incompatible_extension_is_reported():
    info = doctor._lab_info()
    nbgrader = dict(info["federated_extensions"]["@jupyter/nbgrader"])
    # nbgrader 0.9.5's extension was built against JupyterLab 4.2 packages (red X on Lab >= 4.3).
    old = dict(
        nbgrader,
        version="0.9.5",
        dependencies={**nbgrader["dependencies"], "@jupyterlab/application": "~3.6.0"},
    )
    broken = dict(info, federated_extensions={"@jupyter/nbgrader": old})
    checks = {c.name: c for c in doctor.extension_checks(broken)}
    assert not checks["widgets in JupyterLab"].ok
    assert "missing" in checks["widgets in JupyterLab"].detail
    assert "python -m pip install 'ipywidgets>=8,<9'" in checks["widgets in JupyterLab"].fix
    nb = checks["nbgrader in JupyterLab"]
    assert not nb.ok and "built for another JupyterLab" in nb.detail, nb.detail
    assert "nbgrader==0.9.6" in nb.fix


def test_missing_course_settings_are_a_note_not_a_problem(tmp_path, capsys, monkeypatch):
    note = doctor.settings_check(lab_dir=tmp_path)
    assert not note.ok and not note.required and note.fix == "python -m helpers.setup.labsetup"
    text = doctor.format_report([doctor.Check("Python", True, "3.11"), note])
    assert "[note]" in text and "All good" in text


@pytest.mark.parametrize("bad", [True, False])
def test_report_format_marks_each_line(bad):
    checks = [doctor.Check("a", True, "fine"), doctor.Check("b", not bad, "broken", "do this")]
    text = doctor.format_report(checks)
    assert text.splitlines()[0].startswith("[ok]")
    assert ("[FIX]" in text and "-> do this" in text) is bad
    assert ("problem(s) found" in text) is bad
