"""The grading sandbox and the checker's channel, each defence tried by code that attacks it.

These tests start :class:`helpers.grading.sandbox.Sandbox` directly with small programs that try to
read the course, write it, reach the network, outlive the sandbox, fork without end or take all
the memory; and feed :class:`helpers.grading.remote.RestrictedUnpickler` replies that try to run
code in the checker. Without bubblewrap (macOS, Windows, a container without namespaces) the
isolation tests are skipped, unless ``MPCOURSE_REQUIRE_SANDBOX=1`` (set by CI) makes them fail.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import ROOT, TAG, leftover_processes, new_tag
from support.attacks import detached_grandchild, fork_bomb

from helpers.grading import BoundedRun
from helpers.grading import sandbox as sandbox_module
from helpers.grading.remote import (
    LearnerRef,
    Session,
    contains_ref,
    dumps,
    restricted_loads,
)
from helpers.grading.sandbox import Limits, Sandbox, sandbox_status
from helpers.instruments.timeline import TaskRecord

isolated = pytest.mark.skipif(
    not sandbox_status().isolated and os.environ.get("MPCOURSE_REQUIRE_SANDBOX") != "1",
    reason=sandbox_status().reason or "no sandbox",
)


def run_in_sandbox(
    code: str, tmp_path: Path, *, course: Path | None = None, seconds: float = 60, **kw
) -> dict:
    """Run ``code`` (which prints one JSON line last) in a sandbox; return that JSON."""
    log = tmp_path / "out.log"
    box = Sandbox(
        [sys.executable, "-I", "-c", code],
        course_dirs=[str(course or tmp_path)],
        log_path=str(log),
        **kw,
    ).start()
    try:
        assert box.proc is not None
        box.proc.wait(timeout=seconds)
    finally:
        box.kill()
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    assert lines, log.read_text()[-2000:]
    return json.loads(lines[-1])


def test_sandbox_is_required_where_ci_says_so():
    if os.environ.get("MPCOURSE_REQUIRE_SANDBOX") == "1":
        assert sandbox_status().isolated, sandbox_status().warning()


def test_no_sandbox_is_said_loudly(monkeypatch):
    monkeypatch.setenv("MPCOURSE_NO_SANDBOX", "1")
    sandbox_status.cache_clear()
    try:
        status = sandbox_status()
        assert not status.isolated
        assert "WITHOUT an operating-system sandbox" in status.warning()
        assert "bubblewrap" in status.warning()
    finally:
        sandbox_status.cache_clear()


@isolated
def test_course_is_hidden_and_read_only(tmp_path):
    course = tmp_path / "course"
    (course / "source" / "pool").mkdir(parents=True)
    (course / "source" / "pool" / "pool.ipynb").write_text("the solutions")
    (course / "gradebook.db").write_text("grades")
    marker = f"/tmp/mpcourse-probe-{uuid.uuid4().hex}"
    code = f"""
import json, os, helpers
from pathlib import Path
out = {{}}
out["course"] = os.listdir({str(course)!r})
try:
    open({str(ROOT / "source" / "pool" / "pool.ipynb")!r}).read()
    out["repo_source"] = "read"
except OSError as exc:
    out["repo_source"] = type(exc).__name__
try:
    open(Path(helpers.__file__).parent / "__init__.py", "a").write("# changed")
    out["write_helpers"] = "written"
except OSError as exc:
    out["write_helpers"] = exc.errno
open({marker!r}, "w").write("inside")
out["pid"] = os.getpid()
out["home"] = os.listdir(os.path.expanduser("~"))
print(json.dumps(out))
"""
    found = run_in_sandbox(code, tmp_path, course=course)
    assert found["course"] == []
    assert found["repo_source"] in {"FileNotFoundError", "PermissionError"}
    assert found["write_helpers"] == 30  # EROFS: read-only file system
    assert not Path(marker).exists(), "the sandbox's /tmp is not private"
    assert found["pid"] < 10, "the sandbox has no PID namespace of its own"


@isolated
def test_no_network(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    code = f"""
import json, socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3)
    out = "connected"
except OSError as exc:
    out = type(exc).__name__
print(json.dumps({{"connect": out}}))
"""
    try:
        found = run_in_sandbox(code, tmp_path)
    finally:
        server.close()
    assert found["connect"] != "connected"


@isolated
def test_a_detached_child_dies_with_the_sandbox(tmp_path, monkeypatch):
    tag = new_tag("detached")
    monkeypatch.setenv(TAG, tag)
    code = detached_grandchild(300) + "time.sleep(300)\n"
    box = Sandbox(
        [sys.executable, "-I", "-c", code],
        course_dirs=[str(tmp_path)],
        log_path=str(tmp_path / "log"),
    ).start()
    deadline = time.monotonic() + 30
    while "forked" not in (tmp_path / "log").read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(leftover_processes(tag, grace=0)) >= 2, "the detached child did not start"
    box.kill()
    assert leftover_processes(tag) == []


@isolated
def test_a_fork_bomb_is_stopped(tmp_path):
    code = fork_bomb(5000, 30) + "os._exit(0)\n"
    limits = Limits(max_processes=40)
    found = run_in_sandbox(code, tmp_path, limits=limits)
    probe = Sandbox(["true"], limits=limits)
    probe._limit_wrapper()
    enforced = probe._pids_cgroup is not None
    probe.kill()
    if not enforced:
        pytest.skip("no writable pids cgroup here: the checker's observer enforces the limit")
    assert found["children"] < limits.max_processes


@isolated
def test_memory_is_limited(tmp_path):
    code = """
