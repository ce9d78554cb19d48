"""One contract for every graded assignment, graded end to end by nbgrader in course copies.

Every folder ``tests/assignments/<a>/`` with a ``spec.toml`` is an assignment's catalogue of
submissions: the reference answer, the blank release, other correct answers written differently,
and the classic wrong answers, as answer files (``answers/<folder>/<grade_id>.py``) or as edits of
the reference answer (``answers/<folder>/<grade_id>.edit.toml``), all linted by ruff. Adding a
folder gives a new assignment the whole contract:

- the committed release/ is what nbgrader generates from source/ now;
- the graded cells are the ones the spec names;
- each student gets full marks in every graded cell except those it must lose (0 there);
- the blank release scores 0 (and, where the spec says so, every cell says why);
- each lost mark named in the spec comes with a message that says what to fix, and a stuck
  submission is shown the line it was waiting at;
- correct answers leave no error and nothing on stderr in any graded cell;
- (optional) %%writefile modules are written in the grading sandbox, never in the course;
- grading leaves no process behind.

Each assignment's catalogue is graded once, on one xdist worker (``--dist loadgroup``, a group per
assignment), in the course copies its spec asks for, autograded at the same time. Checks that
belong to one assignment only live in ``tests/test_assignment_<a>_extra.py``.
"""

from __future__ import annotations

import pytest
from conftest import ROOT, TAG, leftover_processes, new_tag
from support.nbgrader_harness import (
    ASSIGNMENTS,
    Catalogue,
    assignment_names,
    load_spec,
    read_answer_set,
    release_drift,
)
from support.tools import run_tool

SPECS = {name: load_spec(name) for name in assignment_names()}


def _marks(name: str) -> list[pytest.MarkDecorator]:
    """Grading an assignment's catalogue takes minutes on a busy two-core machine."""
    return [
        pytest.mark.slow,
        pytest.mark.xdist_group(f"assignment_{name}"),
        pytest.mark.timeout(900),
    ]


def by_assignment(select=lambda spec: True) -> list:
    return [pytest.param(n, id=n, marks=_marks(n)) for n, spec in SPECS.items() if select(spec)]


def by_student(pick) -> list:
    """Parameters (assignment, *values) for every value ``pick(spec)`` yields."""
    params = []
    for name, spec in SPECS.items():
        for values in pick(spec):
            values = values if isinstance(values, tuple) else (values,)
            ident = "-".join([name, *(str(v) for v in values[:2])])
            params.append(pytest.param(name, *values, id=ident, marks=_marks(name)))
    return params


class _Once:
    """Each assignment's catalogue, generated and graded at most once per test process."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.catalogues: dict[str, Catalogue] = {}
        self.failed: dict[str, BaseException] = {}
        self.tags: dict[str, str] = {}
        self.done: set[str] = set()

    def _step(self, name: str, key: str, step) -> None:
        if (name, key) in self.failed:
            raise RuntimeError(f"{key} of {name} failed before") from self.failed[name, key]
        try:
            step()
        except BaseException as exc:
            self.failed[name, key] = exc
            raise

    def generated(self, name: str) -> Catalogue:
        if name not in self.catalogues:
            self.tags[name] = tag = new_tag(name)
            catalogue = Catalogue(SPECS[name], self.factory.mktemp(name), env={TAG: tag})
            self._step(name, "generate", catalogue.generate)
            self.catalogues[name] = catalogue
        return self.catalogues[name]

    def graded(self, name: str) -> Catalogue:
        catalogue = self.generated(name)
        if name not in self.done:
            self._step(name, "autograde", catalogue.grade)
            catalogue.leftover = leftover_processes(self.tags[name])
            self.done.add(name)
        return catalogue


@pytest.fixture(scope="module")
def catalogues(tmp_path_factory) -> _Once:
    return _Once(tmp_path_factory)


# -- the spec itself (fast) ----------------------------------------------------------------------


def test_every_assignment_has_a_catalogue():
    """Each assignment in source/ has a folder here (an assignment without one is untested)."""
    assignments = sorted(p.parent.name for p in (ROOT / "source").glob("*/*.ipynb"))
    assert sorted(SPECS) == assignments


@pytest.mark.parametrize("name", list(SPECS))
def test_spec_is_consistent(name):
    """Answer files match answer cells, every edit fits its reference answer and changes it,
    every folder is used, cells named are graded cells, correct answers lose nothing, and the
    copies grade every student once."""
    assert SPECS[name].problems() == []


REFERENCE = """def run(tasks, workers):
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    return tasks
"""


def test_spec_is_consistent_names_a_stuck_line_the_student_never_hands_in():
    """A stuck line that is not in the student's code (the reference moved on) is a spec problem."""
    spec = load_spec("queue")
    student = next(name for name, record in spec.students.items() if record.stuck)
    cell, line = spec.students[student].stuck[0]
    assert spec.problems() == []
    moved = line + "  # a line the reference no longer has"
    spec.students[student].stuck = [(cell, moved)]
    assert [p for p in spec.problems() if "stuck line" in p] == [
        f"{student}: the stuck line {moved!r} is no line of the code it hands in"
    ]


