"""Drive nbgrader on a temporary copy of the course, as an instructor would.

A :class:`Course` is a throw-away course directory with the repository's ``source/`` and
``nbgrader_config.py``. Tests generate the release, hand in notebooks for made-up students (the
reference answer, the blank release, catalogued wrong answers), autograde them all in one nbgrader
call, and read back per-cell scores and the messages the learner would see.

The catalogue of every assignment is data, in ``tests/assignments/<a>/``: :func:`load_spec` reads
its ``spec.toml`` and its answer files into a :class:`Spec`, and :class:`Catalogue` grades all of
its submissions (split between course copies autograded at the same time, as the spec says).
An answer that is the reference with a small change is stored as that change (an :class:`Edit`,
``<grade_id>.edit.toml``) and built from the source notebook's reference answer when the spec is
read. ``tests/test_assignments.py`` runs the same contract on every assignment found there.

:func:`run_tool` runs a program of the venv (nbgrader, mpcourse, ruff) the way the tests need it.
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from support.tools import run_tool

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = Path(__file__).resolve().parents[1] / "assignments"
SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
HIDDEN_MARKERS = re.compile(r"^\s*### (BEGIN|END) HIDDEN TESTS\s*$")


def nbgrader(
    *args: str, cwd: Path, timeout: float = 900, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the venv's nbgrader (see :func:`run_tool`)."""
    return run_tool("nbgrader", *args, cwd=cwd, timeout=timeout, env=env)


def strip_solution_markers(source: str) -> str:
    """The reference answer: a source cell's code without the BEGIN/END SOLUTION lines."""
    return "\n".join(line for line in source.splitlines() if not SOLUTION_MARKERS.match(line))


