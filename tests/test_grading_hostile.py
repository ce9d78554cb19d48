"""Hostile and careless submissions, graded for real: no trick gains a mark.

Each submission below is the blank release or the reference answer with cells added that try to
forge a pass, read the solutions, change the course, outlive grading or exhaust the machine. One
``nbgrader autograde`` call per course copy (two copies, graded at the same time) grades them
all, next to an honest reference submission. Expected:
every submission scores what its honest content deserves (a blank notebook with a trick scores 0),
no course file changes, no process survives, and the honest reference keeps full marks.
"""

from __future__ import annotations

import hashlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, TAG, leftover_processes, new_tag
from support.attacks import detached_grandchild, fork_bomb
from support.nbgrader_harness import Course, nbgrader

from helpers.grading.sandbox import sandbox_status

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("grading_hostile"),
    pytest.mark.timeout(900),
]

ASSIGNMENT = NB = "pool"
# Grading is mostly waiting (sandboxes, sleeping probes, stopped tricks): two course copies are
# autograded at the same time, each with its own gradebook. Not more: the busier the machine, the
# coarser the sandbox observer's view (see remote._check_records).
COPIES = 2
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
PARALLEL_MAP_CELLS = {"pool_results_in_order", "pool_uses_several_processes", "pool_is_closed"}

# --- the tricks (cells added to a submission; COURSE is replaced by the course's path) ----------

FAKE_RUN_BOUNDED = """
class _AlwaysFine:
    ok = True
    pid = -1
    max_children = 9
    unclosed_pools = leftover_processes = 0
    stdout = stderr = ""
    def value_or_fail(self):
        return [9, 1, 4]
def run_bounded(*args, **kwargs):
    return _AlwaysFine()
def processes_used(records):
    return {1, 2}
def overlapping_pairs(records):
    return [(0, 1)]
def describe_workers(*args):
    return ""
"""

SHADOW_BUILTINS = """
import builtins
builtins.AssertionError = type("AssertionError", (Exception,), {})
builtins.isinstance = lambda *args: True
builtins.all = lambda *args: True
builtins.sorted = lambda x, **k: list(x)
"""

IPYTHON_TRANSFORMERS = '''
import ast
ip = get_ipython()
def _skip_tests(lines):
    return ["pass\\n"] if lines and lines[0].startswith('"""Check that') else lines
ip.input_transformers_cleanup.append(_skip_tests)
class _NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
ip.ast_transformers.append(_NoAsserts())
'''

READ_SOLUTIONS = """
import glob, json, os
from pathlib import Path
import helpers
stolen = []
roots = [COURSE, str(Path(helpers.__file__).resolve().parents[1]), os.path.abspath("../../..")]
for root in roots:
    for path in glob.glob(root + "/source/pool/*.ipynb") + glob.glob(root + "/autograded/*/pool/*.ipynb"):
        try:
            cells = json.load(open(path))["cells"]
        except OSError:
            continue
        for cell in cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution"):
                exec("".join(cell["source"]), globals())
                stolen.append(path)
    try:
        stolen.append(open(root + "/gradebook.db", "rb").read(16))
    except OSError:
        pass
print("stolen:", len(stolen))
"""

REWRITE_COURSE = """
import site, sys
from pathlib import Path
import helpers
targets = [
    Path(helpers.__file__).parent / "grading" / "bounded.py",
    Path(COURSE) / "nbgrader_config.py",
    Path(COURSE) / "source" / "pool" / "pool.ipynb",
]
for folder in site.getsitepackages():
    targets.append(Path(folder) / "zz_mpcourse_hack.pth")
for target in targets:
    try:
        with open(target, "a") as f:
            f.write("\\n# changed by a submission\\n")
        print("written:", target)
    except OSError as exc:
        print("refused:", target, exc.strerror)
"""

DETACHED_CHILD = detached_grandchild(600)

OS_EXIT = "import os\nos._exit(0)\n"

SEGFAULT = "import ctypes\nctypes.string_at(0)\n"

HANG_IGNORING_ALARM = """
import signal
signal.signal(signal.SIGALRM, signal.SIG_IGN)
while True:
    pass
"""

FORK_BOMB = fork_bomb(100_000, 20)

MEMORY_HOG = """
try:
    hog = bytearray(64 * 2**30)
except MemoryError:
    print("64 GiB refused")
"""

STDERR_NOISE = """
import os, sys
print("a warning of my own", file=sys.stderr)
os.write(2, b"raw noise on fd 2\\n")
"""

NOISY_PARALLEL_MAP = """
import sys
def parallel_map(func, items, processes=2):
    print("noise from parallel_map", file=sys.stderr)
    with mp.Pool(processes) as pool:
        return pool.map(func, items)
"""

POOL_500 = """
def parallel_map(func, items, processes=2):
    with mp.Pool(500) as pool:
        return pool.map(func, items)
"""

