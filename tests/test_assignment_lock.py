"""The lock assignment, graded end to end by nbgrader in a temporary copy of the course.

One autograde run grades a catalogue of submissions: the reference answer, the blank release,
another correct answer written differently, and three notebooks that each make one classic mistake
per exercise (the exercises are graded independently, so one notebook can carry several). Each must
get the expected score per graded cell, and each lost mark must come with a message that says what
to fix.

The race behind exercise 1 must be deterministic: a deposit without the lock must lose updates on
every run, a locked one never, and a lock held around the whole loop must never interleave. The
fast tests at the end call the grading-side check directly, 20 times in a row for each.
"""

from __future__ import annotations

import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from conftest import ROOT, TAG, leftover_processes, new_tag
from nbgrader_harness import Course, release_drift

from helpers.grading import run_bounded
from helpers.grading.assignments.lock import deposit_race

# Grading a catalogue takes minutes on a busy two-core machine.
pytestmark = pytest.mark.timeout(900)

ASSIGNMENT = "lock"
NB = "lock"
MODULES = {"deposit": "bank.py", "run_with_slot": "limited.py", "wait_for_start": "starting.py"}

ALL = {
    "deposit_adds_every_amount",
    "deposit_loses_no_update",
    "deposits_interleave",
    "slots_limit_concurrency",
    "slot_released_after_error",
    "worker_waits_for_start",
    "worker_gives_up_without_signal",
    "start_together_collects_results",
    "start_together_sets_the_event",
    "start_together_joins_workers",
}
START_TOGETHER = {
    "start_together_collects_results",
    "start_together_sets_the_event",
    "start_together_joins_workers",
}

# --- a correct solution, written differently from the reference --------------------------------

ALTERNATIVE = {
    "deposit": """
%%writefile bank.py
def deposit(balance, lock, amount, times):
    done = 0
    while done < times:
        lock.acquire()
        try:
            current = balance.value
            balance.value = current + amount
        finally:
            lock.release()
        done += 1
""",
    "run_with_slot": """
%%writefile limited.py
def run_with_slot(semaphore, func, item):
    semaphore.acquire()
    try:
        result = func(item)
    finally:
        semaphore.release()
    return result
""",
    "wait_for_start": """
%%writefile starting.py
def wait_for_start(start, func, item, results, timeout=10):
    results.put("ready")
    if not start.wait(timeout=timeout):
        return
    value = func(item)
    results.put(value)
""",
    "start_together": """
def start_together(func, items):
    ctx = mp.get_context()
    go = ctx.Event()
    inbox = ctx.Queue()
    procs = {}
    for i, item in enumerate(items):
        procs[i] = ctx.Process(target=starting.wait_for_start, args=(go, func, item, inbox, 20))
        procs[i].start()
    ready = 0
    while ready < len(procs):
        if inbox.get(timeout=30) == "ready":
            ready += 1
    go.set()
    out = []
    try:
        while len(out) < len(procs):
            out.append(inbox.get(timeout=30))
    finally:
        for p in procs.values():
            p.join(timeout=10)
    return out
""",
}

# --- the classic mistakes: (answer cell, its wrong code, the graded cells it must lose) ----------

