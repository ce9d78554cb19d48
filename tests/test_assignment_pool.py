"""The Pool assignment, graded end to end by nbgrader in a temporary copy of the course.

One autograde run grades a catalogue of submissions: the reference answer, the blank release,
other correct answers written differently, and the classic wrong answers. Each must get the
expected score per graded cell, and each lost mark must come with a message that says what to fix.
"""

from __future__ import annotations

import pytest
from conftest import ROOT, TAG, leftover_processes, new_tag
from nbgrader_harness import Course, release_drift

# One worker grades the whole catalogue (a module-scoped fixture) when the suite runs in parallel.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("assignment_pool"),
    pytest.mark.timeout(900),
]

ASSIGNMENT = "pool"
NB = "pool"

ALL = {
    "pool_results_in_order",
    "pool_uses_several_processes",
    "pool_is_closed",
    "results_in_completion_order",
    "worker_errors_are_reported",
    "errors_reported_from_workers",
    "count_primes_with_spawn_safe_worker",
    "count_primes_larger_inputs",
}

EXECUTOR = {
    "parallel_map": """
from concurrent.futures import ProcessPoolExecutor

def parallel_map(func, items, processes=2):
    with ProcessPoolExecutor(max_workers=processes, mp_context=mp.get_context()) as ex:
        return list(ex.map(func, items))
""",
    "results_as_completed": """
from concurrent.futures import ProcessPoolExecutor, as_completed

def results_as_completed(func, items, processes=2):
    with ProcessPoolExecutor(max_workers=processes) as ex:
        futures = [ex.submit(func, item) for item in items]
        return [f.result(timeout=30) for f in as_completed(futures)]
""",
    "map_reporting_errors": """
from concurrent.futures import ProcessPoolExecutor

def map_reporting_errors(func, items, processes=2):
    with ProcessPoolExecutor(max_workers=processes) as ex:
        futures = {item: ex.submit(func, item) for item in items}
        return {item: (f.exception(timeout=30) or f.result()) for item, f in futures.items()}
""",
    "count_primes_parallel": """
from concurrent.futures import ProcessPoolExecutor
from helpers.workers import count_primes

def count_primes_parallel(limits, processes=2):
    with ProcessPoolExecutor(processes) as ex:
        return list(ex.map(count_primes, limits))
""",
}

CALLBACKS = {
    "parallel_map": """
def parallel_map(func, items, processes=2):
    pool = mp.Pool(processes=processes)
    try:
        results = pool.map(func, items, chunksize=1)
    finally:
        pool.close()
        pool.join()
    return results
""",
    "results_as_completed": """
def results_as_completed(func, items, processes=2):
    done = []
    with mp.Pool(processes) as pool:
        pending = [pool.apply_async(func, (x,), callback=done.append) for x in items]
        for p in pending:
            p.wait(timeout=30)
    return done
""",
    "map_reporting_errors": """
def map_reporting_errors(func, items, processes=2):
    out = {}
    with mp.Pool(processes) as pool:
        for item in items:
            pool.apply_async(func, (item,), callback=lambda r, i=item: out.__setitem__(i, r),
                             error_callback=lambda e, i=item: out.__setitem__(i, e))
        pool.close()
        pool.join()
    return out
""",
    "count_primes_parallel": """
%%writefile my_primes.py
from helpers.workers import is_prime

def count_below(n):
    return sum(1 for k in range(n) if is_prime(k))
""",
}

SERIAL = {
    "parallel_map": "def parallel_map(func, items, processes=2):\n    return [func(x) for x in items]\n",
    "results_as_completed": "def results_as_completed(func, items, processes=2):\n    return [func(x) for x in items]\n",
    "map_reporting_errors": """
def map_reporting_errors(func, items, processes=2):
    out = {}
    for x in items:
        try:
            out[x] = func(x)
        except Exception as e:
            out[x] = e
    return out
""",
    "count_primes_parallel": "def count_primes_parallel(limits, processes=2):\n    return [workers.count_primes(n) for n in limits]\n",
}

