"""The queue assignment (a producer/consumer pipeline), graded end to end by nbgrader.

The catalogue of submissions holds the reference answer, the blank release, other correct answers
written differently, and the classic mistakes: a missing sentinel, joining before collecting the
results, a single consumer, serial work in the parent, consumers never joined or terminated, a
consumer defined in the notebook or wrapped in a lambda, a consumer that stops at a falsy item or
calls func on the sentinel. Each must get the expected score per graded cell, and each lost mark
must come with a message that says what to fix.

The submissions are split between COPIES course copies, autograded at the same time: much of the
grading is waiting (for spawned processes, for sleeping probes, for stuck pipelines to be
stopped), so several nbgrader runs overlap well even on two cores. Each copy has its own
gradebook, so nbgrader's sqlite database is never shared.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import ROOT, TAG, leftover_processes, new_tag
from nbgrader_harness import Course, release_drift

# One worker grades the whole catalogue (a module-scoped fixture) when the suite runs in parallel.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("assignment_queue"),
    pytest.mark.timeout(900),
]

ASSIGNMENT = "queue"
NB = "queue"

PIPELINE = {
    "pipeline_results_complete",
    "pipeline_uses_several_consumers",
    "consumers_end_by_sentinel",
    "consumers_are_joined",
    "large_results_do_not_deadlock",
    "empty_input",
}
ALL = {"consume_returns_at_sentinel"} | PIPELINE

# How many course copies grade the submissions in parallel (see the module docstring).
COPIES = 3


def pipeline(body: str) -> dict[str, str]:
    """A run_pipeline answer: the reference's queues and consumers, then ``body``."""
    return {"run_pipeline": "def run_pipeline(func, items, n_consumers=2):\n" + body}


START = """\
    tasks, results = mp.Queue(), mp.Queue()
    consumers = [mp.Process(target=queue_consumer.consume, args=(tasks, results, func))
                 for _ in range(n_consumers)]
    for c in consumers:
        c.start()
"""
FEED = """\
    for item in items:
        tasks.put(item)
"""
SENTINELS = """\
    for _ in consumers:
        tasks.put(None)
"""
COLLECT = """\
    out = {}
    for _ in items:
        item, result = results.get(timeout=30)
        out[item] = result
"""
JOIN = """\
    for c in consumers:
        c.join(timeout=30)
"""

ALTERNATIVE = {
    "consume": '''
%%writefile queue_consumer.py
"""A consumer written with iter(): call tasks.get until it returns the sentinel."""


def consume(tasks, results, func):
    for item in iter(tasks.get, None):
        results.put((item, func(item)))
''',
    "run_pipeline": """
def run_pipeline(func, items, n_consumers=2):
    ctx = mp.get_context()
    items = list(items)
    tasks, results = ctx.Queue(), ctx.Queue()
    for item in items + [None] * n_consumers:
        tasks.put(item)
    consumers = []
    for i in range(n_consumers):
        p = ctx.Process(target=queue_consumer.consume, args=(tasks, results, func),
                        name=f"consumer-{i}", daemon=True)
        p.start()
        consumers.append(p)
    out = {}
    try:
        while len(out) < len(items):
            item, value = results.get(timeout=20)
            out[item] = value
    finally:
        for p in consumers:
            p.join(timeout=20)
    return out
""",
}

SIMPLE_QUEUES = pipeline("""\
    tasks, results = mp.SimpleQueue(), mp.SimpleQueue()
    consumers = [mp.Process(target=queue_consumer.consume, args=(tasks, results, func))
                 for _ in range(n_consumers)]
    for c in consumers:
        c.start()
    items = list(items)
    for item in items:
        tasks.put(item)
    for _ in consumers:
        tasks.put(None)
    out = dict(results.get() for _ in items)
    for c in consumers:
        c.join(timeout=30)
    return out
""")

NOTEBOOK_CONSUMER = {
    "run_pipeline": """
def consume_here(tasks, results, func):
    while (item := tasks.get()) is not None:
        results.put((item, func(item)))


def run_pipeline(func, items, n_consumers=2):
    tasks, results = mp.Queue(), mp.Queue()
    consumers = [mp.Process(target=consume_here, args=(tasks, results, func))
                 for _ in range(n_consumers)]
    for c in consumers:
        c.start()
    for item in items:
        tasks.put(item)
    for _ in consumers:
        tasks.put(None)
    out = {}
    for _ in items:
        item, result = results.get()
        out[item] = result
    for c in consumers:
        c.join()
    return out
"""
}

LAMBDA_TARGET = pipeline(
    """\
    tasks, results = mp.Queue(), mp.Queue()
    consumers = [mp.Process(target=lambda: queue_consumer.consume(tasks, results, func))
                 for _ in range(n_consumers)]
    for c in consumers:
        c.start()
"""
    + FEED
    + SENTINELS
    + COLLECT
    + JOIN
    + "    return out\n"
)