WRONG = {
    "no_lock": (
        "deposit",
        """
%%writefile bank.py
def deposit(balance, lock, amount, times):
    for _ in range(times):
        balance.value += amount
""",
        {"deposit_loses_no_update"},
    ),
    "lock_around_write_only": (
        "deposit",
        """
%%writefile bank.py
def deposit(balance, lock, amount, times):
    for _ in range(times):
        current = balance.value
        with lock:
            balance.value = current + amount
""",
        {"deposit_loses_no_update"},
    ),
    "lock_around_whole_loop": (
        "deposit",
        """
%%writefile bank.py
def deposit(balance, lock, amount, times):
    with lock:
        for _ in range(times):
            balance.value += amount
""",
        {"deposits_interleave"},
    ),
    "semaphore_never_released": (
        "run_with_slot",
        """
%%writefile limited.py
def run_with_slot(semaphore, func, item):
    semaphore.acquire()
    return func(item)
""",
        {"slots_limit_concurrency", "slot_released_after_error"},
    ),
    "no_semaphore": (
        "run_with_slot",
        """
%%writefile limited.py
def run_with_slot(semaphore, func, item):
    return func(item)
""",
        {"slots_limit_concurrency"},
    ),
    "released_without_finally": (
        "run_with_slot",
        """
%%writefile limited.py
def run_with_slot(semaphore, func, item):
    semaphore.acquire()
    result = func(item)
    semaphore.release()
    return result
""",
        {"slot_released_after_error"},
    ),
    "worker_not_waiting": (
        "wait_for_start",
        """
%%writefile starting.py
def wait_for_start(start, func, item, results, timeout=10):
    results.put("ready")
    results.put(func(item))
""",
        {"worker_waits_for_start", "worker_gives_up_without_signal"},
    ),
    "wait_without_timeout": (
        "wait_for_start",
        """
%%writefile starting.py
def wait_for_start(start, func, item, results, timeout=10):
    results.put("ready")
    start.wait()
    results.put(func(item))
""",
        {"worker_gives_up_without_signal"},
    ),
    "ready_after_waiting": (
        "wait_for_start",
        """
%%writefile starting.py
def wait_for_start(start, func, item, results, timeout=10):
    signalled = start.wait(timeout)
    results.put("ready")
    if signalled:
        results.put(func(item))
""",
        {"worker_waits_for_start"},
    ),
    "event_never_set": (
        "start_together",
        """
def start_together(func, items):
    start, results = mp.Event(), mp.Queue()
    workers = [mp.Process(target=starting.wait_for_start, args=(start, func, item, results))
               for item in items]
    for w in workers:
        w.start()
    for _ in workers:
        results.get(timeout=30)
    collected = [results.get(timeout=30) for _ in workers]
    for w in workers:
        w.join(timeout=10)
    return collected
""",
        START_TOGETHER,
    ),
    "lambda_target": (
        "start_together",
        """
def start_together(func, items):
    start, results = mp.Event(), mp.Queue()
    workers = [mp.Process(target=lambda item=item: starting.wait_for_start(start, func, item, results))
               for item in items]
    for w in workers:
        w.start()
    for _ in workers:
        results.get(timeout=30)
    start.set()
    collected = [results.get(timeout=30) for _ in workers]
    for w in workers:
        w.join(timeout=10)
    return collected
""",
        START_TOGETHER,
    ),
    "notebook_target": (
        "start_together",
        """
def worker(start, func, item, results):
    starting.wait_for_start(start, func, item, results)

def start_together(func, items):
    start, results = mp.Event(), mp.Queue()
    workers = [mp.Process(target=worker, args=(start, func, item, results)) for item in items]
    for w in workers:
        w.start()
    for _ in workers:
        results.get(timeout=30)
    start.set()
    collected = [results.get(timeout=30) for _ in workers]
    for w in workers:
        w.join(timeout=10)
    return collected
""",
        START_TOGETHER,
    ),
}

# One submission per line: the exercises are independent, so a notebook carries one mistake in
# each, and the catalogue costs three autograded notebooks instead of twelve.
STUDENTS = {
    "reference": [],
    "alternative": [],
    # start_together runs the learner's own wait_for_start (no answer ships in helpers), so a
    # start_together that never sets the event is paired with workers that do wait for it.
    "mistakes_a": ["no_lock", "semaphore_never_released", "worker_not_waiting", "lambda_target"],
    "mistakes_b": [
        "lock_around_whole_loop",
        "released_without_finally",
        "wait_without_timeout",
        "event_never_set",
    ],
    "mistakes_c": [
        "lock_around_write_only",
        "no_semaphore",
        "ready_after_waiting",
        "notebook_target",
    ],
}

# What the learner must be told: (student, graded cell) -> a phrase of the message.
MESSAGES = {
    ("mistakes_a", "deposit_loses_no_update"): "never took the lock",
    ("mistakes_a", "slots_limit_concurrency"): "still holding its slot",
    ("mistakes_a", "worker_waits_for_start"): "never called start.wait",
    ("mistakes_b", "start_together_sets_the_event"): "never called start.set()",
    ("mistakes_b", "start_together_collects_results"): "never called start.set()",
    ("mistakes_b", "deposits_interleave"): "one after another",
    ("mistakes_b", "slot_released_after_error"): "did not give its slot back",
    ("mistakes_b", "worker_gives_up_without_signal"): "no time limit",
    ("mistakes_a", "start_together_collects_results"): "lambda",
    ("mistakes_c", "deposit_loses_no_update"): "not around the whole update",
    ("mistakes_c", "slots_limit_concurrency"): "never acquired the semaphore",
    ("mistakes_c", "worker_waits_for_start"): 'Put "ready" on `results` first',
    ("mistakes_c", "start_together_collects_results"): "defined in the notebook",
}


