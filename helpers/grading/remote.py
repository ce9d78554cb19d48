"""The checker's side of grading: learner names as references, answers from a sandbox.

Who imports this: :mod:`helpers.grading.checker` (trusted, outside the sandbox) and
:mod:`helpers.grading.runner` (inside it, for :class:`LearnerRef` and the message framing).

In the checker, every name a test cell uses that the setup cell did not define (the learner's
``parallel_map``, ``queue_consumer``, ...) is a :class:`LearnerRef`: a name, not an object. When
a test passes one to :func:`helpers.grading.run_bounded`, the call goes to the submission's
:class:`Session`: its runner, in the sandbox, resolves the name in the learner's namespace and
makes the call there. What comes back is data the learner's code produced, so it is read with
:class:`RestrictedUnpickler`, which rebuilds plain data, the grading records and built-in
exceptions, and nothing else: no learner class, no function, no code.
"""

from __future__ import annotations

import builtins
import contextlib
import copyreg
import io
import os
import pickle
import struct
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers.grading.sandbox import Limits, Sandbox

if TYPE_CHECKING:
    from helpers.grading.bounded import BoundedRun

__all__ = [
    "LearnerRef",
    "RestrictedUnpickler",
    "Session",
    "contains_ref",
    "current_session",
    "dumps",
    "read_frame",
    "restricted_loads",
    "using_session",
    "write_frame",
]

#: The most a runner may send back for one message (a learner's huge return value is refused).
MAX_FRAME = 256 << 20