SENTINEL_AS_ITEM = {
    "consume": """
%%writefile queue_consumer.py

def consume(tasks, results, func):
    while True:
        item = tasks.get()
        results.put((item, func(item)))
        if item is None:
            return
"""
}

FALSY_CHECK = {
    "consume": """
%%writefile queue_consumer.py

def consume(tasks, results, func):
    while True:
        item = tasks.get()
        if not item:
            return
        results.put((item, func(item)))
"""
}

EMPTY_CHECK = {
    "consume": """
%%writefile queue_consumer.py

def consume(tasks, results, func):
    while not tasks.empty():
        item = tasks.get()
        if item is None:
            return
        results.put((item, func(item)))
"""
}

# Other ways to meet the task: graded on what they do, full marks.
MANAGER_QUEUES = pipeline("""\
    with mp.Manager() as manager:
        tasks, results = manager.Queue(), manager.Queue()
        consumers = [mp.Process(target=queue_consumer.consume, args=(tasks, results, func))
                     for _ in range(n_consumers)]
        for c in consumers:
            c.start()
        items = list(items)
        for item in items + [None] * n_consumers:
            tasks.put(item)
        out = dict(results.get(timeout=30) for _ in items)
        for c in consumers:
            c.join(timeout=30)
        return out
""")

JOINABLE_QUEUE = {
    "consume": """
%%writefile queue_consumer.py

def consume(tasks, results, func):
    while True:
        item = tasks.get()
        try:
            if item is None:
                return
            results.put((item, func(item)))
        finally:
            if hasattr(tasks, "task_done"):
                tasks.task_done()
""",
    **pipeline("""\
    tasks, results = mp.JoinableQueue(), mp.Queue()
    consumers = [mp.Process(target=queue_consumer.consume, args=(tasks, results, func))
                 for _ in range(n_consumers)]
    for c in consumers:
        c.start()
    items = list(items)
    for item in items + [None] * n_consumers:
        tasks.put(item)
    out = dict(results.get(timeout=30) for _ in items)
    tasks.join()
    for c in consumers:
        c.join(timeout=30)
    return out
"""),
}

EXECUTOR = pipeline("""\
    from concurrent.futures import ProcessPoolExecutor, wait

    with mp.Manager() as manager, ProcessPoolExecutor(n_consumers) as pool:
        tasks, results = manager.Queue(), manager.Queue()
        running = [pool.submit(queue_consumer.consume, tasks, results, func)
                   for _ in range(n_consumers)]
        items = list(items)
        for item in items + [None] * n_consumers:
            tasks.put(item)
        out = dict(results.get(timeout=30) for _ in items)
        wait(running, timeout=30)
        return out
""")

# Each submission: the answer cells it replaces, and the graded cells it must lose.
CATALOGUE = {
    "reference": ({}, set()),
    "alternative": (ALTERNATIVE, set()),
    "simple_queues": (SIMPLE_QUEUES, set()),
    "manager_queues": (MANAGER_QUEUES, set()),
    "joinable_queue": (JOINABLE_QUEUE, set()),
    "executor": (EXECUTOR, set()),
    "empty_check": (EMPTY_CHECK, {"consume_returns_at_sentinel"}),
    "no_sentinel": (
        pipeline(
            START + FEED + COLLECT + "    for c in consumers:\n        c.join()\n    return out\n"
        ),
        PIPELINE,
    ),
    "join_before_drain": (
        pipeline(
            START + FEED + SENTINELS + "    for c in consumers:\n"
            "        c.join()\n" + COLLECT + "    return out\n"
        ),
        {"large_results_do_not_deadlock"},
    ),
    "single_consumer": (
        pipeline(
            """\
    tasks, results = mp.Queue(), mp.Queue()
    consumer = mp.Process(target=queue_consumer.consume, args=(tasks, results, func))
    consumer.start()
    consumers = [consumer]
"""
            + FEED
            + SENTINELS
            + COLLECT
            + JOIN
            + "    return out\n"
        ),
        {"pipeline_uses_several_consumers"},
    ),
    "serial": (
        pipeline("    return {item: func(item) for item in items}\n"),
        {"pipeline_uses_several_consumers", "consumers_end_by_sentinel", "consumers_are_joined"},
    ),
    "never_joined": (
        pipeline(START + FEED + SENTINELS + COLLECT + "    return out\n"),
        {"consumers_are_joined"},
    ),
    "terminated": (
        pipeline(
            START + FEED + COLLECT + "    for c in consumers:\n"
            "        c.terminate()\n        c.join()\n    return out\n"
        ),
        {"consumers_end_by_sentinel"},
    ),
    # With no items, nothing waits for the crashed consumers: only empty_input passes.
    "notebook_consumer": (NOTEBOOK_CONSUMER, PIPELINE - {"empty_input"}),
    "lambda_target": (LAMBDA_TARGET, PIPELINE),
    "sentinel_as_item": (
        SENTINEL_AS_ITEM,
        {"consume_returns_at_sentinel", "consumers_end_by_sentinel"},
    ),
    "falsy_check": (FALSY_CHECK, {"consume_returns_at_sentinel"}),
}