def answers_of(student: str) -> dict[str, str]:
    if student == "alternative":
        return dict(ALTERNATIVE)
    answers = {}
    for mistake in STUDENTS[student]:
        cell, code, _ = WRONG[mistake]
        assert cell not in answers, f"{student} has two mistakes in {cell}"
        answers[cell] = code
    return answers


def lost_by(student: str) -> set[str]:
    lost: set[str] = set()
    for mistake in STUDENTS.get(student, []):
        lost |= WRONG[mistake][2]
    return lost


# The submissions are autograded in two courses at once (nbgrader grades one notebook at a time,
# and most of that time is spent waiting for kernels and processes to start): each course grades
# about half of them. The slowest notebook (mistakes_a waits for slots and signals that never come)
# goes with the two quickest.
GROUPS = [["reference", "mistakes_b", "mistakes_c"], ["alternative", "mistakes_a", "blank"]]


class Catalogue:
    """The courses that graded the catalogue, and which one holds each student."""

    def __init__(self, courses: list[Course]) -> None:
        self.courses = courses
        self.leftover: list[str] = []

    def course_of(self, student: str) -> Course:
        for course, group in zip(self.courses, GROUPS, strict=True):
            if student in group:
                return course
        raise KeyError(student)

    def max_scores(self) -> dict[str, float]:
        return self.courses[0].max_scores(ASSIGNMENT, NB)

    def scores(self, student: str) -> dict[str, float]:
        return self.course_of(student).scores(ASSIGNMENT, student, NB)

    def messages(self, student: str) -> dict[str, str]:
        return self.course_of(student).messages(ASSIGNMENT, student, NB)


def _both(step, courses: list[Course]) -> None:
    with ThreadPoolExecutor(len(courses)) as pool:
        list(pool.map(step, courses))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Two copies of the course, each with the release generated: (courses, process tag)."""
    tag = new_tag("lock")
    courses = [
        Course.copy_of_repo(tmp_path_factory.mktemp(f"course{i}"), env={TAG: tag})
        for i in range(len(GROUPS))
    ]
    _both(lambda course: course.generate(ASSIGNMENT), courses)
    return courses, tag


@pytest.fixture(scope="module")
def graded(generated):
    """Hand in every catalogued notebook and the blank one, autograde them all."""
    courses, tag = generated
    for course, group in zip(courses, GROUPS, strict=True):
        for student in group:
            if student == "blank":
                course.submit(ASSIGNMENT, student, NB, reference=False)
            else:
                course.submit(ASSIGNMENT, student, NB, answers_of(student))
    _both(lambda course: course.autograde(ASSIGNMENT), courses)
    catalogue = Catalogue(courses)
    catalogue.leftover = leftover_processes(tag)
    return catalogue


# --- the nbgrader round trip -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.xdist_group("assignment_lock")
def test_release_matches_source(generated):
    """release/ in the repository is exactly what nbgrader generates from source/ now."""
    courses, _ = generated
    generated = courses[0].root / "release" / ASSIGNMENT
    committed = ROOT / "release" / ASSIGNMENT
    assert release_drift(generated, committed) == [], (
        "release/ is out of date: run `make release` and commit it"
    )


def test_source_holds_only_the_notebook():
    """Any other file in source/lock/ would be released, and overwrite learners' files."""
    assert sorted(p.name for p in (ROOT / "source" / ASSIGNMENT).iterdir()) == ["lock.ipynb"]


@pytest.mark.parametrize("cell", sorted(MODULES))
def test_released_stub_writes_a_module_that_raises(cell, tmp_path):
    """The released answer cell keeps %%writefile, imports, signature and docstring; the module
    it writes defines the function, which raises NotImplementedError."""
    nb = nbformat.read(ROOT / "release" / ASSIGNMENT / f"{NB}.ipynb", as_version=4)
    source = next(
        c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == cell
    )
    first, _, body = source.partition("\n")
    assert first == f"%%writefile {MODULES[cell]}"
    assert "BEGIN SOLUTION" not in body and "raise NotImplementedError()" in body
    namespace: dict = {}
    exec(compile(body, MODULES[cell], "exec"), namespace)
    func = namespace[cell]
    assert func.__doc__, "the stub keeps the docstring"
    args = {"deposit": 4, "run_with_slot": 3, "wait_for_start": 4}[cell]
    with pytest.raises(NotImplementedError):
        func(*([None] * args))