import json
from helpers.grading.runner import _limit
_limit(1 << 30, 10000)
try:
    hog = bytearray(4 << 30)
    out = "allocated"
except MemoryError:
    out = "MemoryError"
print(json.dumps({"hog": out}))
"""
    assert run_in_sandbox(code, tmp_path)["hog"] == "MemoryError"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root")
@isolated
def test_the_namespaces_work_for_a_normal_user(tmp_path):
    """The sandbox's options need no root: bubblewrap makes a user namespace for a normal user.

    Root's home (where pyenv's Python lives here) is closed to other users, so this runs
    Debian's /usr/bin/python3 with the same namespace options as :class:`Sandbox`.
    """
    tmp_path.chmod(0o755)
    course = tmp_path / "course"
    course.mkdir()
    (course / "gradebook.db").write_text("grades")
    course.chmod(0o755)
    options = sandbox_module._bwrap_base(shutil.which("bwrap") or "bwrap")
    options += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    options += ["--tmpfs", "/tmp", "--tmpfs", str(course)]
    code = (
        f"import json, os; print(json.dumps({{'course': os.listdir({str(course)!r}), 'uid': os.getuid(), "
        "'pid': os.getpid()}))"
    )
    done = subprocess.run(
        ["runuser", "-u", "nobody", "--", *options, "/usr/bin/python3", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["course"] == [] and found["uid"] == 65534 and found["pid"] < 10


def test_a_regular_install_keeps_site_packages_visible(monkeypatch, tmp_path):
    """Installed without -e, helpers lives in site-packages: that folder must not be hidden."""
    import sysconfig

    import helpers

    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    monkeypatch.setattr(helpers, "__file__", str(site / "helpers" / "__init__.py"))
    hidden, visible = sandbox_module.hidden_and_visible_paths([str(tmp_path)])
    # Not hidden, or (a venv under /tmp or the home directory) mounted back read-only.
    under_hidden = any(site == h or h in site.parents for h in hidden)
    mounted_back = any(site == v or v in site.parents for v in visible)
    assert not under_hidden or mounted_back, (hidden, visible)
    # ... and the repository is not hidden in its place: the package's parent is site-packages.
    assert site not in hidden
    assert tmp_path.resolve() in hidden


def test_an_editable_install_hides_the_repository(tmp_path):
    hidden, visible = sandbox_module.hidden_and_visible_paths([str(tmp_path)])
    assert ROOT.resolve() in hidden, "the repository (with source/) must be hidden"
    assert (ROOT / "helpers").resolve() in visible


# --- the checker's side --------------------------------------------------------------------------


def test_restricted_unpickler_rebuilds_data_records_and_exceptions():
    record = TaskRecord(0.3, 3.0, 12, 1, 1.0, 1.3)
    value = {"records": [record], "error": ValueError("negative input: -1"), "n": (1, 2.5)}
    back = restricted_loads(dumps(BoundedRun(value=value)))
    assert back.value["records"] == [record]
    assert isinstance(back.value["error"], ValueError)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_restricted_unpickler_refuses_code():
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system"):
        restricted_loads(pickle.dumps(_Evil()))
    with pytest.raises(pickle.UnpicklingError):
        restricted_loads(pickle.dumps(subprocess.Popen))


def test_learner_refs_are_names_not_objects():
    ref = LearnerRef("queue_consumer").consume
    assert ref.path == "queue_consumer.consume"
    assert ref.__name__ == "consume"
    assert callable(ref)
    assert contains_ref((print, ([1, ref],), {}))
    assert not contains_ref((print, (1, 2), {"x": [3]}))


@pytest.mark.slow
def test_a_session_grades_without_a_pids_cgroup(monkeypatch, tmp_path):
    """Where no cgroup can be made (a normal user, most desktops) the observer stops a fork
    bomb, and the submission's other functions still run."""
    monkeypatch.setattr(sandbox_module, "_cgroup_dir", lambda controller: None)
    monkeypatch.setattr(sandbox_module, "_cgroup_v2_dir", lambda: None)
    cells = [
        (0, "import os, time\n"),
        (1, "def add(a, b):\n    return a + b\n"),
        (
            2,
            "def bomb():\n    for _ in range(500):\n        if os.fork() == 0:\n"
            "            time.sleep(20)\n            os._exit(0)\n    time.sleep(20)\n",
        ),
    ]
    session = Session(cells=cells, limits=Limits(max_processes=30), course_dirs=[str(tmp_path)])
    try:
        session.start()
        from helpers.grading import run_bounded
        from helpers.grading.remote import using_session

        with using_session(session):
            blown = run_bounded(LearnerRef("bomb"), timeout=30)
            fine = run_bounded(LearnerRef("add"), 2, 3, timeout=20)
    finally:
        session.close()
    assert blown.error_type == "ProcessLimit", blown
    assert fine.value == 5, fine
