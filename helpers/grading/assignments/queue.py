"""Grading tools for the queue assignment: a producer/consumer pipeline, checked from outside.

The learner writes ``consume(tasks, results, func)`` (the loop each consumer process runs) and
``run_pipeline(func, items, n_consumers)`` (the parent: start the consumers, feed the items and
one sentinel per consumer, collect every result, then join). The test cells never call them
directly:

- :func:`feed_consumer` runs ``consume`` in the sandbox's own process, on queues it prepared,
  and reports whether it returned at the sentinel and what it put on ``results``.
- :func:`bounded_pipeline` runs ``run_pipeline`` under :func:`helpers.grading.run_bounded`,
  wrapped in :func:`trace_pipeline`. Inside the sandbox the trace records every process the
  pipeline starts (whether it was joined when ``run_pipeline`` returned, and its exit code),
  every call of ``func`` from whichever process made it (so that "each item exactly once" can be
  checked), and the queues it creates. A watchdog thread interrupts a pipeline that is stuck
  (SIGUSR1, turned into an exception in the sandbox's main thread) and notes the line of
  ``run_pipeline`` it was waiting at, so that the learner is told what the wait was for.
- :func:`pipeline_report` turns a run into its :class:`PipelineRun`, or raises
  ``AssertionError`` with a message that says what to fix.

Everything a consumer process may run (:class:`CountedCall`, :func:`one_mebibyte`) is top-level
in this module, so it pickles under fork, spawn and forkserver.
"""

from __future__ import annotations

import os
import queue as queue_module
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing import process as mp_process
from multiprocessing import queues as mp_queues
from types import CodeType, FrameType
from typing import Any

from helpers.grading.bounded import (
    BoundedRun,
    hint_for,
    last_lines,
    process_state,
    run_bounded,
)
from helpers.grading.watchdog import Watchdog, line_in
from helpers.instruments.timeline import TaskRecord

__all__ = [
    "ConsumerRun",
    "CountedCall",
    "MEBIBYTE",
    "PipelineRun",
    "ProcessReport",
    "SENTINEL",
    "Stuck",
    "bounded_pipeline",
    "describe_consumers",
    "describe_exits",
    "describe_joins",
    "explain_pipeline",
    "feed_consumer",
    "one_mebibyte",
    "pipeline_report",
    "trace_pipeline",
]

#: What tells a consumer to stop: one per consumer, after the items.
SENTINEL = None

#: The size of each result of :func:`one_mebibyte`: far more than a pipe holds (64 KiB on Linux).
MEBIBYTE = 1 << 20


# --- run in consumer processes ------------------------------------------------------------------


def one_mebibyte(item: int) -> bytes:
    """Return 1 MiB of the byte ``item % 256``: a result far bigger than a pipe's buffer.

    A consumer process that puts such a result on a queue cannot exit until another process has
    read most of it from the queue's pipe.
    """
    return bytes([item % 256]) * MEBIBYTE


class CountedCall:
    """A picklable wrapper around ``func`` that logs every call to a file, from any process.

    Each call appends one line, ``<end time>\\t<repr(item)>``, to ``path`` once ``func(item)`` has
    returned or raised; the grader reads the file to count how often each item was processed,
    wherever it ran. The wrapper returns (or raises) exactly what ``func`` does.
    """

    def __init__(self, func: Callable[[Any], Any], path: str) -> None:
        self.func = func
        self.path = path
        self.__name__ = getattr(func, "__name__", type(func).__name__)

    def __call__(self, item: Any) -> Any:
        try:
            return self.func(item)
        finally:
            with open(self.path, "a", encoding="utf-8") as log:
                log.write(f"{time.time():.6f}\t{item!r}\n")

    def __repr__(self) -> str:
        return f"<function {self.__name__}>"


