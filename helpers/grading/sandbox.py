"""The operating-system sandbox that one submission's code runs in while it is graded.

Who imports this: :mod:`helpers.grading.remote` (the checker starts the runner in it) and the
course's tests. Never learner code.

On Linux with bubblewrap (``bwrap``, Debian package ``bubblewrap``) a :class:`Sandbox` runs a
command so that:

- the whole file system is read-only, and the course folders, the home directory, ``/tmp`` and
  ``/var/tmp`` and the nbgrader exchange are replaced by empty folders: ``source/`` (solutions and
  hidden tests), ``gradebook.db``, other learners' submissions and feedback cannot be read. The
  Python installation, the virtual environment and the ``helpers`` package are mounted back,
  read-only, so the learner's code can import what the course provides;
- ``/tmp`` is a private, size-limited tmpfs and the working folder lives there;
- it has its own PID namespace (every process inside dies with the sandbox, a detached
  ``setsid`` child too), no network (its own empty network namespace), its own IPC and host
  name, a new session (no terminal), all capabilities dropped and a user namespace where it runs
  as ``nobody``;
- a limit on processes (a cgroup ``pids.max`` where the cgroup is writable, as root; otherwise
  ``RLIMIT_NPROC`` and a watchdog in the checker that kills the sandbox past the limit) and on
  memory (``RLIMIT_AS`` for every process, plus a cgroup memory limit where writable).

Where bubblewrap is missing or unusable (macOS, Windows, a container that forbids namespaces),
:func:`sandbox_status` says why, and the runner starts as a plain child process: grading still
decides every verdict outside the learner's process, but the learner's code can read and write
what the grading user can. :mod:`helpers.grading.nbgrader_ext` then warns loudly.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from helpers.grading.bounded import kill_and_wait

__all__ = [
    "Limits",
    "Sandbox",
    "SandboxStatus",
    "hidden_and_visible_paths",
    "sandbox_status",
]

#: Where the submission's files live inside the sandbox (on its private ``/tmp``).
WORKDIR = "/tmp/submission"


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandbox.

    ``max_processes`` counts every process in the sandbox (the runner, the learner's workers,
    multiprocessing's helpers); ``memory_bytes`` bounds each process's address space and, where a
    cgroup can be made, the sandbox's total; ``tmp_bytes`` is the size of its private ``/tmp``.
    """

    max_processes: int = 64
    memory_bytes: int = 4 << 30
    tmp_bytes: int = 256 << 20


@dataclass(frozen=True)
class SandboxStatus:
    """Whether grading can isolate submissions here, and if not, why and what it means."""

    isolated: bool
    tool: str
    reason: str = ""

    def warning(self) -> str:
        """A loud, instructor-facing explanation when there is no sandbox, else ''."""
        if self.isolated:
            return ""
        return (
            "WARNING: submissions are graded WITHOUT an operating-system sandbox "
            f"({self.reason}). Every verdict is still decided in a separate process that the "
            "learner's code never runs in, and each submission runs in its own child process "
            "with a time limit, but that code can read and change files the grading user can "
            "(solutions in source/, the gradebook, other submissions) and its detached "
            "processes may outlive grading. Grade on Linux with bubblewrap installed "
            "(apt-get install bubblewrap) to close these gaps."
        )


def _bwrap_base(bwrap: str) -> list[str]:
    return [
        bwrap,
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
        "--new-session",
    ]


@functools.lru_cache(maxsize=1)
def sandbox_status() -> SandboxStatus:
    """Find out, once per process, whether bubblewrap can run a sandbox here."""
    if not sys.platform.startswith("linux"):
        return SandboxStatus(False, "none", f"bubblewrap needs Linux; this is {sys.platform}")
    if os.environ.get("MPCOURSE_NO_SANDBOX") == "1":
        return SandboxStatus(False, "none", "MPCOURSE_NO_SANDBOX=1 is set")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return SandboxStatus(False, "none", "bubblewrap (bwrap) is not installed")
    for user in (_user_args(), []):
        cmd = [*_bwrap_base(bwrap), *user, "true"]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return SandboxStatus(False, "none", f"bwrap did not run: {exc}")
        if done.returncode == 0:
            return SandboxStatus(True, "bwrap" + (" (user namespace)" if user else ""))
    detail = done.stderr.decode(errors="replace").strip().splitlines()
    return SandboxStatus(False, "none", "bwrap failed: " + (detail[-1] if detail else "?"))


