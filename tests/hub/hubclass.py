"""Set up, run and take down a real class on this machine: JupyterHub, local users, an exchange.

Used by ``tests/test_jupyterhub_class.py``, and runnable by hand to look at the class in a browser::

    sudo .venv/bin/python tests/hub/hubclass.py up /tmp/myclass     # prints the URL and passwords
    sudo .venv/bin/python tests/hub/hubclass.py down /tmp/myclass   # stops the hub, removes users

What it builds (all of it removed again by :meth:`ClassRoom.remove` and :meth:`Hub.stop`):

- three real local users (``useradd --create-home``): an instructor and two learners, each with a
  fixed random password for the hub and a ``~/.jupyter/nbgrader_config.py`` naming the course
  and the exchange;
- nbgrader's exchange, a shared folder (mode 1777: everyone may write, only owners may delete);
- the instructor's copy of the course (``source/`` and ``nbgrader_config.py``) in their home;
- JupyterHub (``tests/hub/jupyterhub_config.py``, run from this Python's environment) on
  127.0.0.1 with configurable-http-proxy, installed by npm into a cache folder
  (``/var/cache/mpcourse-hub``, or ``$MPCOURSE_HUB_CACHE``);
- the class's Python environment, where every user's JupyterLab, kernels and nbgrader run: a venv
  made once in that cache folder from a Python that every user may execute (Debian's
  ``/usr/bin/python3``: the developer's venv often links to a Python under ``/root``, which other
  users cannot reach), with the course's dependencies and the same jupyterhub; the course itself
  is installed into it afresh (editable, see :func:`install_course`) from a copy of the working
  tree, made in the class's folder for each class.

Every process started here (the hub, the proxy, each user's JupyterLab, their kernels) carries
the environment variable ``MPCOURSE_TEST_TAG`` so that leftovers can be found and killed.
Needs root (to create users and to let the hub start servers as them), ``npm`` and ``useradd``.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

if __package__ in (None, ""):  # run as a script (see above): tests/ on the path, as under pytest
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from support.servers import ServerProcess, free_port  # noqa: E402

from helpers.grading.bounded import kill_and_wait  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = Path(sys.executable).parent
CONFIG = HERE / "jupyterhub_config.py"
TAG = "MPCOURSE_TEST_TAG"
COURSE_ID = "multiprocessing-course"
CACHE = Path(os.environ.get("MPCOURSE_HUB_CACHE", "/var/cache/mpcourse-hub"))
CLASS_PYTHON = os.environ.get("MPCOURSE_HUB_PYTHON", "/usr/bin/python3")
# What the course package needs to be installed from a copy of the working tree.
PACKAGE_FILES = ["helpers", "pyproject.toml", "README.md", "LICENSE"]
# configurable-http-proxy 5.3 declares Node >= 20 (tested here, with Node 20); 4.6.3 declares
# Node >= 10, for Debian 12's own Node 18 (not tested here).
PROXY_PACKAGES = {20: "configurable-http-proxy@5", 0: "configurable-http-proxy@4.6.3"}
GECOS = "mpcourse hub test"  # the comment field of every user created here: "<GECOS> pid=<pid>"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def node_major() -> int:
    """The major version of ``node`` on PATH (0 if there is none)."""
    try:
        out = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30)
        return int(out.stdout.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return 0


def proxy_package(major: int) -> str:
    """The configurable-http-proxy release for Node ``major``."""
    return PROXY_PACKAGES[max(k for k in PROXY_PACKAGES if major >= k)]


def proxy_path(cache: Path = CACHE, major: int | None = None) -> Path:
    """Where npm puts configurable-http-proxy's command in ``cache`` (one folder per Node)."""
    major = node_major() if major is None else major
    return cache / f"proxy-node{major}" / "node_modules" / ".bin" / "configurable-http-proxy"


def missing_requirements() -> list[str]:
    """Why a class cannot be run on this machine (empty if it can)."""
    reasons = []
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        reasons.append("not root (needed to create users and to spawn their servers)")
    for tool in ("useradd", "userdel"):
        if shutil.which(tool) is None:
            reasons.append(f"no {tool}")
    if not proxy_path().exists() and shutil.which("npm") is None:
        reasons.append("no npm to install configurable-http-proxy (apt-get install npm)")
    if shutil.which("node") is None:
        reasons.append("no node to run configurable-http-proxy (apt-get install nodejs)")
    if not (BIN / "jupyterhub").exists():
        reasons.append("jupyterhub is not installed (python -m pip install -e '.[test]')")
    if not Path(CLASS_PYTHON).exists():
        reasons.append(f"no {CLASS_PYTHON} to make the class's venv (set MPCOURSE_HUB_PYTHON)")
    return reasons


