"""Binder and installation files, checked statically (no conda channel is reachable from CI).

- environment.yml: the Python pin in the form repo2docker reads, conda-forge only, pip listed,
  and the same packages with the same version ranges as pyproject.toml (and the doctor);
- postBuild and start: executable, fail fast, install the course, cap BLAS threads;
- README: its make commands exist, its Binder badge and each lesson's own badge point at the
  right notebook;
- helpers.setup.labsetup writes settings JupyterLab accepts; nbgrader_config.py gives a learner with no
  exchange a private one, so the Assignment List shows no error.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from support.tools import BIN, tool_env

from helpers.instruments.cpus import usable_cpus
from helpers.setup import labsetup

# repo2docker's pattern for the Python version of a conda environment (buildpacks/conda).
REPO2DOCKER_PYTHON_REGEX = re.compile(r"python\s*=+\s*([\d\.]*)")
BINDER = re.compile(
    r"https://mybinder\.org/v2/gh/(?P<repo>[\w.-]+/[\w.-]+)/(?P<ref>[\w.-]+)"
    r"\?urlpath=(?P<urlpath>[^)\s\"']+)"
)
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def conda_spec(dep: str) -> tuple[str, SpecifierSet]:
    """A conda MatchSpec such as ``jupyterlab>=4.2,<5`` or ``python=3.11`` as (name, PEP 440).

    Conda's single ``=`` is a prefix match (``=3.11`` means 3.11.*). An ``|`` (or) has no PEP 440
    equivalent, so the course does not use it.
    """
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", dep)
    assert m, f"cannot read the conda dependency {dep!r}"
    name, spec = m.group(1).lower(), m.group(2).replace(" ", "")
    assert "|" not in spec, f"{dep!r}: use one range, not alternatives"
    parts = []
    for part in filter(None, spec.split(",")):
        if re.fullmatch(r"=[\d.]+", part):
            parts.append(f"=={part[1:]}.*")
        elif re.fullmatch(r"[\d.]+", part):  # a bare version is conda's exact-prefix form too
            parts.append(f"=={part}.*")
        else:
            parts.append(part)
    return name, SpecifierSet(",".join(parts))


def environment_requirements() -> dict[str, SpecifierSet]:
    """Every package environment.yml installs, conda and pip, with its version range."""
    found: dict[str, SpecifierSet] = {}
    for dep in environment()["dependencies"]:
        if isinstance(dep, dict):
            for line in dep.get("pip", []):
                req = Requirement(line)
                found[req.name.lower()] = req.specifier
        else:
            name, spec = conda_spec(dep)
            found[name] = spec
    return found


# -- environment.yml ---------------------------------------------------------------------------


def test_python_pin_is_read_by_repo2docker():
    """repo2docker matches each dependency string; a range like >=3.11 falls back to its default."""
    versions = [
        m.group(1)
        for dep in environment()["dependencies"]
        if isinstance(dep, str)
        if (m := REPO2DOCKER_PYTHON_REGEX.match(dep))
    ]
    assert len(versions) == 1, f"one python=X.Y line expected, found {versions}"
    major_minor = ".".join(versions[0].split(".")[:2])
    assert re.fullmatch(r"3\.\d+", major_minor), f"repo2docker would read python {versions[0]!r}"
    requires = SpecifierSet(pyproject()["project"]["requires-python"])
    assert Version(major_minor) in requires, f"Binder's Python {major_minor} is not {requires}"


def test_conda_forge_is_the_only_channel():
    env = environment()
    assert env.get("channels") == ["conda-forge"]
    assert not any(isinstance(d, str) and "::" in d for d in env["dependencies"]), (
        "a channel::package line would pull from another channel"
    )


def test_pip_is_listed_for_the_pip_section():
    deps = environment()["dependencies"]
    names = [conda_spec(d)[0] for d in deps if isinstance(d, str)]
    assert "pip" in names, "list pip among the conda dependencies: repo2docker uses it for pip:"
    pip_lines = [line for d in deps if isinstance(d, dict) for line in d.get("pip", [])]
    assert not [line for line in pip_lines if line.startswith(("-e", "-r", "."))], (
        "a local pip line (-e ., -r) makes repo2docker rebuild the environment on every change"
    )


def test_environment_and_pyproject_name_the_same_packages_and_versions():
    conda = environment_requirements()
    conda.pop("python", None)
    conda.pop("pip", None)
    project = {}
    for line in pyproject()["project"]["dependencies"]:
        req = Requirement(line)
        project[req.name.lower()] = req.specifier
    assert sorted(conda) == sorted(project), (
        "environment.yml and pyproject.toml list different packages"
    )
    differ = {
        name: (str(conda[name]), str(spec)) for name, spec in project.items() if conda[name] != spec
    }
    assert not differ, f"version ranges differ (environment.yml, pyproject.toml): {differ}"


def test_nbgrader_comes_from_pip_in_the_version_with_a_working_lab_extension():
    pip_lines = [
        line
        for d in environment()["dependencies"]
        if isinstance(d, dict)
        for line in d.get("pip", [])
    ]
    assert "nbgrader==0.9.6" in pip_lines, (
        "conda-forge has only nbgrader 0.9.5 (broken on Lab>=4.3)"
    )


def test_doctor_checks_the_same_requirements_as_pyproject():
    from helpers.setup import doctor

    project = sorted(str(Requirement(r)) for r in pyproject()["project"]["dependencies"])
    assert sorted(str(Requirement(r)) for r in doctor.REQUIREMENTS) == project
    assert doctor.PYTHON_REQUIRES == pyproject()["project"]["requires-python"]


# -- postBuild and start -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["postBuild", "start"])
def test_binder_scripts_are_executable_bash(name):
    path = ROOT / name
    assert path.stat().st_mode & stat.S_IXUSR, f"chmod +x {name}: repo2docker runs it directly"
    assert path.read_text().startswith("#!"), f"{name} needs a shebang line"
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_post_build_fails_fast_and_installs_the_course():
    lines = [line.strip() for line in (ROOT / "postBuild").read_text().splitlines()]
    code = [line for line in lines if line and not line.startswith("#")]
    assert any(re.fullmatch(r"set -[a-z]*e[a-z]*( .*)?", line) for line in code[:2]), (
        "postBuild must start with set -e (or -euo pipefail): a failed step must fail the build"
    )
    assert "python -m pip install --no-deps -e ." in code, (
        "repo2docker does not install pyproject.toml when environment.yml exists"
    )
    assert "python -m helpers.setup.labsetup" in code
    assert code.index("python -m pip install --no-deps -e .") < code.index(
        "python -m helpers.setup.labsetup"
    )


def printed_json(command: list[str], cwd: Path, env: dict[str, str]) -> dict:
    """Run ``command`` (it must succeed) and decode the JSON of the last line it printed."""
    out = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_start_caps_blas_threads_at_the_usable_cpus_and_runs_the_command():
    env = tool_env()
    for var in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]:
        env.pop(var, None)
    env["NUMEXPR_NUM_THREADS"] = "3"  # already chosen by the user: kept
    show_env = "import json, os; print(json.dumps(dict(os.environ)))"
    seen = printed_json([str(ROOT / "start"), sys.executable, "-c", show_env], cwd=ROOT, env=env)
    for var in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]:
        assert seen[var] == str(usable_cpus()), var
    assert seen["NUMEXPR_NUM_THREADS"] == "3"
    assert (ROOT / "start").read_text().rstrip().endswith('exec "$@"')


# -- README ------------------------------------------------------------------------------------


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.MULTILINE)}


def test_readme_make_commands_exist():
    readme = (ROOT / "README.md").read_text()
    commands = set(re.findall(r"`make (\w[\w-]*)", readme)) | set(
        re.findall(r"^make (\w[\w-]*)", readme, re.MULTILINE)
    )
    assert {"lab", "test"} <= commands, "the README must tell a newcomer `make lab` and `make test`"
    missing = commands - makefile_targets()
    assert not missing, f"the README mentions make targets that do not exist: {sorted(missing)}"


def test_readme_binder_badge_opens_lesson_00_in_lab():
    links = [m for m in BINDER.finditer((ROOT / "README.md").read_text())]
    assert links, "the README has no Binder badge"
    assert any(m.group("urlpath") == "lab/tree/notebooks/00_welcome.ipynb" for m in links), [
        m.group(0) for m in links
    ]
    assert (ROOT / "notebooks" / "00_welcome.ipynb").exists() or not LESSONS


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_each_lesson_links_to_its_own_binder_launch(lesson):
    readme_repos = {m.group("repo") for m in BINDER.finditer((ROOT / "README.md").read_text())}
    first = "".join(json.loads(lesson.read_text())["cells"][0]["source"])
    links = list(BINDER.finditer(first))
    assert links, f"{lesson.name}: the first cell has no Binder launch link"
    assert any(m.group("urlpath") == f"lab/tree/notebooks/{lesson.name}" for m in links), (
        f"{lesson.name}: the Binder link opens {[m.group('urlpath') for m in links]}"
    )
    assert {m.group("repo") for m in links} <= readme_repos, "Binder link to another repository"


# -- JupyterLab settings -----------------------------------------------------------------------


def test_labsetup_writes_settings_that_match_jupyterlabs_schema(tmp_path):
    (path,) = labsetup.install(prefix=tmp_path, platform="linux")
    assert path == tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    written = json.loads(path.read_text())
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    for plugin, values in written.items():
        package, _, name = plugin.partition(":")
        schema = json.loads((schemas / package / f"{name}.json").read_text())
        for key, value in values.items():
            prop = schema["properties"][key]
            allowed = [o["const"] for o in prop.get("oneOf", [])] or None
            assert allowed is None or value in allowed, f"{plugin}.{key}={value!r} not in {allowed}"
            assert isinstance(value, {"boolean": bool, "string": str}[prop["type"]]), (key, value)
    assert written["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def test_labsetup_keeps_other_settings_and_is_idempotent(tmp_path):
    path = labsetup.settings_dir(tmp_path) / "overrides.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps(
            {
                "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
                "@jupyterlab/apputils-extension:notification": {"doNotDisturbMode": True},
            }
        )
    )
    labsetup.install(prefix=tmp_path, platform="linux")
    once = path.read_text()
    labsetup.install(prefix=tmp_path, platform="linux")
    assert path.read_text() == once
    data = json.loads(once)
    assert data["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    assert data["@jupyterlab/apputils-extension:notification"] == {
        "doNotDisturbMode": True,
        "checkForUpdates": False,
        "fetchNews": "false",
    }
    assert not labsetup.page_config_path(tmp_path).exists(), "no page config off Windows"


def test_labsetup_on_windows_disables_the_assignment_list_as_jupyterlab_reads_it(
    tmp_path, monkeypatch
):
    from jupyterlab_server.config import get_page_config

    written = labsetup.install(prefix=tmp_path, platform="win32")
    page = labsetup.page_config_path(tmp_path)
    assert page in written
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "etc" / "jupyter"))
    config = get_page_config([], app_settings_dir=str(labsetup.settings_dir(tmp_path)))
    disabled = config["disabledExtensions"]  # the list the page hands to the front end
    assert "@jupyter/nbgrader:assignment-list" in disabled
    assert "@jupyter/nbgrader:validate-assignment" not in disabled, "Validate must stay"


# -- nbgrader: a learner with no exchange ------------------------------------------------------


def nbgrader_config(cwd: Path, env: dict[str, str]) -> dict:
    """What ``cwd``/nbgrader_config.py sets, run as nbgrader runs it (a config file is Python
    code with a ``get_config``); in a subprocess, because the file has effects."""
    code = (
        "import json, runpy; from traitlets.config import Config; c = Config(); "
        "runpy.run_path('nbgrader_config.py', init_globals={'get_config': lambda: c}); "
        "print(json.dumps({'root': c.Exchange.get('root'), "
        "'course': c.CourseDirectory.get('course_id')}))"
    )
    return printed_json([sys.executable, "-c", code], cwd=cwd, env=env)


def course_with_config(tmp_path: Path) -> Path:
    """A course folder holding only the course's ``nbgrader_config.py``."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    return course