FORGED_RECORDS = """
import time
from helpers.grading import probe
from helpers.instruments.timeline import TaskRecord
def parallel_map(func, items, processes=2):
    if getattr(func, "__name__", "") != "probe":
        return [func(x) for x in items]
    now = time.time()
    return [TaskRecord(x, x * 10, 40_000 + i % 2, 1, now, now + x) for i, x in enumerate(items)]
"""

# student: (base, cells added after the setup cell, answers replaced, cells that lose their marks)
CATALOGUE = {
    "reference": ("reference", [], {}, set()),
    "rebinds_test_names": ("blank", [FAKE_RUN_BOUNDED], {}, ALL),
    "shadows_builtins": ("blank", [SHADOW_BUILTINS], {}, ALL),
    "ipython_transformers": ("blank", [IPYTHON_TRANSFORMERS], {}, ALL),
    "reads_solutions": ("blank", [READ_SOLUTIONS], {}, ALL),
    "rewrites_course": ("blank", [REWRITE_COURSE], {}, ALL),
    "detached_child": ("reference", [DETACHED_CHILD], {}, set()),
    "os_exit_blank": ("blank", [OS_EXIT], {}, ALL),
    "os_exit_reference": ("reference", [OS_EXIT], {}, set()),
    "segfault_reference": ("reference", [SEGFAULT], {}, set()),
    "hang_reference": ("reference", [HANG_IGNORING_ALARM], {}, set()),
    "fork_bomb": ("blank", [FORK_BOMB], {}, ALL),
    "memory_hog_reference": ("reference", [MEMORY_HOG], {}, set()),
    "stderr_noise_reference": (
        "reference",
        [STDERR_NOISE],
        {"parallel_map": NOISY_PARALLEL_MAP},
        set(),
    ),
    "pool_500": ("reference", [], {"parallel_map": POOL_500}, PARALLEL_MAP_CELLS),
    "forged_records": (
        "blank",
        [],
        {"parallel_map": FORGED_RECORDS},
        ALL - {"pool_results_in_order"},
    ),
}


def _digest(paths: list[Path]) -> dict[str, str]:
    found = {}
    for top in paths:
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts:
                continue
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


MARK = "\n# changed by a submission\n"


def _marked(folder: Path) -> list[str]:
    """Files below ``folder`` that carry the rewriting trick's mark."""
    return sorted(str(p) for p in folder.rglob("*.py") if MARK in p.read_text(errors="replace"))


def _site_hacks() -> list[Path]:
    import site

    return [Path(p) / "zz_mpcourse_hack.pth" for p in site.getsitepackages()]