def ensure_proxy(cache: Path = CACHE) -> Path:
    """configurable-http-proxy from npm, installed once into ``cache``; returns its command."""
    major = node_major()
    command = proxy_path(cache, major)
    package = proxy_package(major)
    if not command.exists():
        prefix = command.parent.parent.parent
        prefix.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", package],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0 or not command.exists():
            raise RuntimeError(f"npm could not install {package}:\n{result.stderr[-2000:]}")
    return command


def _requirements() -> list[str]:
    """What the class environment installs: the course's dependencies, this jupyterhub."""
    import tomllib
    from importlib.metadata import version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [
        *project["project"]["dependencies"],
        f"jupyterhub=={version('jupyterhub')}",  # the single-user side matches the hub
        "ipykernel",
        "setuptools>=77",  # to install the course from its copy without build isolation
    ]


def class_env(cache: Path = CACHE, python: str = CLASS_PYTHON) -> Path:
    """The class's venv (made once per set of requirements, in ``cache``); returns its bin/.

    Every user must be able to execute its Python, so it is made from ``python`` (Debian's
    ``/usr/bin/python3``) in a world-readable folder. Takes a minute or two the first time.
    """
    import fcntl
    import hashlib

    requirements = _requirements()
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    key = hashlib.sha256("\n".join([python, version, *requirements]).encode()).hexdigest()[:12]
    venv = cache / f"venv-py{version}-{key}"
    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time
        if not (venv / ".complete").exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True)
            result = subprocess.run(
                [str(venv / "bin" / "pip"), "install", "-q", *requirements],
                capture_output=True,
                text=True,
                timeout=1200,
            )
            if result.returncode != 0:
                raise RuntimeError(f"pip could not make the class's venv:\n{result.stderr[-3000:]}")
            (venv / ".complete").write_text("\n".join(requirements) + "\n")
    return venv / "bin"


def install_course(bin_dir: Path, scratch: Path) -> Path:
    """Install the course into the class's venv from a copy of the working tree in ``scratch``
    (kept there: the install is editable), then the course's JupyterLab settings
    (``python -m helpers.setup.labsetup``). Returns the copy.

    Editable, because the grading sandbox (helpers/grading/sandbox.py) hides the folder that
    holds the ``helpers`` package: for a checkout that is the course repository, as intended, but
    for a regular install it is site-packages, and the learner's code then cannot import psutil,
    nbformat... inside the sandbox (every test fails). A checkout outside home is what
    docs/jupyterhub.md recommends."""
    import fcntl

    copy = scratch / "course-package"
    copy.mkdir(parents=True)
    for name in PACKAGE_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy(src, copy / name)
    with open(bin_dir.parent.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for cmd in (
            [str(bin_dir / "pip"), "install", "-q", "--no-deps", "--no-build-isolation"]
            + ["--force-reinstall", "--editable", str(copy)],
            [str(bin_dir / "python"), "-m", "helpers.setup.labsetup"],
        ):
            result = subprocess.run(cmd, capture_output=True, text=True, cwd=scratch, timeout=600)
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr[-3000:]}")
    return copy


def _pid_alive(pid: int) -> bool:
    return psutil.pid_exists(pid)


def processes_of(uid: int) -> list[psutil.Process]:
    """The live processes that run as ``uid`` (real user id)."""
    procs = []
    for p in psutil.process_iter(["uids"]):
        try:
            if p.info["uids"] and p.info["uids"].real == uid and p.status() != psutil.STATUS_ZOMBIE:
                procs.append(p)
        except psutil.Error:
            continue
    return procs


def _kill_processes_of(uid: int) -> None:
    """Kill every process of ``uid`` (only ever a user created here, so they are ours)."""
    for _ in range(20):
        procs = processes_of(uid)
        if not procs:
            return
        kill_and_wait(procs)