def reference_answers(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The reference solution of every answer cell of a source notebook, by grade_id."""
    answers = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            answers[meta["grade_id"]] = strip_solution_markers(cell.source)
    return answers


def release_drift(generated: Path, committed: Path) -> list[str]:
    """Files that differ between a freshly generated release folder and the committed one."""
    import filecmp

    cmp = filecmp.dircmp(generated, committed)
    drift = [*cmp.left_only, *cmp.right_only, *cmp.diff_files]
    drift += [
        name
        for name in cmp.common_files
        if (generated / name).read_bytes() != (committed / name).read_bytes()
    ]
    return sorted(set(drift))


class Course:
    """A temporary nbgrader course directory made from the repository."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.env = env or {}

    @classmethod
    def copy_of_repo(cls, dest: Path, env: dict[str, str] | None = None) -> Course:
        """A course made of the repository's source/ and nbgrader_config.py, in ``dest``."""
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copytree(ROOT / "source", dest / "source")
        shutil.copy(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
        return cls(dest, env)

    def clone(self, dest: Path, env: dict[str, str] | None = None) -> Course:
        """A copy of this course (source, release, gradebook) in ``dest``: what generating again
        would make, without starting nbgrader again."""
        shutil.copytree(self.root, dest)
        return type(self)(dest, self.env if env is None else env)

    # -- instructor steps -------------------------------------------------------------------
    def generate(self, assignment: str) -> Path:
        """``nbgrader generate_assignment``; returns the release folder."""
        result = nbgrader("generate_assignment", assignment, "--force", cwd=self.root, env=self.env)
        assert result.returncode == 0, (
            f"generate_assignment failed:\n{result.stdout}\n{result.stderr}"
        )
        return self.root / "release" / assignment

    def autograde(self, assignment: str) -> subprocess.CompletedProcess:
        """``nbgrader autograde`` every submission of ``assignment`` in one call."""
        result = nbgrader("autograde", assignment, "--force", cwd=self.root, env=self.env)
        assert result.returncode == 0, f"autograde failed:\n{result.stdout}\n{result.stderr}"
        return result

    # -- notebooks ----------------------------------------------------------------------------
    def source_notebook(self, assignment: str, notebook: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "source" / assignment / f"{notebook}.ipynb", as_version=4)

    def release_notebook(self, assignment: str, notebook: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "release" / assignment / f"{notebook}.ipynb", as_version=4)

    def reference_answers(self, assignment: str, notebook: str) -> dict[str, str]:
        """The reference solution of every answer cell, by grade_id."""
        return reference_answers(self.source_notebook(assignment, notebook))

    def submit(
        self,
        assignment: str,
        student: str,
        notebook: str,
        answers: dict[str, str] | None = None,
        *,
        reference: bool = True,
        new_cells: Iterable[tuple[str, str]] = (),
    ) -> Path:
        """Hand in the release notebook for ``student``.

        With ``reference`` (the default), every answer cell holds the reference solution, and
        ``answers`` (by grade_id) replaces some of them: that is how a wrong answer is made. With
        ``reference=False`` only ``answers`` is filled in and the rest stays blank. ``new_cells``
        are (grade_id, source) pairs: a code cell the learner added right after that cell.
        """
        nb = self.release_notebook(assignment, notebook)
        fill = dict(self.reference_answers(assignment, notebook)) if reference else {}
        fill.update(answers or {})
        unknown = set(answers or {}) - {
            c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
        }
        assert not unknown, f"no answer cells with grade_id {sorted(unknown)}"
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in fill and cell.metadata["nbgrader"].get("solution"):
                cell.source = fill[grade_id]
        for after, source in new_cells:
            ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
            assert after in ids, f"no cell with grade_id {after!r} to add a cell after"
            nb.cells.insert(ids.index(after) + 1, nbformat.v4.new_code_cell(source))
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{notebook}.ipynb")
        return folder

    # -- results ------------------------------------------------------------------------------
    def scores(self, assignment: str, student: str, notebook: str) -> dict[str, float]:
        """Autograded score of every graded test cell, by grade_id."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            nb = gb.find_submission_notebook(notebook, assignment, student)
            return {
                g.name: g.score
                for g in nb.grades
                if g.cell.cell_type == "code" and not g.needs_manual_grade
            }

    def max_scores(self, assignment: str, notebook: str) -> dict[str, float]:
        """The points of every graded test cell, from the source notebook's metadata."""
        out = {}
        for cell in self.source_notebook(assignment, notebook).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                out[meta["grade_id"]] = float(meta["points"])
        return out

    def messages(self, assignment: str, student: str, notebook: str) -> dict[str, str]:
        """What each failing test cell told the learner (its error output), by grade_id."""
        path = self.root / "autograded" / student / assignment / f"{notebook}.ipynb"
        nb = nbformat.read(path, as_version=4)
        found = {}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            texts = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    texts.append(f"{out.get('ename')}: {out.get('evalue')}")
                elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                    texts.append("stderr: " + out.get("text", ""))
            if grade_id and texts:
                found[grade_id] = "\n".join(texts)
        return found


# -- catalogues as data: tests/assignments/<a>/ -------------------------------------------------


WRITEFILE = "%%writefile "


class EditError(ValueError):
    """An :class:`Edit` does not fit the reference answer it changes (the message says where)."""


@dataclass
class Edit:
    """An answer stored as the reference with changes: ``answers/<folder>/<grade_id>.edit.toml``.

    ``why`` says what the change does; ``replace`` holds (old, new) pairs, applied in order to the
    reference answer (a %%writefile cell's module code, without the magic line). Each ``old`` must
    occur exactly once in the text it is applied to, indentation and line ends included.
    """

    path: Path
    why: str
    replace: list[tuple[str, str]]

    @classmethod
    def read(cls, path: Path) -> Edit:
        """Read an ``.edit.toml`` file: ``why = "..."`` and ``[[replace]]`` tables (old, new)."""
        where = f"{path.parent.name}/{path.name}"
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise EditError(f"{where}: not valid TOML: {exc}") from None
        tables = data.get("replace", [])
        if set(data) != {"why", "replace"} or not isinstance(tables, list):
            raise EditError(f"{where}: needs `why` and [[replace]] tables, and nothing else")
        if not isinstance(data["why"], str) or not data["why"].strip():
            raise EditError(f"{where}: `why` must say what the change does")
        pairs = []
        for k, table in enumerate(tables, 1):
            if set(table) != {"old", "new"}:
                raise EditError(f"{where}, [[replace]] #{k}: needs `old` and `new`, nothing else")
            pairs.append((str(table["old"]), str(table["new"])))
        if not pairs:
            raise EditError(f"{where}: no [[replace]] table")
        return cls(path, data["why"], pairs)

    def apply(self, reference: str) -> str:
        """The reference answer with every replacement made, or :class:`EditError`."""
        text = reference
        for k, (old, new) in enumerate(self.replace, 1):
            where = f"{self.path.parent.name}/{self.path.name}, [[replace]] #{k}"
            if not old:
                raise EditError(f"{where}: `old` is empty")
            if old == new:
                raise EditError(f"{where}: `old` and `new` are the same text")
            found = _line_numbers(text, old)
            if len(found) != 1:
                label = "reference" if k == 1 else f"reference after #1-#{k - 1}"
                raise EditError(f"{where}: {_not_once(text, old, found, label)}")
            text = text.replace(old, new)
        if text == reference:
            raise EditError(
                f"{self.path.parent.name}/{self.path.name}: the result is the reference"
            )
        return text


def _line_numbers(text: str, old: str) -> list[int]:
    """The 1-based line numbers at which ``old`` starts in ``text`` (overlaps included)."""
    starts, at = [], text.find(old)
    while at >= 0:
        starts.append(text.count("\n", 0, at) + 1)
        at = text.find(old, at + 1)
    return starts


def _not_once(text: str, old: str, found: list[int], label: str = "reference") -> str:
    """Why ``old`` does not name one place of ``text`` (the ``label``): where it occurs, or the
    lines nearest to it."""
    if found:
        lines = ", ".join(str(n) for n in found)
        return (
            f"`old` occurs {len(found)} times ({label} lines {lines}): make it longer, so that "
            "it names one place"
        )
    lines, want = text.splitlines(), old.splitlines()
    size = max(1, len(want))

    def likeness(i: int) -> float:
        return difflib.SequenceMatcher(
            None, "\n".join(want), "\n".join(lines[i : i + size])
        ).ratio()

    best = max(range(max(1, len(lines) - size + 1)), key=likeness)
    near = lines[best : best + size]
    message = f"`old` is not in the {label} answer."
    if [x.strip() for x in want] == [x.strip() for x in near]:
        message += (
            " It is there with other indentation or spacing (compare them character by character)."
        )
    diff = difflib.unified_diff(
        want, near, "old", f"{label} lines {best + 1}-{best + len(near)}", lineterm=""
    )
    return message + f" The nearest {label} lines:\n" + "\n".join(diff)


def edited_cell(edit: Edit, reference: str) -> str:
    """The code of the answer that ``edit`` makes of ``reference`` (a cell's reference answer).

    A %%writefile cell's magic line is left out (as in an answer file); the result ends with a
    line end, so an ``old`` that ends with one also matches the last line.
    """
    if reference.startswith(WRITEFILE):
        reference = reference.partition("\n")[2]
    return edit.apply(reference.rstrip("\n") + "\n")


@dataclass
class AnswerSet:
    """One folder of answers, ``tests/assignments/<a>/answers/<name>/``.

    ``cells`` maps an answer cell's grade_id to the source handed in (a %%writefile line put back
    in front of a module's code); ``edited`` maps the grade_ids of the cells built from an
    :class:`Edit` to their code (without the %%writefile line); ``new_cells`` are (grade_id,
    source) cells added after that cell; ``lose`` are graded cells that any student using this
    folder loses; ``problems`` are answer files that could not be read (an edit that does not fit).
    """

    name: str
    cells: dict[str, str]
    new_cells: list[tuple[str, str]] = field(default_factory=list)
    lose: set[str] = field(default_factory=set)
    edited: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class Student:
    """One submission of the catalogue, as its spec describes it."""

    name: str
    answers: list[str] = field(default_factory=list)
    lose: set[str] = field(default_factory=set)
    messages: list[tuple[str, str]] = field(default_factory=list)
    stuck: list[tuple[str, str]] = field(default_factory=list)
    blank: bool = False


BLANK = "blank"
_SPEC_KEYS = {
    "notebook",
    "graded_cells",
    "quiet",
    "blank_says",
    "modules_stay_in_sandbox",
    "writefile",
    "grading",
    "answers",
    "students",
}
_STUDENT_KEYS = {"answers", "lose", "messages", "stuck"}
_ANSWER_KEYS = {"writefile", "new_cells", "lose"}


def _check_keys(where: str, table: dict, allowed: set[str]) -> None:
    unknown = set(table) - allowed
    assert not unknown, f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(allowed)})"


