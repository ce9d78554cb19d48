"""Self-checks for the exercises of lesson 08 (processes versus threads, measured).

Each check runs the learner's function through :func:`helpers.grading.run_bounded` (a separate,
time-limited process), prints ✅ or ❌ lines through :func:`helpers.selfcheck.report` and
returns True or False. A check never raises. The checks look at *who* ran the work (PIDs, thread
ids, how many tasks ran at once), never at how fast it ran, so they give the same answer on one
CPU and on many.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from helpers.grading import BoundedRun, run_bounded
from helpers.instruments.timeline import TaskRecord, max_concurrency
from helpers.selfcheck import report
from helpers.selfcheck.common import fail, never_raises, not_returned
from helpers.tasks.workers import sleep_task

__all__ = ["EXPECTED_CHOICE", "check_choice", "check_run_pool", "check_who_sees_it"]

#: The workloads of exercise 2 and the right pick for each on a Python with the GIL, with why.
EXPECTED_CHOICE: dict[str, tuple[str, str]] = {
    "count primes (pure Python)": (
        "processes",
        "pure-Python computing holds the GIL, so threads take turns; each process has its own GIL",
    ),
    "wait for 50 downloads": (
        "threads",
        "a waiting thread releases the GIL, and threads start in microseconds, with no pickling",
    ),
    "sha256 of big buffers already in memory": (
        "threads",
        "hashlib releases the GIL while it hashes, and threads share the buffers; processes "
        "would have to copy them first",
    ),
}

#: What exercise 2's run_pool is checked with: four 0.2 s sleeps in a pool of two.
POOL_TASKS = [0.2, 0.2, 0.2, 0.2]
POOL_WORKERS = 2


def _is_bump_result(value: Any) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 3
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def _who_sees_it_problems(value: Any, own_pid: int) -> list[str]:
    if not isinstance(value, tuple | list) or len(value) != 3:
        return [
            f"who_sees_it() returned {value!r}; return a tuple of three: "
            "(thread_result, process_result, compare.COUNTER)."
        ]
    thread_result, process_result, counter = value
    problems = []
    if thread_result is None:
        problems.append(
            "thread_result is None: threading.Thread does not hand back its target's return "
            "value. Use ThreadPoolExecutor(max_workers=1) and ex.submit(compare.bump, 1).result()."
        )
    elif not _is_bump_result(thread_result):
        problems.append(
            f"thread_result is {thread_result!r}; keep the tuple (pid, before, after) that "
            "compare.bump(1) returned."
        )
    elif thread_result[0] != own_pid:
        problems.append(
            f"thread_result came from PID {thread_result[0]}, another process: a thread runs "
            "inside your own process. Use ThreadPoolExecutor (or threading.Thread), not a process."
        )
    if process_result is None:
        problems.append(
            "process_result is None: a Process does not hand back its target's return value. "
            "Use ProcessPoolExecutor(max_workers=1, mp_context=ctx) and "
            "ex.submit(compare.bump, 1).result(), or a pool's apply_async(...).get()."
        )
    elif not _is_bump_result(process_result):
        problems.append(
            f"process_result is {process_result!r}; keep the tuple (pid, before, after) that "
            "compare.bump(1) returned in the child."
        )
    elif process_result[0] == own_pid:
        problems.append(
            "process_result came from your own process: compare.bump ran here, not in a child. "
            "Submit it to a ProcessPoolExecutor (mp_context=ctx) or a ctx.Pool."
        )
    if counter != 1:
        if counter == 2:
            problems.append(
                "compare.COUNTER ended at 2: both bumps changed your process's counter, so the "
                "second one did not run in a child process."
            )
        elif counter == 0:
            problems.append(
                "compare.COUNTER ended at 0: the thread's bump did not reach your counter. Set "
                "compare.COUNTER = 0 first, then run the thread, and do not reset it afterwards."
            )
        else:
            problems.append(
                f"compare.COUNTER ended at {counter!r}, expected 1: the thread's bump (shared "
                "memory) and not the child's (its own copy)."
            )
    return problems


@never_raises
def check_who_sees_it(func: Callable[[], Any], timeout: float = 30.0) -> bool:
    """Check exercise 1: ``who_sees_it()`` bumps once in a thread and once in a child process.

    Right: the thread's result carries the caller's PID, the child's another PID, and the
    caller's ``compare.COUNTER`` ends at 1 (only the thread's change is visible).
    """
    run = run_bounded(func, timeout=timeout)
    if not run.ok:
        return fail(not_returned(run, "who_sees_it()"))
    problems = _who_sees_it_problems(run.value, run.pid)
    if run.leftover_processes:
        problems.append(
            f"{run.leftover_processes} process(es) still ran after who_sees_it() returned: "
            "use the executor in a with block, or join the process."
        )
    return report(
        problems,
        "who_sees_it: the thread's bump changed your counter, the child's changed only its "
        "own copy.",
    )


def _run_pool_problems(kind: str, run: BoundedRun) -> list[str]:
    call = f"run_pool({kind!r}, sleep_task, {POOL_TASKS}, {POOL_WORKERS})"
    if not run.ok:
        return [f"{call}: " + (run.explain() or "did not return normally.")]
    records = run.value
    if not isinstance(records, list) or len(records) != len(POOL_TASKS):
        return [
            f"{call} returned {records!r}; return a list with one record per task "
            "(list(pool.map(job, tasks)))."
        ]
    if not all(isinstance(r, TaskRecord) for r in records):
        return [
            f"{call} returned {records[:2]!r}...: return the records that helpers.timed(func) "
            "gives, not the plain results (map job = helpers.timed(func), not func)."
        ]
    if [r.task for r in records] != POOL_TASKS:
        return [f"{call}: the records are not in the order of the tasks; use pool.map."]
    problems = []
    pids = {r.pid for r in records}
    if kind == "threads":
        if pids != {run.pid}:
            problems.append(
                f"{call}: the tasks ran in other processes ({sorted(pids)}); for 'threads' use "
                "ThreadPoolExecutor(max_workers=workers)."
            )
        elif len({r.thread for r in records}) == 1:
            problems.append(
                f"{call}: all tasks ran one after another in one thread of your own process; "
                "for 'threads' map them with ThreadPoolExecutor(max_workers=workers)."
            )
    else:
        if run.pid in pids:
            problems.append(
                f"{call}: tasks ran in your own process (PID {run.pid}); for 'processes' use "
                "ProcessPoolExecutor(max_workers=workers, mp_context=ctx)."
            )
        elif len(pids) < 2:
            problems.append(
                f"{call}: only one worker process ran the tasks; give the pool max_workers=workers."
            )
        if run.leftover_processes:
            problems.append(
                f"{call}: {run.leftover_processes} worker(s) still ran after it returned; use "
                "the pool in a with block."
            )
    if not problems and max_concurrency(records) < POOL_WORKERS:
        problems.append(
            f"{call}: at most {max_concurrency(records)} task ran at a time; the pool needs "
            "max_workers=workers, and all tasks submitted before you wait for results."
        )
    return problems


@never_raises
def check_run_pool(
    run_pool: Callable[[str, Callable[[Any], Any], list[Any], int], Any], timeout: float = 30.0
) -> bool:
    """Check exercise 2's ``run_pool(kind, func, tasks, workers)`` for both kinds.

    Runs four 0.2 s sleeps with two workers. ``"threads"``: every record carries the caller's
    PID and two tasks overlapped. ``"processes"``: no record carries the caller's PID, two
    worker processes, two tasks overlapped, nothing left running.
    """
    problems = []
    for kind in ("threads", "processes"):
        run = run_bounded(
            run_pool, kind, sleep_task, list(POOL_TASKS), POOL_WORKERS, timeout=timeout
        )
        problems += _run_pool_problems(kind, run)
    return report(
        problems,
        "run_pool: 'threads' overlapped the tasks in your own process, 'processes' in "
        "worker processes.",
    )


@never_raises
def check_choice(choice: Mapping[str, Any]) -> bool:
    """Check exercise 2's ``CHOICE``: ``"threads"`` or ``"processes"`` for each workload."""
    if not isinstance(choice, Mapping):
        return fail(f"CHOICE is {type(choice).__name__}; keep it a dict.")
    problems = []
    for workload, (right, why) in EXPECTED_CHOICE.items():
        picked = choice.get(workload)
        if picked is None:
            problems.append(f"{workload!r}: fill in 'threads' or 'processes'.")
        elif not isinstance(picked, str) or picked.strip().lower() not in (
            "threads",
            "processes",
        ):
            problems.append(f"{workload!r}: {picked!r} is neither 'threads' nor 'processes'.")
        elif picked.strip().lower() != right:
            problems.append(f"{workload!r}: not {picked!r}. Hint: {why}.")
    return report(problems, "CHOICE: each workload has the kind of worker that suits it.")