def _read_calls(path: str) -> list[tuple[float, str]]:
    """The ``(end time, repr(item))`` lines a :class:`CountedCall` wrote to ``path``."""
    try:
        with open(path, encoding="utf-8") as log:
            lines = log.read().splitlines()
    except OSError:
        return []
    calls = []
    for line in lines:
        stamp, _, text = line.partition("\t")
        try:
            calls.append((float(stamp), text))
        except ValueError:
            continue
    return calls


# --- the consumer on its own ----------------------------------------------------------------------


@dataclass
class ConsumerRun:
    """What ``consume(tasks, results, func)`` did with ``items`` followed by one sentinel.

    ``returned`` is True when it returned within the time limit; ``error`` is ``(type, message)``
    of what it raised, or None; ``pairs`` is everything it put on ``results``, in order;
    ``called_with`` the arguments it called ``func`` with; ``left_on_tasks`` what it left on the
    task queue (a consumer that stops at its sentinel leaves nothing).
    """

    returned: bool
    error: tuple[str, str] | None
    pairs: list[Any]
    called_with: list[Any]
    left_on_tasks: list[Any]
    asked_empty: bool = False

    @property
    def stopped_on_empty(self) -> bool:
        """True when it asked ``tasks.empty()`` (or ``get_nowait``) and gave up before its items.

        The task queue in :func:`feed_consumer` receives its items only after the consumer first
        asks for one, as a consumer started before its producer would find it: a consumer that
        stops when the queue *looks* empty is caught every time, not only when start-up is slow.
        """
        return self.asked_empty and self.returned and bool(self.left_on_tasks)

    @property
    def error_text(self) -> str:
        """``"TypeError: message"`` (or just the type when there is no message), or ''."""
        if self.error is None:
            return ""
        etype, message = self.error
        return f"{etype}: {message}" if message else etype


class _LateQueue(queue_module.Queue[Any]):
    """A task queue whose items arrive just after the consumer first asks for one.

    ``empty()``, ``qsize()`` and ``get_nowait()`` answer from the queue as it is *before* the
    items arrive, so a consumer that polls them at the start sees an empty queue every time.
    A consumer that blocks in ``get()`` simply waits for the items, as it should.
    """

    def __init__(self, items: Sequence[Any]) -> None:
        super().__init__()
        self._late = list(items)
        self.asked_empty = False
        self._asked = threading.Event()
        self.delivered = threading.Event()
        threading.Thread(target=self._deliver, daemon=True, name="late-producer").start()

    def _deliver(self) -> None:
        self._asked.wait(5.0)
        time.sleep(0.05)
        for item in self._late:
            super().put(item)
        self.delivered.set()

    def empty(self) -> bool:
        answer = super().empty()
        self.asked_empty = True
        self._asked.set()
        return answer

    def qsize(self) -> int:
        answer = super().qsize()
        self.asked_empty = True
        self._asked.set()
        return answer

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if not block:
            self.asked_empty = True
        self._asked.set()
        return super().get(block, timeout)


class _Recorder:
    """``func`` that also remembers its arguments (in-process only: used by feed_consumer)."""

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func
        self.args: list[Any] = []
        self.__name__ = getattr(func, "__name__", "func")

    def __call__(self, item: Any) -> Any:
        self.args.append(item)
        return self.func(item)


def feed_consumer(
    consume: Callable[[_LateQueue, queue_module.Queue[Any], _Recorder], object],
    func: Callable[[Any], Any],
    items: Sequence[Any],
    timeout: float = 3.0,
) -> ConsumerRun:
    """Run ``consume(tasks, results, func)`` on a task queue holding ``items`` and one sentinel.

    It runs in a thread of the calling process (call this through ``run_bounded``), so no process
    is started and ``func`` need not pickle. The queues are ``queue.Queue`` objects: they have the
    ``get``/``put`` a consumer uses, without a feeder thread, so what ``consume`` put can be read
    back at once and completely. ``timeout`` bounds the wait for ``consume`` to return.
    """
    tasks = _LateQueue([*items, SENTINEL])
    results: queue_module.Queue[Any] = queue_module.Queue()
    recorder = _Recorder(func)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            consume(tasks, results, recorder)
            box["returned"] = True
        except BaseException as exc:  # noqa: BLE001 - report whatever the learner's code raised
            box["error"] = (type(exc).__name__, str(exc))

    thread = threading.Thread(target=target, daemon=True, name="consume")
    thread.start()
    thread.join(timeout)
    tasks.delivered.wait(1.0)
    return ConsumerRun(
        returned=bool(box.get("returned")),
        error=box.get("error"),
        pairs=_drain_now(results),
        called_with=list(recorder.args),
        left_on_tasks=[] if thread.is_alive() else _drain_now(tasks),
        asked_empty=tasks.asked_empty,
    )