def _user_args() -> list[str]:
    return ["--unshare-user", "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL"]


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def hidden_and_visible_paths(
    course_dirs: Sequence[str | os.PathLike[str]] = (),
) -> tuple[list[Path], list[Path]]:
    """What the sandbox hides (empty folders instead) and what it mounts back read-only.

    Hidden: the given course folders, the folder that holds the ``helpers`` package (the course
    repository, with ``source/``), the home directory, ``/tmp``, ``/var/tmp`` and nbgrader's
    default exchange. Visible again: the Python installation, the virtual environment and the
    ``helpers`` package itself, where they lie inside a hidden folder.
    """
    import helpers

    package = Path(helpers.__file__).resolve().parent
    hidden = {Path(p).resolve() for p in course_dirs}
    hidden |= {Path.home().resolve(), Path("/tmp"), Path("/var/tmp")}
    installations = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    if not any(_under(package, prefix) for prefix in installations):
        # An editable install: the package lives in the course repository, next to source/.
        # (In a regular install its folder is site-packages, which must stay visible.)
        hidden.add(package.parent)
    exchange = Path("/usr/local/share/nbgrader/exchange")
    if exchange.is_dir():
        hidden.add(exchange)
    hidden = {p for p in hidden if p.is_dir() and p != Path("/")}
    candidates = {
        package,
        Path(sys.prefix).resolve(),
        Path(sys.base_prefix).resolve(),
        Path(sys.executable).resolve().parent,
    }
    visible = {v for v in candidates if v.exists() and any(_under(v, h) for h in hidden)}
    # A visible folder that contains a hidden one would show it again: drop such hidden ones.
    hidden = {h for h in hidden if not any(_under(h, v) and h != v for v in visible)}
    return sorted(hidden, key=lambda p: len(p.parts)), sorted(visible, key=lambda p: len(p.parts))


def _cgroup_dir(controller: str) -> Path | None:
    """A writable cgroup (v1) for ``controller`` below our own, or None."""
    root = Path("/sys/fs/cgroup") / controller
    if not root.is_dir():
        return None
    own = ""
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(","):
                own = path.lstrip("/")
    except OSError:
        return None
    group = root / own / f"mpcourse-{uuid.uuid4().hex[:12]}"
    try:
        group.mkdir()
    except OSError:
        return None
    return group


def _cgroup_v2_dir() -> Path | None:
    base = Path("/sys/fs/cgroup")
    if not (base / "cgroup.controllers").exists():
        return None
    try:
        own = Path("/proc/self/cgroup").read_text().splitlines()[-1].split(":", 2)[2].lstrip("/")
        parent = base / own
        if "pids" not in (parent / "cgroup.subtree_control").read_text():
            return None
        group = parent / f"mpcourse-{uuid.uuid4().hex[:12]}"
        group.mkdir()
    except (OSError, IndexError):
        return None
    return group