@dataclass
class LocalUser:
    """A real local user with a home folder, created for one class and removed after it."""

    name: str
    password: str
    uid: int
    gid: int
    home: Path

    @classmethod
    def create(cls, name: str) -> LocalUser:
        subprocess.run(
            [
                "useradd",
                "--create-home",
                "--user-group",
                "--shell",
                "/bin/bash",
                "--comment",
                f"{GECOS} pid={os.getpid()}",
                name,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        entry = pwd.getpwnam(name)
        return cls(name, secrets.token_urlsafe(12), entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))

    def exists(self) -> bool:
        try:
            pwd.getpwnam(self.name)
        except KeyError:
            return False
        return True

    def remove(self) -> None:
        """Kill the user's processes, then ``userdel --remove`` (home folder and mail spool)."""
        if not self.exists():
            return
        _kill_processes_of(self.uid)
        subprocess.run(["userdel", "--remove", self.name], capture_output=True, text=True)

    def env(self, path: str = SYSTEM_PATH, **extra: str) -> dict[str, str]:
        """A clean login-like environment for this user, with ``path`` as PATH."""
        env = {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "PATH": path,
            "LANG": "C.UTF-8",
        }
        env.update(extra)
        return env

    def run(
        self, *cmd: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout=600
    ) -> subprocess.CompletedProcess:
        """Run ``cmd`` as this user (their uid, gid and no other groups)."""
        return subprocess.run(
            list(cmd),
            cwd=cwd or self.home,
            env=env or self.env(),
            user=self.uid,
            group=self.gid,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def own(self, path: Path) -> None:
        """Give ``path`` (and everything below it) to this user."""
        for p in [path, *(path.rglob("*") if path.is_dir() else [])]:
            os.chown(p, self.uid, self.gid, follow_symlinks=False)


def remove_stale_users() -> list[str]:
    """Remove users that an earlier, interrupted run created (their creator is gone)."""
    removed = []
    for entry in pwd.getpwall():
        if not entry.pw_gecos.startswith(GECOS + " pid="):
            continue
        try:
            creator = int(entry.pw_gecos.rsplit("=", 1)[1])
        except ValueError:
            continue
        if creator != os.getpid() and not _pid_alive(creator):
            LocalUser(entry.pw_name, "", entry.pw_uid, entry.pw_gid, Path(entry.pw_dir)).remove()
            removed.append(entry.pw_name)
    return removed


NBGRADER_USER_CONFIG = """\
# Written by tests/hub/hubclass.py: this class's course and its shared exchange.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
"""


@dataclass
class ClassRoom:
    """An instructor, learners, a shared exchange and the instructor's copy of the course."""

    base: Path
    exchange: Path
    instructor: LocalUser
    learners: list[LocalUser]
    tag: str
    bin_dir: Path
    course: Path = field(init=False)

    def __post_init__(self) -> None:
        self.course = self.instructor.home / "course"

    @property
    def users(self) -> list[LocalUser]:
        return [self.instructor, *self.learners]

    @classmethod
    def create(
        cls, tag: str, bin_dir: Path, learners: int = 2, base: Path | None = None
    ) -> ClassRoom:
        """Users, exchange and course for a class whose software is in ``bin_dir``."""
        remove_stale_users()
        if base is None:
            base = Path(tempfile.mkdtemp(prefix="mpcourse-hub-"))
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)  # the learners must reach the exchange inside it
        exchange = base / "exchange"
        exchange.mkdir(exist_ok=True)
        exchange.chmod(0o1777)  # world-writable with the sticky bit, as nbgrader's docs ask
        suffix = secrets.token_hex(2)
        made: list[LocalUser] = []
        try:
            for name in ["teacher", *[f"learner{i + 1}" for i in range(learners)]]:
                made.append(LocalUser.create(f"mpc-{name}-{suffix}"))
            room = cls(base, exchange, made[0], made[1:], tag, bin_dir)
            room._configure()
        except BaseException:
            for user in made:
                user.remove()
            raise
        return room

    def _configure(self) -> None:
        text = NBGRADER_USER_CONFIG.format(course_id=COURSE_ID, exchange=str(self.exchange))
        for user in self.users:
            folder = user.home / ".jupyter"
            folder.mkdir(exist_ok=True)
            (folder / "nbgrader_config.py").write_text(text)
            user.own(folder)
        self.course.mkdir()
        shutil.copytree(ROOT / "source", self.course / "source")
        shutil.copy(ROOT / "nbgrader_config.py", self.course / "nbgrader_config.py")
        self.instructor.own(self.course)

    def user_env(self, user: LocalUser) -> dict[str, str]:
        """What each user's processes get: the exchange for the course's nbgrader_config.py."""
        return user.env(path=self.path, MPCOURSE_EXCHANGE=str(self.exchange), **{TAG: self.tag})

    @property
    def path(self) -> str:
        """PATH for the class's processes: the class's venv first (nbgrader calls alembic)."""
        return f"{self.bin_dir}{os.pathsep}{SYSTEM_PATH}"

    def instructor_runs(self, *cmd: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run a command as the instructor, in their course folder."""
        return self.instructor.run(
            *cmd, cwd=self.course, env=self.user_env(self.instructor), timeout=timeout
        )

    def learner_runs(self, learner: LocalUser, *cmd: str) -> subprocess.CompletedProcess:
        """Run a command as a learner, in their home (where the Assignment List fetches to)."""
        return learner.run(*cmd, env=self.user_env(learner))

    def remove(self) -> list[str]:
        """Remove the users and the shared folder; return the users that could not be removed."""
        for user in self.users:
            user.remove()
        shutil.rmtree(self.base, ignore_errors=True)
        return [u.name for u in self.users if u.exists()]


class Hub(ServerProcess):
    """JupyterHub (with its proxy) for a :class:`ClassRoom`, on 127.0.0.1."""

    name = "jupyterhub"

    def __init__(self, room: ClassRoom, proxy: Path) -> None:
        self.state = room.base / "hub"
        super().__init__(self.state / "jupyterhub.log")
        self.room = room
        self.proxy = proxy
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def settings(self) -> dict:
        return {
            "port": self.port,
            "hub_port": free_port(),
            "proxy_api_port": free_port(),
            "proxy_command": str(self.proxy),
            "singleuser": str(self.room.bin_dir / "jupyterhub-singleuser"),
            "passwords": {u.name: u.password for u in self.room.users},
            "admins": [self.room.instructor.name],
            "state_dir": str(self.state),
            "environment": {
                "PATH": self.room.path,
                "MPCOURSE_EXCHANGE": str(self.room.exchange),
                "LANG": "C.UTF-8",
                TAG: self.room.tag,
            },
        }

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("JUPYTER", "MPCOURSE_EXCHANGE", "CONFIGPROXY"))
            and k not in ("PYTHONPATH", "VIRTUAL_ENV")
        }
        env.update(
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', SYSTEM_PATH)}",
            MPCOURSE_HUB_SETTINGS=str(self.state / "settings.json"),
            PYTHONUNBUFFERED="1",
            **{TAG: self.room.tag},
        )
        return env

    def start(self, timeout: float = 120) -> Hub:
        self.state.mkdir(mode=0o700, exist_ok=True)
        (self.state / "settings.json").write_text(json.dumps(self.settings(), indent=1))
        (self.state / "settings.json").chmod(0o600)  # it holds the passwords
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "jupyterhub"), "-f", str(CONFIG)],
                cwd=self.state,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_until_answering(timeout, interval=0.5)
        return self

    def answers(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=5) as resp:
            return resp.status == 200

    def stop(self, grace: float = 60) -> list[str]:
        """Stop the hub (it stops every user's server and the proxy), then anything left with
        the class's tag. Returns what had to be killed (empty when the hub cleaned up)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(10)
        self.proc = None
        return kill_tagged(self.room.tag)


def tagged(tag: str) -> list[psutil.Process]:
    """Live processes whose environment has ``MPCOURSE_TEST_TAG=tag``."""
    found = []
    for p in psutil.process_iter():
        if p.pid == os.getpid():
            continue
        try:
            if p.status() != psutil.STATUS_ZOMBIE and p.environ().get(TAG) == tag:
                found.append(p)
        except psutil.Error:
            continue
    return found


def kill_tagged(tag: str, grace: float = 10) -> list[str]:
    """Wait up to ``grace`` s for the tagged processes to end, then kill them; describe them."""
    deadline = time.monotonic() + grace
    while (alive := tagged(tag)) and time.monotonic() < deadline:
        time.sleep(0.3)
    described = []
    for p in alive:
        try:
            described.append(f"{p.pid}: {' '.join(p.cmdline())[:160]}")
            p.kill()
        except psutil.Error:
            continue
    return described


def main(argv: list[str] | None = None) -> int:
    """``up FOLDER``: make a class and start its hub (state in FOLDER); ``down FOLDER``: undo."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] not in ("up", "down"):
        print(__doc__)
        return 2
    command, folder = args[0], Path(args[1]).resolve()
    saved = folder / "class.json"
    if command == "up":
        if missing := missing_requirements():
            print("cannot run a class here: " + "; ".join(missing))
            return 1
        bin_dir = class_env()
        install_course(bin_dir, folder)
        room = ClassRoom.create(f"hub-{secrets.token_hex(4)}", bin_dir, base=folder)
        hub = Hub(room, ensure_proxy())
        hub.start()
        assert hub.proc is not None
        saved.write_text(
            json.dumps(
                {"pid": hub.proc.pid, "tag": room.tag, "users": [u.name for u in room.users]}
            )
        )
        saved.chmod(0o600)
        for user in room.users:  # the hub, not this short-lived command, now owns the users
            subprocess.run(["usermod", "--comment", f"{GECOS} pid={hub.proc.pid}", user.name])
        print(f"JupyterHub: {hub.url}   (log: {hub.log_path})")
        for user in room.users:
            print(f"  {user.name:<24} password {user.password}")
        print(f"instructor's course: {room.course}; exchange: {room.exchange}")
        print(f"stop with: {sys.executable} {__file__} down {folder}")
        return 0
    info = json.loads(saved.read_text())
    try:
        os.kill(info["pid"], signal.SIGTERM)
    except ProcessLookupError:
        pass
    left = kill_tagged(info["tag"], grace=60)
    for name in info["users"]:
        entry = pwd.getpwnam(name)
        LocalUser(name, "", entry.pw_uid, entry.pw_gid, Path(entry.pw_dir)).remove()
    shutil.rmtree(folder, ignore_errors=True)
    print("class removed" + (f"; killed {left}" if left else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