def _drain_now(q: queue_module.Queue[Any]) -> list[Any]:
    """Everything on ``q`` now."""
    got = []
    while True:
        try:
            got.append(q.get_nowait())
        except queue_module.Empty:
            return got


# --- the pipeline, traced in the sandbox ----------------------------------------------------------


@dataclass(frozen=True)
class ProcessReport:
    """One process that ``run_pipeline`` started.

    ``state`` is what it was when ``run_pipeline`` returned: ``"joined"`` (ended and reaped),
    ``"finished"`` (ended, but nobody joined it: a zombie) or ``"running"``. ``exitcode`` is the
    code it ended with, at most a few seconds later; None if it had to be killed then.
    """

    name: str
    pid: int | None
    daemon: bool
    state: str
    exitcode: int | None


@dataclass(frozen=True)
class Stuck:
    """Where a pipeline that did not finish was waiting when the watchdog stopped it.

    ``reason`` is ``"deadline"`` (it ran out of time), ``"ended"`` (every process it started had
    ended, yet it was still waiting) or ``"join"`` (it kept waiting in ``join()`` long after the
    last item was processed). ``line`` is the line of ``run_pipeline`` it was at, ``waiting_in``
    is ``"join"``, ``"get"`` or ``"other"``, and ``unread`` counts the queues that still held data
    nobody had read.
    """

    reason: str
    after: float
    line: str
    waiting_in: str
    unread: int


@dataclass
class PipelineRun:
    """What one call of ``run_pipeline`` did, as recorded by :func:`trace_pipeline`.

    ``value`` is what it returned; ``calls`` maps every item to the number of times ``func`` was
    called with it, in any process; ``other_calls`` lists (as reprs) arguments ``func`` got that
    were not items. ``processes`` are the processes it started, ``parent_pid`` the process it ran
    in. ``stuck`` says where it waited if the watchdog had to stop it; ``error`` is ``(type,
    message, traceback)`` of an exception it raised.
    """

    value: Any
    items: list[Any]
    n_consumers: int
    calls: dict[Any, int]
    other_calls: list[str]
    processes: list[ProcessReport]
    parent_pid: int
    seconds: float
    stuck: Stuck | None = None
    error: tuple[str, str, str] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when run_pipeline returned normally, without being stopped."""
        return self.stuck is None and self.error is None

    @property
    def pids(self) -> set[int]:
        """PIDs of the processes run_pipeline started."""
        return {p.pid for p in self.processes if p.pid is not None}


_JOIN_CODE = mp_process.BaseProcess.join.__code__
_GET_CODES = {
    mp_queues.Queue.get.__code__,
    mp_queues.SimpleQueue.get.__code__,
    mp_queues.JoinableQueue.join.__code__,
}


def _where(frame: FrameType | None, code: CodeType | None) -> tuple[str, str]:
    """The line of ``code`` in ``frame``'s stack, and whether it waits in join, get or other."""
    chain = []
    inner = frame
    while inner is not None and inner.f_code is not code:
        chain.append(inner)  # the frames below the learner's code: what it is waiting in
        inner = inner.f_back
    codes = {f.f_code for f in chain}
    if _JOIN_CODE in codes:
        waiting = "join"
    elif codes & _GET_CODES:
        waiting = "get"
    else:
        waiting = "other"
    return line_in(frame, code), waiting