THREADS = {
    "parallel_map": """
from multiprocessing.pool import ThreadPool

def parallel_map(func, items, processes=2):
    with ThreadPool(processes) as pool:
        return pool.map(func, items)
""",
    "results_as_completed": """
from multiprocessing.pool import ThreadPool

def results_as_completed(func, items, processes=2):
    with ThreadPool(processes) as pool:
        return list(pool.imap_unordered(func, items))
""",
    "count_primes_parallel": """
from multiprocessing.pool import ThreadPool

def count_primes_parallel(limits, processes=2):
    with ThreadPool(processes) as pool:
        return pool.map(workers.count_primes, limits)
""",
}

# Each wrong answer: the cells it replaces, and the graded cells it must lose (all others full).
CATALOGUE = {
    "reference": ({}, set()),
    "executor": (EXECUTOR, set()),
    "callbacks": (CALLBACKS, set()),
    "serial": (
        SERIAL,
        {
            "pool_uses_several_processes",
            "pool_is_closed",
            "results_in_completion_order",
            "errors_reported_from_workers",
            "count_primes_larger_inputs",
        },
    ),
    "threads": (
        THREADS,
        {
            "pool_uses_several_processes",
            "pool_is_closed",
            "results_in_completion_order",
            "count_primes_larger_inputs",
        },
    ),
    "never_closed": (
        {
            "parallel_map": """
def parallel_map(func, items, processes=2):
    pool = mp.Pool(processes)
    return pool.map(func, items)
"""
        },
        {"pool_is_closed"},
    ),
    "one_at_a_time": (
        {
            "parallel_map": """
def parallel_map(func, items, processes=2):
    with mp.Pool(processes) as pool:
        return [pool.apply_async(func, (x,)).get(timeout=30) for x in items]
"""
        },
        {"pool_uses_several_processes"},
    ),
    "ordered_map": (
        {
            "results_as_completed": """
def results_as_completed(func, items, processes=2):
    with mp.Pool(processes) as pool:
        return pool.map(func, items)
"""
        },
        {"results_in_completion_order"},
    ),
    "swallowed_errors": (
        {
            "map_reporting_errors": """
def map_reporting_errors(func, items, processes=2):
    out = {}
    with mp.Pool(processes) as pool:
        pending = {x: pool.apply_async(func, (x,)) for x in items}
        for x, r in pending.items():
            try:
                out[x] = r.get(timeout=30)
            except Exception:
                out[x] = None
    return out
"""
        },
        {"worker_errors_are_reported", "errors_reported_from_workers"},
    ),
    "lambda_worker": (
        {
            "count_primes_parallel": """
def count_primes_parallel(limits, processes=2):
    with mp.Pool(processes) as pool:
        return pool.map(lambda n: workers.count_primes(n), limits)
"""
        },
        {"count_primes_with_spawn_safe_worker", "count_primes_larger_inputs"},
    ),
    "notebook_worker": (
        {
            "count_primes_parallel": """
def count_below(n):
    return workers.count_primes(n)

def count_primes_parallel(limits, processes=2):
    with mp.Pool(processes) as pool:
        return pool.map(count_below, limits)
"""
        },
        {"count_primes_with_spawn_safe_worker", "count_primes_larger_inputs"},
    ),
    # Choosing fork does not get a notebook-defined worker past the spawn-safety check...
    "fork_context_notebook_worker": (
        {
            "count_primes_parallel": """
def count_below(n):
    return workers.count_primes(n)

def count_primes_parallel(limits, processes=2):
    with mp.get_context("fork").Pool(processes) as pool:
        return pool.map(count_below, limits)
"""
        },
        {"count_primes_with_spawn_safe_worker", "count_primes_larger_inputs"},
    ),
    # ... and costs nothing when the worker is spawn-safe anyway.
    "fork_context_module_worker": (
        {
            "count_primes_parallel": """
def count_primes_parallel(limits, processes=2):
    with mp.get_context("fork").Pool(processes) as pool:
        return pool.map(workers.count_primes, limits)
"""
        },
        set(),
    ),
}
# The %%writefile answer needs its function in a separate cell; see the fixture.
CALLBACKS_COUNT = """
from my_primes import count_below

def count_primes_parallel(limits, processes=2):
    with mp.Pool(processes) as pool:
        return pool.map(count_below, limits)
"""