def _hand_in(course: Course, student: str) -> None:
    base, cells, answers, _ = CATALOGUE[student]
    folder = course.submit(ASSIGNMENT, student, NB, answers, reference=(base == "reference"))
    path = folder / f"{NB}.ipynb"
    nb = nbformat.read(path, as_version=4)
    setup = next(
        i
        for i, c in enumerate(nb.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == "setup"
    )
    for offset, source in enumerate(cells, start=1):
        source = source.replace("COURSE", repr(str(course.root)))
        nb.cells.insert(setup + offset, nbformat.v4.new_code_cell(source))
    nbformat.write(nb, path)


class Graded:
    """The graded class, split over the course copies that were autograded at the same time
    (less wall time: many tricks mostly wait for a time limit)."""

    def __init__(self, courses: list[Course], where: dict[str, Course]) -> None:
        self.courses = courses
        self.where = where
        self.changed: list[str] = []
        self.hacks: list[Path] = []
        self.leftover: list[str] = []
        self.results: list[object] = []

    def root_of(self, student: str) -> Path:
        return self.where[student].root

    def max_scores(self, assignment: str, notebook: str) -> dict[str, float]:
        return self.courses[0].max_scores(assignment, notebook)

    def scores(self, assignment: str, student: str, notebook: str) -> dict[str, float]:
        return self.where[student].scores(assignment, student, notebook)

    def messages(self, assignment: str, student: str, notebook: str) -> dict[str, str]:
        return self.where[student].messages(assignment, student, notebook)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Hand in every hostile submission, then autograde them, in COPIES course copies at once."""
    tag = new_tag("hostile")
    students = [*CATALOGUE, "malformed", "misnamed"]
    first = Course.copy_of_repo(tmp_path_factory.mktemp("course"), env={TAG: tag})
    first.generate(ASSIGNMENT)
    courses, where = [], {}
    for i in range(COPIES):
        course = first if i == 0 else first.clone(tmp_path_factory.mktemp("course") / "course")
        for student in students[i::COPIES]:
            where[student] = course
            if student == "malformed":  # a notebook that is not JSON
                broken = course.root / "submitted" / "malformed" / ASSIGNMENT
                broken.mkdir(parents=True)
                (broken / f"{NB}.ipynb").write_text("this is not a notebook {")
            elif student == "misnamed":  # a notebook under the wrong name
                misnamed = course.submit(ASSIGNMENT, "misnamed", NB)
                (misnamed / f"{NB}.ipynb").rename(misnamed / "Pool (1).ipynb")
            else:
                _hand_in(course, student)
        courses.append(course)

    watched = [path for c in courses for path in (c.root / "source", c.root / "nbgrader_config.py")]
    before = _digest(watched)

    def autograde(course: Course):
        return nbgrader(
            "autograde",
            ASSIGNMENT,
            "--force",
            "--TrustedExecute.timeout=20",
            cwd=course.root,
            env={TAG: tag},
        )

    with ThreadPoolExecutor(len(courses)) as pool:
        results = list(pool.map(autograde, courses))
    after = _digest(watched)
    graded = Graded(courses, where)
    graded.changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    # The installed package is shared with the rest of the repository: look for the trick's
    # own mark in it (other edits to it are not the submission's), and undo only that.
    graded.changed += _marked(ROOT / "helpers")
    graded.hacks = [p for p in _site_hacks() if p.exists()]
    for path in _marked(ROOT / "helpers"):
        text = Path(path).read_text().replace(MARK, "")
        Path(path).write_text(text)
    for hack in graded.hacks:
        hack.unlink()
    graded.results = results
    graded.leftover = leftover_processes(tag, grace=10)
    return graded


def test_grading_is_sandboxed_where_required():
    status = sandbox_status()
    if os.environ.get("MPCOURSE_REQUIRE_SANDBOX") == "1":
        assert status.isolated, status.warning()
    if not status.isolated:
        pytest.skip(status.warning())


@pytest.mark.parametrize("student", list(CATALOGUE))
def test_no_trick_gains_a_mark(graded, student):
    _, _, _, lost = CATALOGUE[student]
    maximum = graded.max_scores(ASSIGNMENT, NB)
    assert set(maximum) == ALL
    scores = graded.scores(ASSIGNMENT, student, NB)
    expected = {cell: (0.0 if cell in lost else points) for cell, points in maximum.items()}
    assert scores == expected, f"{student}: {graded.messages(ASSIGNMENT, student, NB)}"


def test_broken_hand_ins_score_zero_and_the_rest_are_graded(graded):
    for student in ["malformed", "misnamed"]:
        # nbgrader records zeros for a missing notebook, and nothing for one it cannot read.
        scores = graded.scores(ASSIGNMENT, student, NB)
        assert all(s == 0 for s in scores.values()), (student, scores)
    assert sum(graded.scores(ASSIGNMENT, "reference", NB).values()) == 10


def test_course_files_are_unchanged(graded):
    if not sandbox_status().isolated:
        pytest.skip("without a sandbox the learner's code can write the course's files")
    assert graded.changed == [], "a submission changed course files"
    assert graded.hacks == [], "a submission planted a .pth file in site-packages"


def test_no_process_outlives_grading(graded):
    assert graded.leftover == []


def test_graded_cells_never_show_stderr(graded):
    for student in ["reference", "stderr_noise_reference", "detached_child"]:
        assert graded.messages(ASSIGNMENT, student, NB) == {}, student


def test_the_forged_records_are_named(graded):
    message = graded.messages(ASSIGNMENT, "forged_records", NB)["pool_uses_several_processes"]
    assert "never ran" in message


def test_a_stopped_cell_is_explained_in_the_autograded_notebook(graded):
    path = (
        graded.root_of("os_exit_reference")
        / "autograded"
        / "os_exit_reference"
        / ASSIGNMENT
        / f"{NB}.ipynb"
    )
    nb = nbformat.read(path, as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert any("ended the grader's process" in e["evalue"] for e in errors)


def test_the_sandbox_hides_solutions_and_course_files(graded):
    if not sandbox_status().isolated:
        pytest.skip("no sandbox here")
    path = (
        graded.root_of("reads_solutions")
        / "autograded"
        / "reads_solutions"
        / ASSIGNMENT
        / f"{NB}.ipynb"
    )
    text = path.read_text()
    assert "stolen: 0" in text
    path = (
        graded.root_of("rewrites_course")
        / "autograded"
        / "rewrites_course"
        / ASSIGNMENT
        / f"{NB}.ipynb"
    )
    text = path.read_text()
    # The course folder is an empty, private tmpfs in the sandbox: writing there changes nothing
    # outside. The package and site-packages are mounted read-only: every write is refused.
    assert "refused:" in text and "bounded.py Read-only file system" in text
    assert "zz_mpcourse_hack.pth Read-only file system" in text


if __name__ == "__main__":  # pragma: no cover - a quick manual run
    sys.exit(pytest.main([__file__, "-q"]))