def _unread_queues(queues: list[mp_queues.Queue[Any] | mp_queues.SimpleQueue[Any]]) -> int:
    """How many of the queues hold data that nobody has read yet."""
    count = 0
    for q in list(queues):
        try:
            if not q.empty():
                count += 1
        except Exception:  # noqa: BLE001 - a closed queue says nothing
            continue
    return count


def _is_manager_server(process: mp_process.BaseProcess) -> bool:
    """True for the server process of a ``multiprocessing.Manager``: not one of the consumers."""
    target = getattr(process, "_target", None)
    return getattr(target, "__qualname__", "").endswith("Manager._run_server")


def trace_pipeline(
    pipeline: Callable[[Callable[[Any], Any], list[Any], int], Any],
    func: Callable[[Any], Any],
    items: Sequence[Any],
    n_consumers: int = 2,
    *,
    stuck_after: float = 7.0,
    ended_grace: float = 1.5,
    join_timeout: float = 4.0,
    grace: float = 2.0,
) -> PipelineRun:
    """Call ``pipeline(func, list(items), n_consumers)`` and record what it did (in the sandbox).

    Call it through :func:`helpers.grading.run_bounded` (see :func:`bounded_pipeline`): it
    patches ``multiprocessing`` in the calling process while the pipeline runs, and interrupts
    the calling process's main thread with SIGUSR1 when the pipeline is stuck: after
    ``stuck_after`` seconds; ``ended_grace`` seconds after every process it started had ended;
    or once it has waited in ``join()`` for ``join_timeout`` seconds although every item was
    processed and every process was started that long ago. After it returns, processes it left
    get ``grace`` seconds to end, then are killed. Exceptions it raises are reported in the
    :class:`PipelineRun`, not raised.
    """
    items = list(items)
    me = os.getpid()
    tmp = tempfile.mkdtemp(prefix="mpcourse-calls-")
    log_path = os.path.join(tmp, "calls")
    open(log_path, "w").close()
    counted = CountedCall(func, log_path)
    started: list[tuple[mp_process.BaseProcess, float]] = []  # (process, time.time() started)
    queues: list[mp_queues.Queue[Any] | mp_queues.SimpleQueue[Any]] = []  # kept: see the end
    exit_codes: dict[int, int | None] = {}

    original_start = mp_process.BaseProcess.start
    original_close = mp_process.BaseProcess.close
    original_queue_init = mp_queues.Queue.__init__
    original_simple_queue_init = mp_queues.SimpleQueue.__init__

    def start(self: mp_process.BaseProcess) -> None:
        server = _is_manager_server(self)  # before start(), which drops the target
        original_start(self)
        if os.getpid() == me and not server:
            started.append((self, time.time()))

    def close(self: mp_process.BaseProcess) -> None:
        if os.getpid() == me:
            try:
                exit_codes[id(self)] = self.exitcode
            except ValueError:
                pass
        original_close(self)

    def queue_init(self: mp_queues.Queue[Any], *args: Any, **kwargs: Any) -> None:
        original_queue_init(self, *args, **kwargs)
        if os.getpid() == me:
            queues.append(self)

    def simple_queue_init(self: mp_queues.SimpleQueue[Any], *args: Any, **kwargs: Any) -> None:
        original_simple_queue_init(self, *args, **kwargs)
        if os.getpid() == me:
            queues.append(self)

    main_ident = threading.get_ident()
    code = getattr(pipeline, "__code__", None)
    found: dict[str, Stuck] = {}
    t0 = time.monotonic()
    since: dict[str, float | None] = {"ended": None, "join": None}

    def check(elapsed: float) -> str | None:
        now = time.monotonic()
        procs = list(started)
        reason = None
        if elapsed >= stuck_after:
            reason = "deadline"
        if procs and not any(process_state(p) == "running" for p, _ in procs):
            since["ended"] = since["ended"] or now
            if now - (since["ended"] or now) >= ended_grace:
                reason = reason or "ended"
        else:
            since["ended"] = None
        frame = sys._current_frames().get(main_ident)
        in_join = False
        while frame is not None:
            if frame.f_code is _JOIN_CODE:
                in_join = True
                break
            frame = frame.f_back
        since["join"] = (since["join"] or now) if in_join else None
        joined_for = now - since["join"] if since["join"] is not None else 0.0
        if joined_for >= join_timeout and procs:
            calls = _read_calls(log_path)
            seen = {text for _, text in calls}
            last = max([t for _, t in procs] + [t for t, _ in calls])
            if all(repr(x) in seen for x in items) and time.time() - last >= join_timeout:
                reason = reason or "join"
        return reason

    def on_stuck(reason: str, frame: FrameType | None) -> None:
        line, waiting = _where(frame, code)
        found["stuck"] = Stuck(reason, time.monotonic() - t0, line, waiting, _unread_queues(queues))

    mp_process.BaseProcess.start = start  # type: ignore[method-assign]
    mp_process.BaseProcess.close = close  # type: ignore[method-assign]
    mp_queues.Queue.__init__ = queue_init  # type: ignore[method-assign]
    mp_queues.SimpleQueue.__init__ = simple_queue_init  # type: ignore[method-assign]
    dog = Watchdog(check, on_stuck, name="pipeline-watchdog")
    try:
        value, error = dog.call(pipeline, counted, items, n_consumers)
    finally:
        mp_process.BaseProcess.start = original_start  # type: ignore[method-assign]
        mp_process.BaseProcess.close = original_close  # type: ignore[method-assign]
        mp_queues.Queue.__init__ = original_queue_init  # type: ignore[method-assign]
        mp_queues.SimpleQueue.__init__ = original_simple_queue_init  # type: ignore[method-assign]
    seconds = dog.seconds
    stuck = found.get("stuck") if dog.interrupted else None

    states = [(p, process_state(p)) for p, _ in started]
    deadline = time.monotonic() + (0.5 if stuck else grace)
    reports = []
    for p, state in states:
        if id(p) in exit_codes:
            code_ = exit_codes[id(p)]
        else:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(2)
                code_ = None
            else:
                code_ = p.exitcode
        reports.append(ProcessReport(p.name, p.pid, bool(p.daemon), state, code_))
    # Only now may the queues go: a consumer that was still starting when run_pipeline returned
    # must find its queue's semaphores, or it crashes for a reason the joined test reports.
    queues.clear()

    calls = _read_calls(log_path)
    shutil.rmtree(tmp, ignore_errors=True)
    by_repr = {repr(x): x for x in items}
    counts = {x: 0 for x in items}
    other = []
    for _, text in calls:
        if text in by_repr:
            counts[by_repr[text]] += 1
        else:
            other.append(text)
    return PipelineRun(
        value=value,
        items=items,
        n_consumers=n_consumers,
        calls=counts,
        other_calls=other,
        processes=reports,
        parent_pid=me,
        seconds=seconds,
        stuck=stuck,
        error=error,
    )