@dataclass(frozen=True)
class LearnerRef:
    """A name in the learner's namespace (``"queue_consumer.consume"``), resolved in the sandbox.

    Attribute access makes a longer reference; calling one runs it in the sandbox (through
    :func:`helpers.grading.run_bounded`, with a 30 s limit) and returns its value.
    """

    path: str

    def __getattr__(self, name: str) -> Any:
        if name == "__name__":
            return self.path.rsplit(".", 1)[-1]
        if name.startswith("__"):
            raise AttributeError(name)
        return LearnerRef(f"{self.path}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from helpers.grading.bounded import run_bounded

        return run_bounded(self, *args, timeout=30, **kwargs).value_or_fail()

    def __repr__(self) -> str:
        return f"<your {self.path}>"


def contains_ref(obj: Any, depth: int = 0) -> bool:
    """True if ``obj`` is, or holds in a list, tuple, set or dict, a :class:`LearnerRef`."""
    if isinstance(obj, LearnerRef):
        return True
    if depth > 4:
        return False
    if isinstance(obj, list | tuple | set | frozenset):
        return any(contains_ref(x, depth + 1) for x in obj)
    if isinstance(obj, dict):
        return any(contains_ref(x, depth + 1) for x in (*obj.keys(), *obj.values()))
    return False


# --- what may come back from a sandbox ---------------------------------------------------------

_SAFE_BUILTINS = {
    "bool",
    "bytearray",
    "bytes",
    "complex",
    "dict",
    "float",
    "frozenset",
    "int",
    "list",
    "object",
    "range",
    "set",
    "slice",
    "str",
    "tuple",
    "NoneType",
}
_SAFE_GLOBALS = {
    ("collections", "OrderedDict"),
    ("collections", "Counter"),
    ("collections", "defaultdict"),
    ("collections", "deque"),
    ("copyreg", "_reconstructor"),
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("datetime", "timedelta"),
    ("decimal", "Decimal"),
    ("fractions", "Fraction"),
}
#: Modules whose classes are the grading's own records (dataclasses and named tuples).
_RECORD_MODULES = ("helpers.grading.", "helpers.instruments.timeline")


class RestrictedUnpickler(pickle.Unpickler):
    """Rebuilds plain data, built-in exceptions and the grading's records; refuses the rest."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "builtins":
            obj = getattr(builtins, name, None)
            if name in _SAFE_BUILTINS or (isinstance(obj, type) and issubclass(obj, BaseException)):
                return obj
        elif (module, name) in _SAFE_GLOBALS:
            return getattr(sys.modules.get(module) or __import__(module), name)
        elif module.startswith(_RECORD_MODULES) or module in {"helpers.instruments.timeline"}:
            __import__(module)
            obj = getattr(sys.modules[module], name, None)
            if isinstance(obj, type) and not name.startswith("_") and _is_record(obj):
                return obj
        raise pickle.UnpicklingError(
            f"the grader does not accept a {module}.{name} object from the sandbox"
        )


def _is_record(cls: type) -> bool:
    """Dataclasses, named tuples and exception classes: data, no behaviour on rebuild."""
    return (
        hasattr(cls, "__dataclass_fields__")
        or (issubclass(cls, tuple) and hasattr(cls, "_fields"))
        or issubclass(cls, BaseException)
    )


def restricted_loads(data: bytes) -> Any:
    """``pickle.loads`` that only rebuilds what :class:`RestrictedUnpickler` allows."""
    return RestrictedUnpickler(io.BytesIO(data)).load()


# --- framing on a pipe -------------------------------------------------------------------------


def dumps(obj: Any) -> bytes:
    """Pickle ``obj`` with the standard reductions of exceptions.

    Libraries may register their own reducers for exceptions in ``copyreg`` (``tblib``, which
    ``distributed`` installs, rebuilds tracebacks); the checker would refuse those, so replies
    are pickled without them.
    """
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {
        kind: reducer
        for kind, reducer in copyreg.dispatch_table.items()
        if not (isinstance(kind, type) and issubclass(kind, BaseException))
    }
    pickler.dump(obj)
    return buffer.getvalue()


def write_frame(fd: int, obj: Any) -> None:
    """Send one pickled object, length first."""
    data = dumps(obj)
    view = memoryview(struct.pack("!Q", len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    import select

    chunks = []
    while n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no answer in time")
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, deadline: float | None = None) -> bytes:
    """Read one frame's bytes (not unpickled: the reader decides how far it trusts them)."""
    (size,) = struct.unpack("!Q", _read_exact(fd, 8, deadline))
    if size > MAX_FRAME:
        raise ValueError(f"a message of {size} bytes is more than the grader accepts")
    return _read_exact(fd, size, deadline)


# --- one submission's sandboxed runner ---------------------------------------------------------


def _ns_pid(host_pid: int) -> int | None:
    """The PID a process has in its own (innermost) PID namespace, from /proc/PID/status."""
    try:
        for line in Path(f"/proc/{host_pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return host_pid


@dataclass
class Session:
    """The sandboxed runner for one submission, and the checker's conversation with it.

    ``cells`` are the learner-side cells ``(index, source)`` in notebook order; ``files`` the
    submission's other files (name to bytes), written to the sandbox's working folder.
    """

    cells: Sequence[tuple[int, str]]
    files: dict[str, bytes] = field(default_factory=dict)
    course_dirs: Sequence[str] = ()
    limits: Limits = field(default_factory=Limits)
    cell_timeout: float = 30.0
    log_path: str = os.devnull
    sandbox: Sandbox | None = None
    cell_outputs: list[list[dict[str, Any]]] = field(default_factory=list)
    load_error: str = ""
    restarts: int = 0
    _loaded_cells: list[tuple[int, str]] = field(default_factory=list)
    _to_runner: int = -1
    _from_runner: int = -1

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> list[list[dict[str, Any]]]:
        """Start the runner in a new sandbox and run the learner's cells; return their outputs.

        A cell that ends the runner (``os._exit``, a crash) or never finishes is left out and the
        runner starts again without it, as if the learner had deleted that cell: the rest of the
        notebook is still graded. ``cell_outputs`` holds every cell's outputs, in order.
        """
        excluded: dict[int, dict[str, Any]] = {}
        outputs: dict[int, list[dict[str, Any]]] = {}
        for _ in range(6):
            cells = [(i, src) for i, src in self.cells if i not in excluded]
            failed_at, reason = self._load(cells, outputs)
            if failed_at is None:
                break
            excluded[failed_at] = {
                "output_type": "error",
                "ename": "GraderStoppedCell",
                "evalue": reason,
                "traceback": [f"GraderStoppedCell: {reason}"],
            }
        else:
            self.load_error = (
                "Too many of your notebook's cells ended or blocked the grader's process; "
                "nothing more of it could be graded."
            )
            self._stop()
        for index, error in excluded.items():
            outputs[index] = [error]
        self.cell_outputs = [outputs.get(i, []) for i, _ in self.cells]
        self._loaded_cells = [(i, src) for i, src in self.cells if i not in excluded]
        return self.cell_outputs

    def _launch(self) -> None:
        self._stop()
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        package_parent = str(Path(__file__).resolve().parents[2])
        boot = (
            "import sys; sys.path.insert(0, sys.argv[1]); "
            "from helpers.grading.runner import main; main()"
        )
        argv = [sys.executable, "-I", "-c", boot, package_parent, str(to_r), str(from_w)]
        argv += [str(self.limits.memory_bytes), str(_nproc_limit(self.limits))]
        self.sandbox = Sandbox(
            argv,
            course_dirs=self.course_dirs,
            limits=self.limits,
            pass_fds=(to_r, from_w),
            log_path=self.log_path,
        ).start()
        os.close(to_r)
        os.close(from_w)
        self._to_runner, self._from_runner = to_w, from_r

    def _load(
        self, cells: list[tuple[int, str]], outputs: dict[int, list[dict[str, Any]]]
    ) -> tuple[int | None, str]:
        """Run ``cells`` in a new runner; (index of the cell that failed, why) or (None, '')."""
        self._launch()
        pending = [i for i, _ in cells]
        try:
            write_frame(self._to_runner, ("load", cells, self.files, self.cell_timeout))
            while pending:
                deadline = time.monotonic() + self.cell_timeout + 15
                reply = restricted_loads(read_frame(self._from_runner, deadline))
                if reply[0] != "cell" or reply[1] != pending[0]:
                    raise ValueError("the runner's reply is out of order")
                outputs[reply[1]] = list(reply[2])
                pending.pop(0)
            self.load_error = ""
            return None, ""
        except TimeoutError:
            reason = (
                f"this cell was still running after {self.cell_timeout + 15:.0f} s and would "
                "not stop, so the grader left it out"
            )
        except (EOFError, OSError):
            reason = (
                "this cell ended the grader's process (os._exit, a crash, or a signal), so the "
                "grader left it out and ran the rest of your notebook without it"
            )
        except (pickle.UnpicklingError, ValueError) as exc:
            reason = f"the grader could not read this cell's output ({exc}); it was left out"
        self._stop()
        return (pending[0] if pending else None), reason

    def _stop(self) -> None:
        for fd in (self._to_runner, self._from_runner):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._to_runner = self._from_runner = -1
        if self.sandbox is not None:
            self.sandbox.kill()

    def close(self) -> None:
        """End the runner and every process of the sandbox."""
        self._stop()
        self.sandbox = None

    def alive(self) -> bool:
        return self.sandbox is not None and self.sandbox.alive() and self._to_runner >= 0

    # -- one call ------------------------------------------------------------------------------
    def run_bounded(
        self,
        func: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        timeout: float,
        grace: float,
        **options: Any,
    ) -> Any:
        """Make one :func:`~helpers.grading.run_bounded` call in the sandbox; a BoundedRun."""
        from helpers.grading.bounded import BoundedRun

        if not self.alive():
            if self.load_error or self.restarts > 20:
                return BoundedRun(error_type="GradingError", error_message=self.load_error)
            self.restarts += 1
            failed_at, _ = self._load(self._loaded_cells, {})
            if failed_at is not None or not self.alive():
                return BoundedRun(error_type="GradingError", error_message=self.load_error)
        assert self.sandbox is not None
        watch = _Observer(self.sandbox, self.limits)
        watch.start()
        deadline = time.monotonic() + timeout + grace + 20
        failure = ""
        try:
            request = ("run", func, args, kwargs, {"timeout": timeout, "grace": grace, **options})
            write_frame(self._to_runner, request)
            data = read_frame(self._from_runner, deadline)
        except TimeoutError:
            failure = "timeout"
        except (EOFError, OSError, ValueError) as exc:
            failure = f"the process running your code was ended ({exc})"
        finally:
            watch.stop()
        if watch.over_limit:
            self._stop()
            return BoundedRun(
                error_type="ProcessLimit",
                error_message=(
                    f"your code started more than {self.limits.max_processes} processes at "
                    "once, so the grader stopped it. Size pools from the CPUs you have, and "
                    "never start processes in a loop without an end."
                ),
            )
        if failure == "timeout":
            self._stop()
            return BoundedRun(timed_out=True, seconds=timeout)
        if failure:
            self._stop()
            return BoundedRun(error_type="SystemExit", error_message=failure)
        try:
            run = restricted_loads(data)
        except Exception as exc:  # noqa: BLE001 - anything odd in the reply is the learner's
            return BoundedRun(
                error_type="UnreadableResult",
                error_message=(
                    f"the grader could not read what your code returned ({exc}). Return plain "
                    "data (numbers, strings, lists, dicts), not objects of your own classes."
                ),
            )
        if not isinstance(run, BoundedRun):
            return BoundedRun(error_type="GradingError", error_message="unexpected reply")
        _check_records(run, watch.seen_pids, watch.max_gap)
        return run


def _nproc_limit(limits: Limits) -> int:
    """RLIMIT_NPROC for the sandbox: what this user runs now, plus the sandbox's allowance."""
    try:
        import psutil

        uid = os.getuid()
        mine = sum(1 for p in psutil.process_iter(["uids"]) if p.info["uids"].real == uid)
    except Exception:  # noqa: BLE001
        mine = 1000
    return mine + limits.max_processes


class _Observer(threading.Thread):
    """Watches a sandbox from outside during one call: which PIDs ran, and how many at once."""

    def __init__(self, sandbox: Sandbox, limits: Limits, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.sandbox = sandbox
        self.limit = limits.max_processes + 4  # bwrap's own helpers and the shell wrapper
        self.interval = interval
        self.seen_pids: set[int] = set()
        self.over_limit = False
        self.max_gap = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        known: dict[int, int | None] = {}
        last = time.monotonic()
        while not self._halt.is_set():
            now = time.monotonic()
            self.max_gap = max(self.max_gap, now - last)
            last = now
            pids = self.sandbox.pids()
            for pid in pids:
                if pid not in known:
                    known[pid] = _ns_pid(pid)
                    if known[pid] is not None:
                        self.seen_pids.add(known[pid])  # type: ignore[arg-type]
            if len(pids) > self.limit:
                self.over_limit = True
                self.sandbox.kill()
                return
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(2)


def _records_in(obj: Any, depth: int = 0) -> Iterator[Any]:
    from helpers.instruments.timeline import TaskRecord

    if isinstance(obj, TaskRecord):
        yield obj
    elif depth < 4:
        if isinstance(obj, dict):
            obj = list(obj.values())
        if isinstance(obj, list | tuple) and not hasattr(obj, "_fields"):
            for x in obj:
                yield from _records_in(x, depth + 1)
        elif hasattr(obj, "__dataclass_fields__"):
            for name in obj.__dataclass_fields__:
                yield from _records_in(getattr(obj, name, None), depth + 1)


def _check_records(run: BoundedRun, seen: set[int], max_gap: float) -> None:
    """Refuse task records that claim a process the sandbox never ran.

    A process that ran a task for ``d`` seconds lived at least ``d`` seconds, so the observer,
    which looked at the sandbox's processes at least every ``max_gap`` seconds, saw it whenever
    ``d`` is well above ``max_gap``. A record naming a PID it never saw was made up, not measured.
    """
    if not run.ok or not seen:
        return
    shortest = max(0.05, 2.5 * max_gap)
    for record in _records_in(run.value):
        if record.end - record.start >= shortest and record.pid not in seen:
            run.error_type = "ForgedRecord"
            run.error_message = (
                f"a task record names process {record.pid}, which never ran in the grader's "
                "sandbox. Return what the task function returned, unchanged."
            )
            return


# --- the session that run_bounded uses in the checker ------------------------------------------

_session: Session | None = None


def current_session() -> Session | None:
    """The session the checker is grading now (None in a kernel, where nothing is remote)."""
    return _session


@contextlib.contextmanager
def using_session(session: Session) -> Iterator[Session]:
    """Route :func:`~helpers.grading.run_bounded` calls on learner names to ``session``."""
    global _session
    previous, _session = _session, session
    try:
        yield session
    finally:
        _session = previous