@pytest.mark.slow
@pytest.mark.xdist_group("assignment_lock")
def test_graded_cells_are_the_expected_ones(graded):
    assert set(graded.max_scores()) == ALL


@pytest.mark.slow
@pytest.mark.xdist_group("assignment_lock")
@pytest.mark.parametrize("student", list(STUDENTS))
def test_catalogue_scores(graded, student):
    lost = lost_by(student)
    maximum = graded.max_scores()
    scores = graded.scores(student)
    expected = {cell: (0.0 if cell in lost else points) for cell, points in maximum.items()}
    messages = graded.messages(student)
    assert scores == expected, f"{student}: messages were {messages}"


@pytest.mark.slow
@pytest.mark.xdist_group("assignment_lock")
def test_blank_release_scores_zero(graded):
    scores = graded.scores("blank")
    assert scores and all(score == 0 for score in scores.values()), scores
    messages = graded.messages("blank")
    assert set(messages) == ALL
    assert all("NotImplementedError" in text for text in messages.values()), messages


@pytest.mark.slow
@pytest.mark.xdist_group("assignment_lock")
@pytest.mark.parametrize("student, cell", list(MESSAGES))
def test_wrong_answers_are_told_what_to_fix(graded, student, cell):
    message = graded.messages(student).get(cell, "")
    assert MESSAGES[student, cell] in message, f"{student}: the message for {cell} was {message!r}"


@pytest.mark.slow
@pytest.mark.xdist_group("assignment_lock")
def test_no_stderr_in_graded_cells_of_correct_answers(graded):
    for student in ["reference", "alternative"]:
        assert graded.messages(student) == {}, student


@pytest.mark.slow
@pytest.mark.xdist_group("assignment_lock")
def test_modules_are_written_in_the_sandbox_not_the_course(graded):
    """The %%writefile cells wrote their modules inside the grading sandbox, where the children
    found them (the reference got full marks); nothing of the learner's lands in the course."""
    from helpers.grading.sandbox import sandbox_status

    course = graded.course_of("reference")
    folder = course.root / "autograded" / "reference" / ASSIGNMENT
    if sandbox_status().isolated:
        for module in MODULES.values():
            assert not (folder / module).exists(), module
    assert not (course.root / "source" / ASSIGNMENT / "bank.py").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("assignment_lock")
def test_grading_leaves_no_process_behind(graded):
    assert graded.leftover == []


# --- the race is deterministic ---------------------------------------------------------------------

DEPOSITORS = """
def unlocked(balance, lock, amount, times):
    for _ in range(times):
        balance.value += amount


def locked(balance, lock, amount, times):
    for _ in range(times):
        with lock:
            balance.value += amount


def whole_loop(balance, lock, amount, times):
    with lock:
        for _ in range(times):
            balance.value += amount
"""
RUNS = 20


@pytest.fixture(scope="module")
def depositors(tmp_path_factory):
    """An importable module of deposit functions (the race's children must import them)."""
    folder = tmp_path_factory.mktemp("depositors")
    name = f"lock_depositors_{uuid.uuid4().hex[:8]}"
    (folder / f"{name}.py").write_text(DEPOSITORS)
    sys.path.insert(0, str(folder))
    try:
        yield __import__(name)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(name, None)


def _races(deposit, runs: int) -> list[tuple[int, bool]]:
    """``runs`` races in a row, as the notebook's test cell runs them (4 processes x 30)."""
    out = []
    for _ in range(runs):
        race = deposit_race(deposit, 4, 30)
        assert race.missing == 0 and not any(r.error for r in race.reports), race.summary()
        out.append((race.lost, race.interleaved))
    return out


@pytest.mark.parametrize("kind", ["unlocked", "locked", "whole_loop"])
def test_race_check_is_deterministic(depositors, kind):
    """Lost updates on every one of 20 runs without the lock; none with it; a lock held around
    the whole loop never interleaves, one held around each deposit always does."""
    run = run_bounded(_races, getattr(depositors, kind), RUNS, timeout=240)
    results = run.value_or_fail()
    assert len(results) == RUNS
    lost = [n for n, _ in results]
    interleaved = [i for _, i in results]
    print(f"{kind}: lost per run {lost}, interleaved {sum(interleaved)}/{RUNS}")
    if kind == "unlocked":
        assert all(n > 0 for n in lost), f"a run without the lock lost nothing: {lost}"
    else:
        assert lost == [0] * RUNS, f"a run with the lock lost updates: {lost}"
        expected = kind == "locked"
        assert interleaved == [expected] * RUNS, interleaved