# Same parameters as trace_pipeline on purpose: it wraps it in run_bounded.
def bounded_pipeline(
    pipeline: Callable[[Callable[[Any], Any], list[Any], int], Any],
    func: Callable[[Any], Any],
    items: Sequence[Any],
    n_consumers: int = 2,
    *,
    timeout: float = 10.0,
) -> BoundedRun:
    """Run ``pipeline(func, items, n_consumers)`` traced, in a sandbox; never hangs.

    The watchdog stops a stuck pipeline after ``timeout - 1.5`` seconds at the latest (often much
    sooner, see :func:`trace_pipeline`); ``timeout`` is the sandbox's own hard limit. The
    returned run's ``value`` is a :class:`PipelineRun`; pass the run to :func:`pipeline_report`.
    """
    run = run_bounded(
        trace_pipeline,
        pipeline,
        func,
        list(items),
        n_consumers,
        stuck_after=max(1.0, timeout - 1.5),
        timeout=timeout,
    )
    name = getattr(pipeline, "__name__", "run_pipeline")
    fname = getattr(func, "__name__", "func")
    shown = list(items)[:6]
    listed = ", ".join(repr(x) for x in shown) + (", ..." if len(items) > len(shown) else "")
    run.notes.append(f"{name}({fname}, [{listed}], {n_consumers})")
    return run


