"""Run a learner's function so that a grader can never hang, crash or leak processes.

:func:`run_bounded` runs ``func(*args)`` in a forked copy of the kernel ("the sandbox"), with
the sandbox's standard output and error captured to files, and a time limit. Whatever the
learner's code does (hang on a queue, start workers that die under spawn, print tracebacks from
children, leave a pool running), the notebook's test cell sees a :class:`BoundedRun` and writes
nothing to stderr, which nbgrader would score as a failed test. On timeout the sandbox and all
its descendants are killed.

Fork is used for the sandbox itself, whatever start method the learner's code uses inside it,
because the learner's function lives in the notebook's ``__main__`` and only a forked copy can
run it without pickling. Where fork does not exist (Windows), the function runs in a thread
with the same time limit; its children's output is then not captured.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from helpers.grading.trace import read_trace, tracing
from helpers.instruments.timeline import TaskRecord

__all__ = [
    "BoundedRun",
    "GraderInterrupt",
    "PROBE_DIR",
    "count_worker_processes",
    "describe_workers",
    "hint_for",
    "kill_and_wait",
    "last_lines",
    "probe",
    "process_state",
    "run_bounded",
]

# What the children's stderr says, and what the learner should do about it.
_HINTS = [
    (
        "Can't get attribute",
        "Your worker function is defined in the notebook. Worker processes "
        "started with spawn cannot find it. Use a function from helpers.tasks.workers, or write yours to "
        "a file with %%writefile and import it.",
    ),
    (
        "<lambda>",
        "A lambda cannot be sent to a worker process. Use a named top-level function "
        "from a module (for example from helpers.tasks.workers).",
    ),
    (
        "Can't pickle",
        "Something you send to a worker cannot be pickled. Send plain data and "
        "top-level functions from a module.",
    ),
    (
        "Can't get local object",
        "A nested function or closure cannot be sent to a worker process. "
        "Define the worker at the top level of a module.",
    ),
]


@dataclass
class BoundedRun:
    """What happened when a function ran under :func:`run_bounded`.

    ``pid`` is the process that ran the function itself: a task recorded with that PID ran in
    the caller's own process, not in a worker. ``max_children`` is the most worker processes
    (not counting multiprocessing's resource tracker and forkserver) seen alive at once while the
    function ran; ``leftover_processes`` counts those still alive ``grace`` seconds after it
    returned; ``unclosed_pools`` counts pools dropped without close() or terminate().
    """

    value: Any = None
    error_type: str | None = None
    error_message: str = ""
    error_traceback: str = ""
    timed_out: bool = False
    seconds: float = 0.0
    stdout: str = ""
    stderr: str = ""
    leftover_processes: int = 0
    unclosed_pools: int = 0
    max_children: int = 0
    pid: int = 0
    notes: list[str] = field(default_factory=list)
    tasks: list[TaskRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the function returned normally, in time."""
        return not self.timed_out and self.error_type is None

    def hint(self) -> str:
        """A sentence telling the learner what the captured output suggests, or ''."""
        text = f"{self.stderr}\n{self.error_message}\n{self.error_traceback}"
        for needle, advice in _HINTS:
            if needle in text:
                return advice
        return ""

    def explain(self) -> str:
        """A learner-facing account of what went wrong, or '' when the run was fine."""
        if self.timed_out:
            parts = [f"Your code did not finish within {self.seconds:.0f} s and was stopped."]
            hint = self.hint()
            parts.append(
                hint
                or "Look for a wait that never ends: a get() with no item coming, a "
                "join() on a process that is still blocked, or a missing sentinel."
            )
        elif self.error_type is not None:
            parts = [f"Your code raised {self.error_type}: {self.error_message}"]
            hint = self.hint()
            if hint:
                parts.append(hint)
        else:
            return ""
        last = last_lines(self.stderr, 3)
        if last:
            parts.append("The processes' error output ended with:\n" + last)
        return " ".join(parts[:2]) + ("\n" + parts[2] if len(parts) > 2 else "")

    def value_or_fail(self) -> Any:
        """Return the value, or raise AssertionError with :meth:`explain` as its message."""
        if not self.ok:
            raise AssertionError(self.explain())
        return self.value


def last_lines(text: str, n: int = 3) -> str:
    """The last ``n`` non-blank lines of ``text`` (the end of a traceback, say)."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-n:])


def hint_for(stderr: str, extra: str = "") -> str:
    """The advice that captured error output (and ``extra`` text) suggests, or ''."""
    return BoundedRun(stderr=stderr, error_message=extra).hint()


def process_state(proc: BaseProcess) -> str:
    """``"joined"``, ``"finished"`` (a zombie nobody joined) or ``"running"``. Never reaps it."""
    import psutil

    if proc.pid is None:
        return "joined"
    try:
        status = psutil.Process(proc.pid).status()
    except psutil.Error:
        return "joined"
    if status in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
        return "finished"
    return "running"


class GraderInterrupt(BaseException):
    """Raised in the sandbox's main thread by a grader's watchdog to stop stuck learner code.

    A BaseException, so that a learner's ``except Exception:`` does not swallow it.
    """


def _descendants(pid: int) -> list[Any]:
    import psutil

    try:
        children: list[Any] = psutil.Process(pid).children(recursive=True)
        return children
    except psutil.Error:
        return []


def _is_resource_tracker(proc: Any) -> bool:
    try:
        return "resource_tracker" in " ".join(proc.cmdline())
    except Exception:  # noqa: BLE001
        return False


def kill_and_wait(procs: list[Any], timeout: float = 3.0) -> None:
    """Kill each of ``procs`` (``psutil.Process``; one already gone is passed over), then wait up
    to ``timeout`` seconds for them all. The one way the graders, the sandbox and the hub test
    stop processes."""
    import psutil

    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=timeout)


def _kill_tree(pid: int) -> None:
    """Kill ``pid`` and its descendants, but let resource trackers clean up and exit."""
    import psutil

    procs = [p for p in _descendants(pid) if not _is_resource_tracker(p)]
    try:
        procs.append(psutil.Process(pid))
    except psutil.Error:
        pass
    kill_and_wait(procs)


def count_worker_processes(pid: int | None = None) -> int:
    """Count the descendants of ``pid`` that do work: not multiprocessing's own helpers.

    The resource tracker and the forkserver are started by multiprocessing itself; they are not
    the learner's workers, so they do not count.
    """
    import psutil

    count = 0
    for child in _descendants(os.getpid() if pid is None else pid):
        try:
            cmd = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "resource_tracker" in cmd:
            continue
        if "forkserver import main" in cmd:
            # The forkserver's own children (the workers) share its command line.
            try:
                parent = child.parent()
                parent_cmd = " ".join(parent.cmdline()) if parent else ""
            except psutil.Error:
                parent_cmd = ""
            if "forkserver import main" not in parent_cmd:
                continue
        count += 1
    return count


class _ChildSampler(threading.Thread):
    """Samples how many worker processes exist, to prove that work was done by processes."""

    def __init__(self, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.most = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.most = max(self.most, count_worker_processes())
            except Exception:  # noqa: BLE001 - sampling must never break the run
                pass
            self._stop_event.wait(self.interval)

    def stop(self) -> int:
        self._stop_event.set()
        self.join(1)
        return self.most


def _watch_parent(parent: int) -> None:
    """In the sandbox: if the kernel dies, kill our own descendants and exit."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            for p in _descendants(os.getpid()):
                try:
                    p.kill()
                except Exception:  # noqa: BLE001
                    pass
            os._exit(3)


def _forget_inherited_servers() -> None:
    """In the sandbox: drop the kernel's forkserver and resource tracker, start our own.

    A forked child inherits the parent's handles to both. Reusing the kernel's forkserver fails
    (``waitpid`` on a process that is not our child) and would put the learner's workers outside
    the sandbox's process tree; reusing its resource tracker would make the kernel report the
    sandbox's semaphores as leaked when a hung sandbox is killed. These are private attributes,
    so each step is guarded.
    """
    try:
        from multiprocessing import forkserver

        fs = forkserver._forkserver
        for attr in (
            "_forkserver_address",
            "_forkserver_alive_fd",
            "_forkserver_pid",
            "_inherited_fds",
        ):
            if hasattr(fs, attr):
                setattr(fs, attr, None)
    except Exception:  # noqa: BLE001 - best effort on other Python versions
        pass
    try:
        from multiprocessing import resource_tracker

        rt = resource_tracker._resource_tracker
        for attr in ("_fd", "_pid"):
            if hasattr(rt, attr):
                setattr(rt, attr, None)
    except Exception:  # noqa: BLE001
        pass


def _sandbox(
    conn: Connection,
    out_path: str,
    err_path: str,
    parent: int,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    grace: float,
    start_method: str | None,
    only: bool = False,
    trace: tuple[str, ...] = (),
) -> None:
    """Body of the forked sandbox: redirect output, run, report, clean up, exit hard."""
    # multiprocessing makes a forked child default to fork; give the learner's code the start
    # method the notebook chose (or the platform default), as it would have in the kernel.
    multiprocessing.set_start_method(start_method, force=True)
    if only and start_method:
        _only_start_method(start_method)
    _forget_inherited_servers()
    # Where probe() tasks meet (inherited by every process the learner's code starts).
    os.environ[PROBE_DIR] = os.path.join(os.path.dirname(out_path), "probe")
    out_fd = os.open(out_path, os.O_WRONLY | os.O_APPEND)
    err_fd = os.open(err_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), line_buffering=True)
    sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), line_buffering=True)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    with warnings.catch_warnings(record=True) as caught:
        # A Pool that is dropped while still running warns "unclosed running multiprocessing
        # pool" when it is collected: that is how a pool that was never closed is detected.
        warnings.simplefilter("always", ResourceWarning)
        sampler = _ChildSampler()
        sampler.start()
        try:
            with tracing(trace, os.path.join(os.path.dirname(out_path), "trace")):
                value = func(*args, **kwargs)
            report: tuple[Any, ...] = ("ok", value)
        except BaseException as exc:  # noqa: BLE001 - report everything, KeyboardInterrupt too
            report = ("error", type(exc).__name__, str(exc), traceback.format_exc())
        value = None
        most_children = sampler.stop()
        gc.collect()
    unclosed = 0
    for w in caught:
        if "unclosed running multiprocessing pool" in str(w.message):
            unclosed += 1
        else:
            sys.stderr.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno))
    # The warnings hold the pools themselves (source=pool): let them go, so they terminate.
    if caught:
        del w
    caught.clear()
    gc.collect()
    # A pool or process the learner left running is reported, then stopped.
    deadline = time.monotonic() + grace
    alive = multiprocessing.active_children()
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = multiprocessing.active_children()
    leftover = len(alive)
    for p in alive:
        p.kill()
    try:
        conn.send(report + (most_children, unclosed, leftover))
    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable return value
        conn.send(
            (
                "error",
                type(exc).__name__,
                f"the return value could not be sent back to the grader: {exc}",
                traceback.format_exc(),
                most_children,
                unclosed,
                leftover,
            )
        )
    for p in alive:
        p.join(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _only_start_method(method: str) -> None:
    """In the sandbox: every multiprocessing context, whatever its name, uses ``method``.

    ``mp.get_context("fork")``, ``ProcessPoolExecutor(mp_context=...)`` and the default context
    all start their processes with ``method``, so a check of spawn safety holds whatever context
    the learner's code picked.
    """
    from multiprocessing import context

    chosen = context._concrete_contexts[method]  # type: ignore[attr-defined]
    for name in list(context._concrete_contexts):  # type: ignore[attr-defined]
        context._concrete_contexts[name] = chosen  # type: ignore[attr-defined]


def _read(path: str, limit: int = 200_000) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read(limit)
    except OSError:
        return ""
    return data.decode("utf-8", "replace")


def run_bounded(
    func: Callable[..., Any],
    *args: Any,
    timeout: float = 20.0,
    grace: float = 2.0,
    start_method: str | None = None,
    trace: Sequence[str] = (),
    **kwargs: Any,
) -> BoundedRun:
    """Run ``func(*args, **kwargs)`` in a sandbox and return a :class:`BoundedRun`. Never hangs.

    ``timeout`` bounds the call; ``grace`` is how long processes the call started may take to
    finish after it returns before they count as left over (a pool never closed). With
    ``start_method``, every process the call starts uses that start method, whatever context
    the code asks for (``mp.get_context("fork")`` included): a check of spawn safety cannot be
    passed by choosing fork. ``trace`` names task functions (``"helpers.tasks.workers.count_primes"``)
    whose calls are recorded, with the process that ran each, in the run's ``tasks``: which
    processes did the work, whatever start method they were started with.
    """
    remote = sys.modules.get("helpers.grading.remote")
    if remote is not None and remote.current_session() is not None:
        if remote.contains_ref((func, args, kwargs)):
            # In the checker: the learner's function is a name, run in the submission's sandbox.
            session = remote.current_session()
            options = {"timeout": timeout, "grace": grace, "start_method": start_method}
            run: BoundedRun = session.run_bounded(func, args, kwargs, **options, trace=tuple(trace))
            return run
    if not callable(func):
        raise TypeError(
            f"run_bounded needs the function to call, got {type(func).__name__}. Did you call "
            "it yourself, as run_bounded(f(x)) instead of run_bounded(f, x)?"
        )
    if not hasattr(os, "fork"):
        return _run_in_thread(func, args, kwargs, timeout)
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    with tempfile.TemporaryDirectory(prefix="mpcourse-run-") as tmp:
        out_path = os.path.join(tmp, "stdout")
        err_path = os.path.join(tmp, "stderr")
        open(out_path, "wb").close()
        open(err_path, "wb").close()
        started = time.monotonic()
        with warnings.catch_warnings():
            # Python 3.12+ warns that forking a multi-threaded process (a kernel) may deadlock.
            # The sandbox touches none of the kernel's threads' locks before it execs or exits.
            warnings.simplefilter("ignore", DeprecationWarning)
            proc = ctx.Process(
                target=_sandbox,
                args=(
                    sender,
                    out_path,
                    err_path,
                    os.getpid(),
                    func,
                    args,
                    kwargs,
                    grace,
                    start_method or multiprocessing.get_start_method(allow_none=True),
                    start_method is not None,
                    tuple(trace),
                ),
                name="grader-sandbox",
            )
            proc.start()
        sender.close()
        assert proc.pid is not None  # started
        run = BoundedRun(pid=proc.pid)
        report: tuple[Any, ...] | None = None
        try:
            if receiver.poll(timeout):
                report = receiver.recv()
        except (EOFError, OSError):
            report = None
        run.seconds = time.monotonic() - started
        if report is None:
            if run.seconds < timeout:
                # The pipe closed early: the sandbox died. Let it be reaped before asking.
                proc.join(2)
            if proc.is_alive():
                run.timed_out = True
                run.seconds = timeout
            else:
                run.error_type = "SystemExit"
                run.error_message = (
                    f"the process running your code exited (exit code {proc.exitcode}) without "
                    "returning: does it call sys.exit() or os._exit()?"
                )
            _kill_tree(run.pid)
        else:
            proc.join(grace + 5)
            if proc.is_alive():
                _kill_tree(run.pid)
            if report[0] == "ok":
                run.value = report[1]
            else:
                run.error_type, run.error_message, run.error_traceback = report[1:4]
            run.max_children, run.unclosed_pools, run.leftover_processes = report[-3:]
        proc.join(5)
        receiver.close()
        run.stdout = _read(out_path)
        run.stderr = _read(err_path)
        run.tasks = read_trace(os.path.join(tmp, "trace"))
    return run


def _run_in_thread(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float
) -> BoundedRun:
    """Fallback without fork: a daemon thread with a time limit (output is not captured)."""
    run = BoundedRun(pid=os.getpid(), notes=["ran in a thread: this platform has no fork"])
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = func(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            box["error"] = (type(exc).__name__, str(exc), traceback.format_exc())

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    run.seconds = time.monotonic() - started
    if thread.is_alive():
        run.timed_out = True
        for p in multiprocessing.active_children():
            p.kill()
    elif "error" in box:
        run.error_type, run.error_message, run.error_traceback = box["error"]
    else:
        run.value = box.get("value")
    return run


PROBE_DIR = "MPCOURSE_PROBE_DIR"


def _meet_a_second_process(limit: float = 3.0) -> None:
    """Under :func:`run_bounded`, wait until a probe has started in another process too.

    On a loaded machine a pool's second worker can start seconds after the first, and a correct
    pool could then run every short task in one worker and be judged serial. So a process's
    first probe waits (at most ``limit`` seconds, once per process) until a probe has started in
    some other process. Serial code pays ``limit`` seconds once; outside ``run_bounded`` nothing
    waits. The verdict still comes only from the records: which processes ran the tasks, when.
    """
    folder = os.environ.get(PROBE_DIR)
    if not folder:
        return
    me = str(os.getpid())
    try:
        os.makedirs(folder, exist_ok=True)
        if me in os.listdir(folder):
            return
        open(os.path.join(folder, me), "w").close()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if any(name != me for name in os.listdir(folder)):
                return
            time.sleep(0.01)
    except OSError:
        return


def probe(seconds: float = 0.3) -> TaskRecord:
    """A grading task: sleep ``seconds`` and return a :class:`TaskRecord` of who ran it, when.

    The record's ``result`` is ``seconds * 10`` so a test can also check the values. A negative
    ``seconds`` raises ``ValueError``, to check that a worker's error reaches the caller. Under
    :func:`run_bounded` a process's first probe first waits for a probe in a second process
    (:func:`_meet_a_second_process`), so a slow-starting worker cannot make a pool look serial.
    """
    if seconds < 0:
        raise ValueError(f"negative input: {seconds}")
    _meet_a_second_process()
    start = time.time()
    time.sleep(seconds)
    return TaskRecord(seconds, seconds * 10, os.getpid(), threading.get_ident(), start, time.time())


def describe_workers(records: Iterable[TaskRecord], parent_pid: int) -> str:
    """Explain, for a learner, which processes and threads ran the recorded tasks."""
    records = list(records)
    pids = {r.pid for r in records}
    threads = {(r.pid, r.thread) for r in records}
    if pids == {parent_pid} and len(threads) > 1:
        return (
            "the tasks ran in several threads of one process (a thread pool?). Threads share "
            "one interpreter; use multiprocessing.Pool to run them in processes."
        )
    if pids == {parent_pid}:
        return (
            "every task ran in the notebook's own process, one after another. Create a "
            "multiprocessing.Pool and hand the tasks to it (pool.map)."
        )
    if len(pids) == 1:
        return (
            "every task ran in a single worker process. Use a pool of at least 2 processes "
            "and give it several tasks."
        )
    return f"the tasks ran in {len(pids)} processes."
