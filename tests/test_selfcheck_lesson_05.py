"""Lesson 05's self-checks say ✅ to right answers and ❌, with the right advice, to wrong ones.

The answers below are what a learner might type in the notebook (parent-side code only; the
child-side functions come from helpers.tasks.sync). The checks run them through run_bounded, which
forks, so functions defined here work whatever the start method of the workers they start.
"""

from __future__ import annotations

from support.selfcheck_cases import accepts, rejects, selfcheck_test, worked_solution

from helpers.selfcheck import lesson_05
from helpers.tasks import sync

# --- Exercise 1: count_with_one_lock(ctx, workers, steps) ---------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
one_lock_solution = worked_solution("05_synchronisation", "count_with_one_lock", globals())


def one_lock_with_get_lock(ctx, workers, steps):
    """Also right: the Value's own lock, through sync.value_lock_increment."""
    counter = ctx.Value("i", 0)
    procs = [
        ctx.Process(target=sync.value_lock_increment, args=(counter, steps)) for _ in range(workers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    return counter.value


def _count_in_processes(ctx, workers, target, make_args):
    """Start ``workers`` processes on ``target(*make_args(counter))``, join them, read the count."""
    counter = ctx.Value("i", 0)
    procs = [ctx.Process(target=target, args=make_args(counter)) for _ in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return counter.value


def one_lock_stub(ctx, workers, steps):
    """The notebook's stub: no lock at all."""
    return _count_in_processes(ctx, workers, sync.racy_increment, lambda c: (c, steps))


def lock_per_process(ctx, workers, steps):
    """The classic mistake: a new lock for each process, so nobody ever waits."""
    return _count_in_processes(
        ctx, workers, sync.locked_increment, lambda c: (c, ctx.Lock(), steps)
    )


def returns_none(ctx, workers, steps):
    """Nothing filled in yet."""
    return None


def in_the_parent(ctx, workers, steps):
    """Right number, no processes: the lesson is about processes."""
    counter = ctx.Value("i", 0)
    sync.locked_increment(counter, ctx.Lock(), workers * steps, 0)
    return counter.value


# --- Exercise 2: run_in_phases(ctx, setup_seconds) -------------------------------------------


# The worked solution, read from the lesson itself (not a copy that could drift).
phases_solution = worked_solution("05_synchronisation", "run_in_phases", globals())


def phases_variant(ctx, setup_seconds):
    """Also right, written differently: start in a loop, names from the seconds, a sorted list."""
    parties = len(setup_seconds)
    together, reports = ctx.Barrier(parties), ctx.Queue()
    started = []
    for seconds in setup_seconds:
        p = ctx.Process(
            target=sync.two_phase,
            args=(f"setup{seconds}", together, seconds, reports),
            kwargs={"work_seconds": 0.1},
        )
        p.start()
        started.append(p)
    got = [record for _ in range(parties) for record in reports.get(timeout=20)]
    for p in started:
        p.join(timeout=10)
    return sorted(got, key=lambda r: r.start)


def phases_stub(ctx, setup_seconds):
    return []


def barrier_of_one(ctx, setup_seconds):
    """The classic mistake: a barrier that lets each process through alone."""
    barrier = ctx.Barrier(1)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=sync.two_phase, args=(f"w{i}", barrier, seconds, results))
        for i, seconds in enumerate(setup_seconds)
    ]
    for p in procs:
        p.start()
    records = [r for _ in procs for r in results.get(timeout=20)]
    for p in procs:
        p.join()
    return records


def one_record_per_process(ctx, setup_seconds):
    """Keeps only the first record of each report (the set-up), forgetting the work phase."""
    return [r for r in phases_solution(ctx, setup_seconds) if str(r.task).endswith("setup")]


one_lock, phases = lesson_05.check_count_with_one_lock, lesson_05.check_run_in_phases
# Deliberately the same table shape as every lesson's self-check test (support/selfcheck_cases).
CASES = [
    *accepts(one_lock, one_lock_solution, one_lock_with_get_lock),
    rejects(one_lock, one_lock_stub, "updates were lost", "ONE lock"),
    rejects(one_lock, lock_per_process, "updates were lost", "A lock made for each process"),
    rejects(one_lock, in_the_parent, "no worker processes"),
    rejects(one_lock, returns_none, "returned None"),
    *accepts(phases, phases_solution, phases_variant),
    rejects(phases, phases_stub, "returned []"),
    rejects(phases, barrier_of_one, "before the last set-up ended", "one party per process"),
    rejects(phases, one_record_per_process, "work records"),
]

test_selfcheck = selfcheck_test(CASES)