# What the learner must be told, in one lost cell of each wrong answer.
MESSAGES = {
    "no_sentinel": (
        "consumers_end_by_sentinel",
        "Put one sentinel (None) on the task queue for each consumer",
    ),
    "join_before_drain": ("large_results_do_not_deadlock", "Collect every result first, THEN join"),
    "single_consumer": ("pipeline_uses_several_consumers", "started 1 process"),
    "serial": ("pipeline_uses_several_consumers", "started no process"),
    "never_joined": ("consumers_are_joined", "had not been joined"),
    "terminated": ("consumers_end_by_sentinel", "SIGTERM"),
    "notebook_consumer": ("pipeline_results_complete", "defined in the notebook"),
    "lambda_target": ("pipeline_results_complete", "lambda"),
    "sentinel_as_item": ("consume_returns_at_sentinel", "func(None)"),
    "falsy_check": ("consume_returns_at_sentinel", "item is None"),
    "empty_check": ("consume_returns_at_sentinel", "tasks.empty()"),
}
# A stuck pipeline is stopped, and the learner is shown the line it was waiting at.
WAITING_AT = {
    "no_sentinel": ("consumers_are_joined", "c.join()"),
    "join_before_drain": ("large_results_do_not_deadlock", "c.join()"),
    "notebook_consumer": ("pipeline_results_complete", "item, result = results.get()"),
}


class Grading:
    """Several course copies graded at once; scores and messages are looked up by student."""

    def __init__(self, courses: list[Course], home: dict[str, Course]) -> None:
        self.courses = courses
        self.home = home
        self.leftover: list[str] = []

    def scores(self, student: str) -> dict[str, float]:
        return self.home[student].scores(ASSIGNMENT, student, NB)

    def messages(self, student: str) -> dict[str, str]:
        return self.home[student].messages(ASSIGNMENT, student, NB)

    def max_scores(self) -> dict[str, float]:
        return self.courses[0].max_scores(ASSIGNMENT, NB)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Generate the release, hand in every catalogued notebook and the blank one, autograde."""
    tag = new_tag("queue")
    courses = [
        Course.copy_of_repo(tmp_path_factory.mktemp(f"course{i}"), env={TAG: tag})
        for i in range(COPIES)
    ]
    for course in courses:
        course.generate(ASSIGNMENT)
    # The slow submissions (stuck pipelines) go to different courses.
    students = [*CATALOGUE, "blank"]
    slow = ["no_sentinel", "notebook_consumer", "join_before_drain"]
    order = slow + [s for s in students if s not in slow]
    home = {student: courses[i % COPIES] for i, student in enumerate(order)}
    for student in students:
        if student == "blank":
            home[student].submit(ASSIGNMENT, student, NB, reference=False)
        else:
            home[student].submit(ASSIGNMENT, student, NB, CATALOGUE[student][0])
    with ThreadPoolExecutor(len(courses)) as pool:
        list(pool.map(lambda c: c.autograde(ASSIGNMENT), courses))
    grading = Grading(courses, home)
    grading.leftover = leftover_processes(tag)
    return grading


def test_release_matches_source(tmp_path):
    """release/ in the repository is exactly what nbgrader generates from source/ now."""
    course = Course.copy_of_repo(tmp_path / "course")
    generated = course.generate(ASSIGNMENT)
    committed = ROOT / "release" / ASSIGNMENT
    assert release_drift(generated, committed) == [], (
        "release/ is out of date: run `make release` and commit it"
    )


def test_graded_cells_are_the_expected_ones(graded):
    assert set(graded.max_scores()) == ALL


@pytest.mark.parametrize("student", list(CATALOGUE))
def test_catalogue_scores(graded, student):
    _, lost = CATALOGUE[student]
    expected = {
        cell: (0.0 if cell in lost else points) for cell, points in graded.max_scores().items()
    }
    assert graded.scores(student) == expected, (
        f"{student}: messages were {graded.messages(student)}"
    )


def test_blank_release_scores_zero(graded):
    scores = graded.scores("blank")
    assert scores and all(score == 0 for score in scores.values()), scores


@pytest.mark.parametrize("student", list(MESSAGES))
def test_wrong_answers_are_told_what_to_fix(graded, student):
    cell, needle = MESSAGES[student]
    message = graded.messages(student).get(cell, "")
    assert needle in message, f"{student}: the message for {cell} was {message!r}"


@pytest.mark.parametrize("student", list(WAITING_AT))
def test_stuck_pipelines_show_where_they_waited(graded, student):
    cell, line = WAITING_AT[student]
    message = graded.messages(student).get(cell, "")
    assert "did not finish" in message and f"waiting at this line:\n    {line}" in message, (
        f"{student}: the message for {cell} was {message!r}"
    )


def test_no_stderr_in_graded_cells_of_correct_answers(graded):
    for student in ["reference", "alternative", "simple_queues", "manager_queues", "executor"]:
        assert graded.messages(student) == {}, student


def test_grading_leaves_no_process_behind(graded):
    assert graded.leftover == []