# What the learner must be told, for one lost cell of each wrong answer.
MESSAGES = {
    "serial": ("pool_uses_several_processes", "notebook's own process"),
    "threads": ("pool_uses_several_processes", "threads"),
    "never_closed": ("pool_is_closed", "never closed"),
    "one_at_a_time": ("pool_uses_several_processes", "never at the same time"),
    "ordered_map": ("results_in_completion_order", "imap_unordered"),
    "swallowed_errors": ("worker_errors_are_reported", "Catch the exception"),
    "lambda_worker": ("count_primes_with_spawn_safe_worker", "lambda"),
    "notebook_worker": ("count_primes_with_spawn_safe_worker", "defined in the notebook"),
    "fork_context_notebook_worker": (
        "count_primes_with_spawn_safe_worker",
        "defined in the notebook",
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Generate the release, hand in every catalogued notebook and the blank one, autograde."""
    tag = new_tag("pool")
    course = Course.copy_of_repo(tmp_path_factory.mktemp("course"), env={TAG: tag})
    course.generate(ASSIGNMENT)
    for student, (answers, _) in CATALOGUE.items():
        folder = course.submit(ASSIGNMENT, student, NB, answers)
        if student == "callbacks":
            # The %%writefile cell stays in the answer cell; the import goes into a new cell.
            import nbformat

            path = folder / f"{NB}.ipynb"
            nb = nbformat.read(path, as_version=4)
            idx = next(
                i
                for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == "count_primes_parallel"
            )
            nb.cells.insert(idx + 1, nbformat.v4.new_code_cell(CALLBACKS_COUNT))
            nbformat.write(nb, path)
    course.submit(ASSIGNMENT, "blank", NB, reference=False)
    course.autograde(ASSIGNMENT)
    course.leftover = leftover_processes(tag)
    return course


def test_release_matches_source(tmp_path):
    """release/ in the repository is exactly what nbgrader generates from source/ now."""
    course = Course.copy_of_repo(tmp_path / "course")
    generated = course.generate(ASSIGNMENT)
    committed = ROOT / "release" / ASSIGNMENT
    assert release_drift(generated, committed) == [], (
        "release/ is out of date: run `make release` and commit it"
    )


def test_graded_cells_are_the_expected_ones(graded):
    assert set(graded.max_scores(ASSIGNMENT, NB)) == ALL


@pytest.mark.parametrize("student", list(CATALOGUE))
def test_catalogue_scores(graded, student):
    _, lost = CATALOGUE[student]
    maximum = graded.max_scores(ASSIGNMENT, NB)
    scores = graded.scores(ASSIGNMENT, student, NB)
    expected = {cell: (0.0 if cell in lost else points) for cell, points in maximum.items()}
    messages = graded.messages(ASSIGNMENT, student, NB)
    assert scores == expected, f"{student}: messages were {messages}"


def test_blank_release_scores_zero(graded):
    scores = graded.scores(ASSIGNMENT, "blank", NB)
    assert scores and all(score == 0 for score in scores.values()), scores


@pytest.mark.parametrize("student", list(MESSAGES))
def test_wrong_answers_are_told_what_to_fix(graded, student):
    cell, needle = MESSAGES[student]
    message = graded.messages(ASSIGNMENT, student, NB).get(cell, "")
    assert needle in message, f"{student}: the message for {cell} was {message!r}"


def test_no_stderr_in_graded_cells_of_correct_answers(graded):
    for student in ["reference", "executor", "callbacks"]:
        assert graded.messages(ASSIGNMENT, student, NB) == {}, student


def test_grading_leaves_no_process_behind(graded):
    assert graded.leftover == []