@dataclass
class Spec:
    """An assignment's catalogue: ``tests/assignments/<a>/spec.toml`` and its answer files."""

    assignment: str
    notebook: str
    graded_cells: set[str]
    students: dict[str, Student]
    answer_sets: dict[str, AnswerSet]
    quiet: list[str]
    groups: list[list[str]]
    blank_says: str | None = None
    modules_stay_in_sandbox: bool = False
    writefile: dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return ASSIGNMENTS / self.assignment

    def answers_of(self, student: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """The answer cells ``student`` replaces (by grade_id) and the cells it adds."""
        cells: dict[str, str] = {}
        added: list[tuple[str, str]] = []
        for name in self.students[student].answers:
            answer_set = self.answer_sets[name]
            assert not answer_set.problems, "\n".join(answer_set.problems)
            twice = set(cells) & set(answer_set.cells)
            assert not twice, f"{student} has two answers for {sorted(twice)}"
            cells.update(answer_set.cells)
            added += answer_set.new_cells
        return cells, added

    def lost_by(self, student: str) -> set[str]:
        """The graded cells ``student`` must lose: its own and those of its answer folders."""
        record = self.students[student]
        lost = set(record.lose)
        for name in record.answers:
            lost |= self.answer_sets[name].lose
        return lost

    def problems(self) -> list[str]:
        """What is inconsistent in the spec, checked against the source notebook."""
        nb = nbformat.read(
            ROOT / "source" / self.assignment / f"{self.notebook}.ipynb", as_version=4
        )
        solution = {
            c.metadata["nbgrader"]["grade_id"]
            for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")
        }
        every_id = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
        found = []
        folders = {p.name for p in (self.folder / "answers").iterdir() if p.is_dir()}
        used = {name for s in self.students.values() for name in s.answers}
        found += [f"answers/{f}/ is used by no student" for f in sorted(folders - used)]
        for answer_set in self.answer_sets.values():
            found += answer_set.problems
            for cell in answer_set.cells:
                if cell not in solution:
                    found.append(f"answers/{answer_set.name}/{cell}.py: no answer cell {cell}")
            for after, _ in answer_set.new_cells:
                if after not in every_id:
                    found.append(f"answers/{answer_set.name}: no cell {after} to add a cell after")
        reference = reference_answers(nb)
        for cell, module in self.writefile.items():
            if cell not in solution:
                found.append(f"[writefile]: no answer cell {cell}")
            elif not reference[cell].startswith(f"{WRITEFILE}{module}\n"):
                found.append(f"[writefile]: the answer cell {cell} does not write {module}")
        for student, record in self.students.items():
            cells = self.lost_by(student) | {c for c, _ in record.messages + record.stuck}
            found += [f"{student}: {c} is not a graded cell" for c in cells - self.graded_cells]
            lost = self.lost_by(student)
            unlost = {c for c, _ in record.messages + record.stuck} - lost
            found += [f"{student}: a message for {c}, which it does not lose" for c in unlost]
            readable = not any(self.answer_sets[n].problems for n in record.answers)
            handed_in = {**reference, **self.answers_of(student)[0]} if readable else {}
            code_lines = {ln.strip() for code in handed_in.values() for ln in code.splitlines()}
            found += [
                f"{student}: the stuck line {line!r} is no line of the code it hands in"
                for _, line in record.stuck
                if line not in code_lines
            ]
        for student in self.quiet:
            if student not in self.students or self.lost_by(student):
                found.append(f"quiet: {student} is not a student with full marks")
        dealt = [s for group in self.groups for s in group]
        if sorted(dealt) != sorted([*self.students, BLANK]):
            found.append(f"[grading] deals out {sorted(dealt)}, not every student once")
        return found


def assignment_names() -> list[str]:
    """Every assignment with a catalogue: the folders of tests/assignments/ with a spec.toml."""
    return sorted(p.parent.name for p in ASSIGNMENTS.glob("*/spec.toml"))


def read_answer_set(
    folder: Path, table: dict, writefile: dict[str, str], reference: dict[str, str]
) -> AnswerSet:
    """Read one answer folder: ``<grade_id>.py`` files as they are, ``<grade_id>.edit.toml``
    files applied to ``reference`` (the source notebook's reference answers, by grade_id)."""
    _check_keys(f"answers.{folder.name}", table, _ANSWER_KEYS)
    modules = {**writefile, **table.get("writefile", {})}
    extra_files = {entry["file"]: entry["after"] for entry in table.get("new_cells", [])}
    assert folder.is_dir(), f"no answer folder {folder}"
    answers = AnswerSet(folder.name, {}, lose=set(table.get("lose", [])))
    codes = {
        p.stem: p.read_text() for p in sorted(folder.glob("*.py")) if p.name not in extra_files
    }
    for path in sorted(folder.glob("*.edit.toml")):
        cell = path.name.removesuffix(".edit.toml")
        where = f"answers/{folder.name}/{path.name}"
        if cell in codes:
            answers.problems.append(f"{where}: {cell}.py answers the same cell")
        elif cell not in reference:
            answers.problems.append(f"{where}: no answer cell {cell} in the source notebook")
        else:
            try:
                codes[cell] = answers.edited[cell] = edited_cell(Edit.read(path), reference[cell])
            except EditError as exc:
                answers.problems.append(f"answers/{exc}")
    for cell, code in codes.items():
        module = modules.get(cell)
        answers.cells[cell] = f"{WRITEFILE}{module}\n{code}" if module else code
    answers.new_cells = [
        (after, (folder / name).read_text()) for name, after in extra_files.items()
    ]
    return answers


def load_spec(assignment: str) -> Spec:
    """Read ``tests/assignments/<assignment>/spec.toml`` and the answer files it names."""
    folder = ASSIGNMENTS / assignment
    data = tomllib.loads((folder / "spec.toml").read_text())
    _check_keys(f"{assignment}/spec.toml", data, _SPEC_KEYS)
    writefile = data.get("writefile", {})
    students = {}
    for name, table in data.get("students", {}).items():
        _check_keys(f"students.{name}", table, _STUDENT_KEYS)
        assert name != BLANK, "the blank release is always handed in as 'blank'"
        students[name] = Student(
            name,
            list(table.get("answers", [])),
            set(table.get("lose", [])),
            [tuple(pair) for pair in table.get("messages", [])],
            [tuple(pair) for pair in table.get("stuck", [])],
        )
    notebook = data.get("notebook", assignment)
    source = nbformat.read(ROOT / "source" / assignment / f"{notebook}.ipynb", as_version=4)
    reference = reference_answers(source)
    tables = data.get("answers", {})
    names = {n for s in students.values() for n in s.answers} | set(tables)
    answer_sets = {
        n: read_answer_set(folder / "answers" / n, tables.get(n, {}), writefile, reference)
        for n in names
    }
    grading = data.get("grading", {})
    _check_keys(f"{assignment}: [grading]", grading, {"groups", "copies", "first"})
    if "groups" in grading:
        groups = [list(g) for g in grading["groups"]]
    else:
        copies = int(grading.get("copies", 1))
        everyone = [*students, BLANK]
        first = list(grading.get("first", []))
        order = first + [s for s in everyone if s not in first]
        groups = [order[i::copies] for i in range(copies)]
    return Spec(
        assignment=assignment,
        notebook=notebook,
        graded_cells=set(data["graded_cells"]),
        students=students,
        answer_sets=answer_sets,
        quiet=list(data.get("quiet", ["reference"])),
        groups=groups,
        blank_says=data.get("blank_says"),
        modules_stay_in_sandbox=bool(data.get("modules_stay_in_sandbox", False)),
        writefile=dict(writefile),
    )


def _each(step: Callable[[Course], object], courses: list[Course]) -> None:
    """Run ``step`` on every course at the same time (each has its own gradebook)."""
    with ThreadPoolExecutor(len(courses)) as pool:
        list(pool.map(step, courses))


class Catalogue:
    """Every submission of a :class:`Spec`, graded in course copies (one per group of students).

    :meth:`generate` makes the copies and their releases; :meth:`grade` hands in every student and
    the blank release, and autogrades the copies at the same time. Scores and messages are then
    looked up by student.
    """

    def __init__(self, spec: Spec, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.spec = spec
        self.workdir = workdir
        self.env = env or {}
        self.courses: list[Course] = []
        self.home: dict[str, Course] = {}
        self.leftover: list[str] = []  # processes found alive after grading (set by the caller)

    def generate(self) -> None:
        """A course copy per group, each with the release generated (once, then copied)."""
        first = Course.copy_of_repo(self.workdir / "course0", env=self.env)
        first.generate(self.spec.assignment)
        self.courses = [first] + [
            first.clone(self.workdir / f"course{i}") for i in range(1, len(self.spec.groups))
        ]
        self.home = {
            student: course
            for course, group in zip(self.courses, self.spec.groups, strict=True)
            for student in group
        }

    def grade(self) -> None:
        """Hand in every student (and the blank release) to its copy; autograde all copies."""
        a, nb = self.spec.assignment, self.spec.notebook
        for student, course in self.home.items():
            if student == BLANK:
                course.submit(a, student, nb, reference=False)
            else:
                cells, added = self.spec.answers_of(student)
                course.submit(a, student, nb, cells, new_cells=added)
        _each(lambda course: course.autograde(a), self.courses)

    def release(self) -> Path:
        return self.courses[0].root / "release" / self.spec.assignment

    def course_of(self, student: str) -> Course:
        return self.home[student]

    def max_scores(self) -> dict[str, float]:
        return self.courses[0].max_scores(self.spec.assignment, self.spec.notebook)

    def scores(self, student: str) -> dict[str, float]:
        return self.home[student].scores(self.spec.assignment, student, self.spec.notebook)

    def messages(self, student: str) -> dict[str, str]:
        return self.home[student].messages(self.spec.assignment, student, self.spec.notebook)