@pytest.mark.parametrize(
    "old, says",
    [
        (
            "    for w in workers:\n        w.join()\n",
            "`old` is not in the reference answer. The nearest reference lines:\n"
            "--- old\n+++ reference lines 4-5\n",
        ),
        ("  for w in workers:\n      w.join(timeout=30)\n", "other indentation or spacing"),
        ("    for w in workers:\n", "`old` occurs 2 times (reference lines 2, 4)"),
    ],
)
def test_spec_is_consistent_names_an_edit_that_no_longer_fits(tmp_path, old, says):
    """An edit whose `old` text is not in the reference answer exactly once is a problem of the
    spec that names the answer file and shows where the text is, or the nearest lines."""
    folder = tmp_path / "never_joined"
    folder.mkdir()
    (folder / "run.edit.toml").write_text(
        f'why = "never joined"\n[[replace]]\nold = """{old}"""\nnew = ""\n'
    )
    answers = read_answer_set(folder, {}, {}, {"run": REFERENCE})
    assert answers.cells == {}
    [problem] = answers.problems
    assert problem.startswith("answers/never_joined/run.edit.toml, [[replace]] #1: "), problem
    assert says in problem, problem


def test_an_edit_is_applied_to_the_reference_module_code(tmp_path):
    """Replacements apply in order; a %%writefile cell's magic line is put back from the spec."""
    folder = tmp_path / "quick"
    folder.mkdir()
    (folder / "run.edit.toml").write_text(
        'why = "joined without a time limit, twice"\n'
        '[[replace]]\nold = "w.join(timeout=30)"\nnew = "w.join()"\n'
        '[[replace]]\nold = "w.join()"\nnew = "w.join()\\n        w.join()"\n'
    )
    answers = read_answer_set(
        folder, {}, {"run": "m.py"}, {"run": "%%writefile m.py\n" + REFERENCE}
    )
    expected = REFERENCE.replace("w.join(timeout=30)", "w.join()\n        w.join()")
    assert answers.problems == []
    assert answers.edited == {"run": expected}
    assert answers.cells == {"run": "%%writefile m.py\n" + expected}


EDITED = [
    pytest.param(name, folder, cell, id=f"{name}-{folder}-{cell}")
    for name, spec in SPECS.items()
    for folder, answers in sorted(spec.answer_sets.items())
    for cell in sorted(answers.edited)
]