# --- explaining a run to the learner --------------------------------------------------------------


def _signal_name(code: int) -> str:
    """``"SIGTERM"`` for exit code -15, and so on."""
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _some(k: int, total: int, verb: str = "") -> str:
    """``"1 of the 2 consumer processes was"`` / ``"2 of the 2 ... were"`` (``verb="was"``)."""
    if verb == "was" and k != 1:
        verb = "were"
    return f"{k} of the {total} consumer processes" + (f" {verb}" if verb else "")


def explain_pipeline(run: BoundedRun) -> str:
    """A learner-facing account of what went wrong in a :func:`bounded_pipeline` run, or ''."""
    call = run.notes[0] if run.notes else "run_pipeline(...)"
    if not run.ok:
        return f"{call}: {run.explain()}"
    report: PipelineRun = run.value
    crashed = [p for p in report.processes if p.exitcode not in (0, None)]
    output = last_lines(run.stderr)
    if report.error is not None:
        etype, message, tb = report.error
        parts = [f"{call} raised {etype}: {message}".rstrip(": ").rstrip(".") + "."]
        if etype == "Empty":
            parts.append("A results.get(timeout=...) waited in vain: no result arrived in time.")
        if crashed:
            parts.append(
                f"{len(crashed)} of the {len(report.processes)} consumer processes "
                "ended with an error before that."
            )
        hint = hint_for(run.stderr, f"{message}\n{tb}")
        if hint:
            parts.append(hint)
        text = " ".join(parts)
        if output:
            text += "\nThe processes' error output ended with:\n" + output
        return text
    stuck = report.stuck
    if stuck is None:
        return ""
    parts = [f"{call} did not finish: it was stopped after {stuck.after:.0f} s."]
    if stuck.line:
        parts[0] = parts[0][:-1] + f", while it was waiting at this line:\n    {stuck.line}\n"
    done = bool(report.calls) and all(report.calls.values())
    if stuck.reason == "ended" and crashed:
        parts.append(
            f"All {len(report.processes)} consumer processes had already ended, "
            f"{len(crashed)} of them with an error (exit code {crashed[0].exitcode}), so "
            "the results it was waiting for could never come."
        )
        hint = hint_for(run.stderr)
        if hint:
            parts.append(hint)
    elif stuck.reason == "ended":
        parts.append(
            f"All {len(report.processes)} consumer processes had already ended, so no "
            "more results could come. Collect exactly one result per item, and make "
            "sure no consumer stops before it takes its sentinel."
        )
    elif stuck.waiting_in == "join" and stuck.unread:
        parts.append(
            "The consumer it was joining could not end, because results were still "
            "waiting in the result queue. A process cannot exit until what it put on a "
            "queue has gone into the queue's pipe, and a pipe holds only about 64 KiB "
            "until someone reads it: join() waits for the consumer, the consumer waits "
            "for you to read. Collect every result first, THEN join the consumers."
        )
    elif stuck.waiting_in == "join":
        parts.append(
            ("Every item had been processed, but " if done else "")
            + "the consumer it was joining had not ended: it was still waiting for "
            "work. Put one sentinel (None) on the task queue for each consumer, after "
            "the items, so that every consumer's loop ends."
        )
    elif stuck.waiting_in == "get":
        processed = sum(1 for n in report.calls.values() if n)
        parts.append(
            f"It was waiting for a result that never came ({processed} of "
            f"{len(report.calls)} items had been processed). Put every item on the "
            "task queue, and call results.get(timeout=...) once per item."
        )
    else:
        parts.append(
            "Look for a wait that never ends: a get() with no item coming, a join() on "
            "a process that is still blocked, or a missing sentinel."
        )
    text = parts[0] + " ".join(parts[1:]) if parts[0].endswith("\n") else " ".join(parts)
    if output and crashed:
        text += "\nThe processes' error output ended with:\n" + output
    return text


