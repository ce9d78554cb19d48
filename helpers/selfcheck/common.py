"""The checking steps that the lessons' self-checks share.

Who imports this: the ``helpers.selfcheck.lesson_NN`` modules only. A check runs the learner's
function through :func:`helpers.grading.run_bounded`, stops at the first problem that makes the
rest meaningless (:func:`fail`), collects the others in a list for
:func:`helpers.selfcheck.report`, and never raises (:func:`never_raises`). The learner-facing
advice stays in each lesson's module; only the steps and the generic wording live here. What
still looks alike between two lessons' checks (``duplicates`` shows a few shape pairs) is the
order of these calls, each with its lesson's own advice: deliberate.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec

from helpers.grading import BoundedRun, run_bounded
from helpers.instruments.timeline import TaskRecord
from helpers.selfcheck import report
from helpers.tasks.workers import count_primes

__all__ = [
    "children_counted",
    "count_records_problems",
    "counting_starts",
    "counting_starts_run",
    "fail",
    "few_started",
    "is_records",
    "lost_by_inheritance",
    "never_raises",
    "not_returned",
    "not_run_failure",
    "pool_left_running",
    "processes_seen",
    "records_or_fail",
    "returned_run",
    "run_or_report",
    "still_running",
]

P = ParamSpec("P")


def fail(*problems: str) -> bool:
    """Print ``❌`` and each problem, return False: for a check that cannot go on.

    >>> fail("it returned None: return the list.")
    ❌ it returned None: return the list.
    False
    """
    return report(list(problems), "")


def never_raises(check: Callable[P, bool]) -> Callable[P, bool]:
    """Decorate a check so that an error inside it prints ``❌ the check itself failed (...)``
    and returns False: a learner's Run All keeps going whatever the check meets."""

    @functools.wraps(check)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> bool:
        try:
            return check(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a check never raises
            return fail(f"the check itself failed ({type(exc).__name__}: {exc})")

    return guarded


def run_or_report(func: Callable[..., Any], *args: Any, timeout: float) -> BoundedRun | None:
    """``run_bounded(func, *args, timeout=timeout)``; None (after a ❌ line) if it could not start.

    >>> run_or_report(len, [1, 2], timeout=10).value
    2
    """
    try:
        return run_bounded(func, *args, timeout=timeout)
    except Exception as err:  # noqa: BLE001 - a check never raises
        fail(f"the check could not run your function: {err}")
        return None


def returned_run(
    func: Callable[..., Any], *args: Any, timeout: float, inheritance: str = ""
) -> BoundedRun | None:
    """:func:`run_or_report`, and None (after :func:`not_run_failure`) if the function did not
    return normally: the run of a function that returned."""
    run = run_or_report(func, *args, timeout=timeout)
    if run is not None and not run.ok:
        not_run_failure(run, inheritance)
        return None
    return run


def not_returned(run: BoundedRun, call: str) -> str:
    """What went wrong in a run that did not return: its explanation, or a plain sentence."""
    return run.explain() or f"{call} did not return normally."


def is_records(value: Any) -> bool:
    """True for a list or tuple of :class:`~helpers.instruments.timeline.TaskRecord` objects.

    >>> is_records([]), is_records((1, 2)), is_records(None)
    (True, False, False)
    """
    return isinstance(value, list | tuple) and all(isinstance(r, TaskRecord) for r in value)


def records_or_fail(
    run: BoundedRun,
    call: str,
    expected: str,
    not_run: Callable[[BoundedRun, str], list[str]] | None = None,
) -> list[TaskRecord] | None:
    """The list of task records the run returned; None after a ``❌`` line if it did not return
    (``not_run(run, call)`` or :func:`not_returned` says why) or returned something else
    (``"<call> returned <type>, expected <expected>"``)."""
    if not run.ok:
        fail(*(not_run(run, call) if not_run else [not_returned(run, call)]))
        return None
    if not is_records(run.value):
        fail(f"{call} returned {type(run.value).__name__}, expected {expected}")
        return None
    return list(run.value)


def children_counted(run: BoundedRun) -> bool:
    """False when run_bounded fell back to a thread (no fork, as on Windows): it then counts no
    processes, so a check must not demand any."""
    return not any("ran in a thread" in note for note in run.notes)


def processes_seen(run: BoundedRun, expected: int, none_started: str, too_few: str) -> list[str]:
    """Problems with how many child processes were alive at once while the learner's code ran.

    ``[none_started]`` when none was; ``[too_few]`` (formatted with ``seen``, the most alive at
    once, and ``expected``) when fewer than ``expected`` were; else ``[]``. Nothing is said when
    run_bounded fell back to a thread (no fork, as on Windows): it then counts no processes.
    """
    if not children_counted(run):
        return []
    if run.max_children == 0:
        return [none_started]
    if run.max_children < expected:
        return [too_few.format(seen=run.max_children, expected=expected)]
    return []


def few_started(started: int, advice: str) -> list[str]:
    """``["<started> process(es) were started: <advice>"]`` when fewer than two were, else ``[]``.

    For a count from :func:`counting_starts`: every exercise that counts starts wants at least two
    processes (two workers, or a manager's server and one worker).
    """
    return [f"{started} process(es) were started: {advice}"] if started < 2 else []


def count_records_problems(
    records: Sequence[TaskRecord], limits: Sequence[int], advice: str = ""
) -> list[str]:
    """Problems with the records of ``helpers.timed(workers.count_primes)`` over ``limits``: one
    record per limit (``advice`` says how to get them), and each count right.

    >>> from helpers.instruments.timeline import timed
    >>> count_records_problems([timed(count_primes)(10)], [10, 20], "map every limit.")
    ['the records are for the tasks [10], expected each of [10, 20] exactly once: map every limit.']
    """
    problems = []
    tasks = sorted(r.task for r in records)
    if tasks != sorted(limits):
        problems.append(
            f"the records are for the tasks {tasks}, expected each of {sorted(limits)} exactly "
            f"once{': ' + advice if advice else '.'}"
        )
    wrong = [r for r in records if r.result != count_primes(r.task)]
    if wrong:
        problems.append(
            f"the task {wrong[0].task} gave {wrong[0].result!r}, expected "
            f"{count_primes(wrong[0].task)}: wrap workers.count_primes itself in helpers.timed."
        )
    return problems


def pool_left_running(
    run: BoundedRun,
    name: str,
    advice: str = "open the pool in a `with` block and collect every result inside it.",
) -> list[str]:
    """``["<name> left a pool or process running: <advice>"]`` if it did, else ``[]``."""
    if run.unclosed_pools or run.leftover_processes:
        return [f"{name} left a pool or process running: {advice}"]
    return []


def still_running(run: BoundedRun, after: str, advice: str) -> list[str]:
    """``["<n> process(es) were still running <after>: <advice>"]`` if any were, else ``[]``."""
    if run.leftover_processes:
        return [f"{run.leftover_processes} process(es) were still running {after}: {advice}"]
    return []


def lost_by_inheritance(run: BoundedRun) -> bool:
    """Did the run fail because a lock or shared array was sent where only inheritance works?"""
    return "inheritance" in f"{run.error_message}{run.stderr}"


def not_run_failure(run: BoundedRun, inheritance: str = "") -> bool:
    """``❌`` for a run that did not return: its explanation, then ``inheritance`` (advice) if it
    failed because a lock or shared array was sent as a task argument. Returns False."""
    failure = [run.explain()]
    if inheritance and lost_by_inheritance(run):
        failure.append(inheritance)
    return fail(*failure)


def counting_starts(func: Callable[..., Any], *args: Any) -> tuple[Any, int]:
    """Call ``func(*args)`` and count the processes it started (``Process.start`` calls).

    Meant to run inside run_bounded's forked sandbox, so the patch touches only that copy.
    Counting starts is reliable where sampling the live children is not: a worker may finish in
    milliseconds. A manager's server process counts as one; a pool's workers count one each.
    """
    from multiprocessing import process

    original = process.BaseProcess.start
    started: list[str] = []

    def start(self: process.BaseProcess) -> None:
        started.append(self.name)
        original(self)

    process.BaseProcess.start = start  # type: ignore[method-assign]
    try:
        value = func(*args)
    finally:
        process.BaseProcess.start = original  # type: ignore[method-assign]
    return value, len(started)


def counting_starts_run(
    func: Callable[..., Any],
    *args: Any,
    timeout: float,
    returned_none: str,
    inheritance: str = "",
    counter: Callable[..., tuple[Any, int]] = counting_starts,
) -> tuple[BoundedRun, Any, int] | None:
    """Run ``func(ctx, *args)``, ``ctx`` the start method in force, counting the processes it starts.

    ``counter(func, ctx, *args)`` (:func:`counting_starts`, or a lesson's variant of it) runs in
    :func:`returned_run`. Returns ``(run, value, processes started)``; None after a ``❌`` line if
    the function did not return (``inheritance`` is the advice when a lock or shared array was
    sent as a task argument) or returned None (``returned_none`` says what to return instead).
    """
    run = returned_run(
        counter,
        func,
        multiprocessing.get_context(),
        *args,
        timeout=timeout,
        inheritance=inheritance,
    )
    if run is None:
        return None
    value, started = run.value
    if value is None:
        fail(returned_none)
        return None
    return run, value, started