def learner_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = tool_env(
        {"JUPYTER_DATA_DIR": str(tmp_path / "data"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    )
    env.pop("MPCOURSE_EXCHANGE", None)
    env.update(extra)
    return env


@pytest.mark.skipif(
    Path("/usr/local/share/nbgrader/exchange").is_dir(),
    reason="a shared exchange exists on this machine: the config keeps it",
)
def test_a_learner_without_an_exchange_gets_a_private_one_and_an_empty_list(tmp_path):
    course = course_with_config(tmp_path)
    env = learner_env(tmp_path)
    found = nbgrader_config(course, env)
    exchange = tmp_path / "data" / "nbgrader_exchange"
    assert found["root"] == str(exchange)
    assert exchange.is_dir(), "the private exchange is created when nbgrader loads the config"
    # What the Assignment List runs: it must list (nothing) instead of failing.
    result = subprocess.run(
        [str(BIN / "nbgrader"), "list"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "does not exist" not in result.stdout + result.stderr


def test_mpcourse_exchange_names_a_shared_exchange(tmp_path):
    course = course_with_config(tmp_path)
    shared = tmp_path / "srv" / "exchange"
    found = nbgrader_config(course, learner_env(tmp_path, MPCOURSE_EXCHANGE=str(shared)))
    assert found["root"] == str(shared)
    assert found["course"] == "multiprocessing-course", "the existing settings are unchanged"
    assert not (tmp_path / "data" / "nbgrader_exchange").exists()