@dataclass
class Sandbox:
    """One running sandbox: start it with :meth:`start`, always end it with :meth:`kill`.

    ``argv`` runs inside with ``cwd`` = :data:`WORKDIR`; ``pass_fds`` stay open in it. Its
    standard output and error go to ``log_path`` (learner code's stray output).
    """

    argv: list[str]
    course_dirs: Sequence[str] = ()
    limits: Limits = field(default_factory=Limits)
    pass_fds: Sequence[int] = ()
    log_path: str = os.devnull
    env: dict[str, str] | None = None
    proc: subprocess.Popen[bytes] | None = None
    status: SandboxStatus = field(default_factory=sandbox_status)
    cgroups: list[Path] = field(default_factory=list)
    hidden: list[Path] = field(default_factory=list)
    _workdir: str | None = None
    _pids_cgroup: Path | None = None

    def command(self) -> list[str]:
        """The full command line: bwrap and its options, then ``argv``."""
        if not self.status.isolated:
            return list(self.argv)
        bwrap = shutil.which("bwrap") or "bwrap"
        cmd = _bwrap_base(bwrap)
        if "user namespace" in self.status.tool:
            cmd += _user_args()
        hidden, visible = hidden_and_visible_paths(self.course_dirs)
        self.hidden = hidden
        for path in hidden:
            if path == Path("/tmp"):
                cmd += ["--size", str(self.limits.tmp_bytes)]
            cmd += ["--tmpfs", str(path)]
        for path in visible:
            cmd += ["--ro-bind", str(path), str(path)]
        cmd += ["--dir", WORKDIR, "--chdir", WORKDIR, "--setenv", "HOME", WORKDIR]
        cmd += ["--setenv", "TMPDIR", "/tmp"]
        return cmd + list(self.argv)

    def _limit_wrapper(self) -> list[str]:
        """A shell prefix that moves the sandbox into its cgroups before bwrap starts."""
        moves = []
        pids = _cgroup_dir("pids") or _cgroup_v2_dir()
        if pids is not None:
            try:
                (pids / "pids.max").write_text(str(self.limits.max_processes))
                self.cgroups.append(pids)
                self._pids_cgroup = pids
                moves.append(pids / "cgroup.procs")
            except OSError:
                pids.rmdir()
        memory = _cgroup_dir("memory")
        if memory is not None:
            try:
                (memory / "memory.limit_in_bytes").write_text(str(self.limits.memory_bytes))
                self.cgroups.append(memory)
                moves.append(memory / "cgroup.procs")
            except OSError:
                memory.rmdir()
        if not moves:
            return []
        script = " && ".join(f'echo $$ > "{m}"' for m in moves) + ' && exec "$@"'
        return ["/bin/sh", "-c", script, "mpcourse-sandbox"]

    def start(self) -> Sandbox:
        """Start the command in the sandbox (or, without one, as a plain child process)."""
        cmd = self.command()
        env = dict(self.env if self.env is not None else os.environ)
        if not self.status.isolated:
            self._workdir = _plain_workdir()
            env["HOME"] = self._workdir
        wrapper = self._limit_wrapper() if self.status.isolated else []
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                wrapper + cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=tuple(self.pass_fds),
                cwd=self._workdir,
                env=env,
                start_new_session=True,
            )
        return self

    def pids(self) -> list[int]:
        """The host PIDs of the sandbox's processes: cheap where a pids cgroup holds them all."""
        if self._pids_cgroup is not None:
            try:
                return [int(x) for x in (self._pids_cgroup / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                pass
        return [p.pid for p in self.processes()]

    def processes(self) -> list[psutil.Process]:
        """Every live process of the sandbox, seen from outside (the bwrap helpers too)."""
        if self.proc is None:
            return []
        try:
            top = psutil.Process(self.proc.pid)
            found = [top, *top.children(recursive=True)]
        except psutil.Error:
            found = []
        seen = {p.pid for p in found}
        for group in self.cgroups:
            try:
                pids = [int(x) for x in (group / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                continue
            for pid in pids:
                if pid not in seen:
                    try:
                        found.append(psutil.Process(pid))
                        seen.add(pid)
                    except psutil.Error:
                        pass
        return found

    def alive(self) -> bool:
        """True while the sandbox's top process runs."""
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Kill every process of the sandbox, wait for them, remove its cgroups. Idempotent."""
        for _ in range(3):
            procs = self.processes()
            if not procs:
                break
            kill_and_wait(procs)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for group in self.cgroups:
            for _ in range(50):
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)
        self.cgroups.clear()
        self._pids_cgroup = None
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


def _plain_workdir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="mpcourse-submission-")