@pytest.mark.parametrize("name, folder, cell", EDITED)
def test_edited_answers_pass_lint(name, folder, cell):
    """An answer built from an edit is linted as its answer file would be (the assignment's
    ruff.toml names the notebook's setup names)."""
    code = SPECS[name].answer_sets[folder].edited[cell]
    config = ASSIGNMENTS / name / "ruff.toml"
    args = ["check", "--config", str(config), "--stdin-filename", f"{folder}/{cell}.py", "-"]
    done = run_tool("ruff", *args, cwd=ROOT, timeout=60, stdin=code)
    assert done.returncode == 0, f"{done.stdout}{done.stderr}\n{code}"


# -- the nbgrader round trip -------------------------------------------------------------------


@pytest.mark.parametrize("name", by_assignment())
def test_release_matches_source(catalogues, name):
    """release/ in the repository is exactly what nbgrader generates from source/ now."""
    generated = catalogues.generated(name).release()
    assert release_drift(generated, ROOT / "release" / name) == [], (
        "release/ is out of date: run `make release` and commit it"
    )


@pytest.mark.parametrize("name", by_assignment())
def test_graded_cells_are_the_expected_ones(catalogues, name):
    assert set(catalogues.graded(name).max_scores()) == SPECS[name].graded_cells


@pytest.mark.parametrize("name, student", by_student(lambda spec: list(spec.students)))
def test_catalogue_scores(catalogues, name, student):
    graded = catalogues.graded(name)
    lost = SPECS[name].lost_by(student)
    expected = {cell: (0.0 if cell in lost else pts) for cell, pts in graded.max_scores().items()}
    assert graded.scores(student) == expected, (
        f"{student}: messages were {graded.messages(student)}"
    )


@pytest.mark.parametrize("name", by_assignment())
def test_blank_release_scores_zero(catalogues, name):
    graded = catalogues.graded(name)
    scores = graded.scores("blank")
    assert scores and all(score == 0 for score in scores.values()), scores
    says = SPECS[name].blank_says
    if says:
        messages = graded.messages("blank")
        assert set(messages) == SPECS[name].graded_cells
        assert all(says in text for text in messages.values()), messages


@pytest.mark.parametrize(
    "name, student, cell, phrase",
    by_student(lambda spec: [(s, c, p) for s, r in spec.students.items() for c, p in r.messages]),
)
def test_wrong_answers_are_told_what_to_fix(catalogues, name, student, cell, phrase):
    message = catalogues.graded(name).messages(student).get(cell, "")
    assert phrase in message, f"{student}: the message for {cell} was {message!r}"


@pytest.mark.parametrize(
    "name, student, cell, line",
    by_student(lambda spec: [(s, c, ln) for s, r in spec.students.items() for c, ln in r.stuck]),
)
def test_stuck_submissions_show_where_they_waited(catalogues, name, student, cell, line):
    message = catalogues.graded(name).messages(student).get(cell, "")
    assert "did not finish" in message and f"waiting at this line:\n    {line}" in message, (
        f"{student}: the message for {cell} was {message!r}"
    )


@pytest.mark.parametrize("name, student", by_student(lambda spec: spec.quiet))
def test_no_stderr_in_graded_cells_of_correct_answers(catalogues, name, student):
    assert catalogues.graded(name).messages(student) == {}, student


@pytest.mark.parametrize("name", by_assignment(lambda spec: spec.modules_stay_in_sandbox))
def test_modules_are_written_in_the_sandbox_not_the_course(catalogues, name):
    """The %%writefile cells wrote their modules inside the grading sandbox, where the children
    found them (the reference got full marks); nothing of the learner's lands in the course."""
    from helpers.grading.sandbox import sandbox_status

    course = catalogues.graded(name).course_of("reference")
    folder = course.root / "autograded" / "reference" / name
    modules = SPECS[name].writefile.values()
    assert modules, "the spec names no %%writefile module"
    if sandbox_status().isolated:
        for module in modules:
            assert not (folder / module).exists(), module
    for module in modules:
        assert not (course.root / "source" / name / module).exists(), module


@pytest.mark.parametrize("name", by_assignment())
def test_grading_leaves_no_process_behind(catalogues, name):
    assert catalogues.graded(name).leftover == []
