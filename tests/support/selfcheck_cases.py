"""One way to state what a lesson's self-check must say to an answer: a table of ``Case`` rows.

Every ``tests/test_selfcheck_lesson_NN.py`` is a table of cases plus the answers they need: the
worked solution and a differently written correct answer (✅), the stub the notebook ships and
the classic wrong answers (❌, with the words of the advice that says what to fix). One test
function per module runs the table, one pytest id per row (``primes_in_pool-rejects-stub``)::

    CASES = [
        *accepts(lesson_00.check_primes_in_pool, solution, other_correct),
        rejects(lesson_00.check_primes_in_pool, stub, "your own process", "mp.Pool"),
    ]

    test_selfcheck = selfcheck_test(CASES)

The tables of the lessons look alike on purpose (``duplicates`` lists some as shape pairs): they
are the one form in which a self-check's expectations are written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["Case", "accepts", "params", "rejects", "selfcheck_test", "worked_solution"]


@dataclass(frozen=True)
class Case:
    """One answer given to one check, and what the check must say about it.

    ``check`` is a ``helpers.selfcheck.lesson_NN.check_*`` function, ``answer`` what the learner
    would pass it (usually a function). ``ok`` is the verdict the check must return and print
    (✅ or ❌ first); every string in ``says`` must stand in what it printed. ``timeout`` is passed
    on to the check when set (an answer that hangs); ``name`` replaces the answer's ``__name__``
    in the test id; ``then`` is called with the printed text for a further check;
    ``ignore_case`` compares ``says`` with the printed text in lower case.
    """

    check: Callable[..., bool]
    answer: Any
    ok: bool
    says: tuple[str, ...] = ()
    timeout: float | None = None
    name: str | None = None
    then: Callable[[str], None] | None = None
    ignore_case: bool = False

    @property
    def id(self) -> str:
        """``<exercise>-accepts|rejects-<answer>``, e.g. ``exit_codes-rejects-exit_codes_stub``."""
        exercise = self.check.__name__.removeprefix("check_")
        answer = self.name or getattr(self.answer, "__name__", repr(self.answer))
        return f"{exercise}-{'accepts' if self.ok else 'rejects'}-{answer}"

    def verify(self, capsys: pytest.CaptureFixture[str], *args: Any) -> str:
        """Run the check on the answer (``args`` follow the answer) and assert what it said."""
        options = {} if self.timeout is None else {"timeout": self.timeout}
        verdict = self.check(self.answer, *args, **options)
        out = capsys.readouterr().out
        assert verdict is self.ok, out
        assert out.startswith("✅" if self.ok else "❌"), out
        seen = out.lower() if self.ignore_case else out
        for part in self.says:
            assert (part.lower() if self.ignore_case else part) in seen, (
                f"{part!r} is not in what the check printed:\n{out}"
            )
        if self.then is not None:
            self.then(out)
        return out


def accepts(check: Callable[..., bool], *answers: Any, **options: Any) -> list[Case]:
    """Cases in which ``check`` must say ✅ (and return True) to each of ``answers``."""
    return [Case(check, answer, True, **options) for answer in answers]


def rejects(check: Callable[..., bool], answer: Any, *says: str, **options: Any) -> Case:
    """A case in which ``check`` must say ❌ (and return False) and print every one of ``says``."""
    return Case(check, answer, False, says, **options)


def params(cases: Iterable[Case]) -> list[Any]:
    """The cases as ``pytest.param`` values, each with its readable id."""
    return [pytest.param(case, id=case.id) for case in cases]


def selfcheck_test(cases: Iterable[Case], *fixtures: str) -> Callable[..., None]:
    """A lesson's one test: every case of its table, each under its own id. A test module
    collects it as ``test_selfcheck = selfcheck_test(CASES)``. The values of the pytest
    ``fixtures`` named (e.g. ``"address"``, a cluster's) follow each answer in the check's call."""

    @pytest.mark.parametrize("case", params(cases))
    def test_selfcheck(
        case: Case, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
    ) -> None:
        case.verify(capsys, *(request.getfixturevalue(name) for name in fixtures))

    return test_selfcheck


def worked_solution(lesson: str, name: str, names: dict[str, Any], **extra: Any) -> Any:
    """The function ``name`` exactly as lesson ``lesson``'s worked solution writes it.

    The solution is the ```` ```python ```` block that defines ``name`` in a markdown cell of
    ``notebooks/<lesson>.ipynb`` holding ``<summary>Solution</summary>``. It runs with the names
    the notebook would give it: ``names`` (a test module's ``globals()``: its imports) and
    ``extra`` (e.g. ``ctx``). So the test checks the text a learner opens, not a copy of it.
    """
    import nbformat

    path = Path(__file__).resolve().parents[2] / "notebooks" / f"{lesson}.ipynb"
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown" or "<summary>Solution</summary>" not in cell.source:
            continue
        for block in re.findall(r"```python\n(.*?)```", cell.source, re.S):
            if re.search(rf"^def {name}\(", block, re.M):
                namespace = {**names, **extra}
                exec(compile(block, f"{path.name}: solution of {name}", "exec"), namespace)
                solution = namespace[name]
                solution.__name__ = "worked_solution"
                return solution
    raise LookupError(f"{path.name} has no worked solution that defines {name}()")