def pipeline_report(run: BoundedRun) -> PipelineRun:
    """The :class:`PipelineRun` of a run that finished, or AssertionError saying what to fix."""
    message = explain_pipeline(run)
    if message:
        raise AssertionError(message)
    report: PipelineRun = run.value
    return report


def describe_consumers(report: PipelineRun, records: Sequence[TaskRecord]) -> str:
    """Explain, for a learner, which processes processed the items (TaskRecords of ``probe``)."""
    pids = {r.pid for r in records}
    n = report.n_consumers
    if not report.processes:
        return (
            f"run_pipeline started no process, so every item was processed in its own process "
            f"(PID {report.parent_pid}), one after another. Start n_consumers ({n}) Processes "
            "that run queue_consumer.consume, and let them take the items from the task "
            "queue."
        )
    if report.parent_pid in pids:
        return (
            "some items were processed by run_pipeline itself, not by the consumers: put "
            "every item on the task queue and let the consumers call func."
        )
    if len(report.processes) < n:
        return (
            f"run_pipeline(..., n_consumers={n}) started {len(report.processes)} process(es). "
            "Start n_consumers consumer processes, in a loop."
        )
    if len(report.processes) > n:
        return (
            f"run_pipeline(..., n_consumers={n}) started {len(report.processes)} processes. "
            "Start exactly n_consumers consumers, each taking many items: not one process "
            "per item."
        )
    if len(pids) < 2:
        return (
            "a single consumer took every item. Start all the consumers before you wait for "
            "results, so that they work at the same time."
        )
    return f"the items were processed by {len(pids)} consumer processes."


def describe_joins(report: PipelineRun) -> str:
    """Say which consumer processes were not joined when run_pipeline returned, and the fix."""
    not_joined = [p for p in report.processes if p.state != "joined"]
    if not not_joined:
        return f"all {len(report.processes)} consumer processes were joined."
    running = sum(1 for p in not_joined if p.state == "running")
    finished = len(not_joined) - running
    states = []
    if running:
        states.append(f"{running} still running")
    if finished:
        states.append(f"{finished} ended but never joined")
    return (
        f"When run_pipeline returned, {_some(len(not_joined), len(report.processes))} had not "
        f"been joined ({' and '.join(states)}). After collecting the results, call "
        "join(timeout=...) on every consumer, so that none is left running or unreaped."
    )


def describe_exits(report: PipelineRun, stderr: str = "") -> str:
    """Explain, for a learner, how the consumer processes ended (and what to do about it).

    ``stderr`` is the run's captured error output; its last lines are quoted when a consumer
    ended with an error.
    """
    total = len(report.processes)
    never = [p for p in report.processes if p.exitcode is None]
    stopped = [p for p in report.processes if p.exitcode is not None and p.exitcode < 0]
    failed = [p for p in report.processes if p.exitcode is not None and p.exitcode > 0]
    if never:
        return (
            f"{_some(len(never), total, 'was')} still waiting for work after run_pipeline returned, "
            "and never ended. Put one sentinel (None) on the task queue for each consumer, "
            "after the items."
        )
    if stopped:
        code = stopped[0].exitcode or 0
        return (
            f"{_some(len(stopped), total, 'was')} stopped by {_signal_name(code)} (exit code {code}) "
            "instead of ending by themselves. Do not terminate() or kill() the consumers: put "
            "one sentinel (None) per consumer on the task queue, so that each returns from "
            "consume, then join them."
        )
    if failed:
        text = (
            f"{_some(len(failed), total)} ended with an error (exit code {failed[0].exitcode}). "
            "A consumer must return from consume when it takes the sentinel None, without "
            "calling func on it."
        )
        tail = last_lines(stderr)
        if tail:
            text += "\nThe processes' error output ended with:\n" + tail
        return text
    return f"all {total} consumer processes ended normally."
