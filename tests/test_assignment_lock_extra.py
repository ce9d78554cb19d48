"""The lock assignment's own checks, beyond the contract every assignment gets in
tests/test_assignments.py (its catalogue is tests/assignments/lock/).

The race behind exercise 1 must be deterministic: a deposit without the lock must lose updates on
every run, a locked one never, and a lock held around the whole loop must never interleave. The
tests call the grading-side check directly, 20 times in a row for each. The released stubs of the
%%writefile cells must still write a module whose function raises NotImplementedError.
"""

from __future__ import annotations

import sys
import uuid

import nbformat
import pytest
from conftest import ROOT
from support.nbgrader_harness import ASSIGNMENTS, load_spec

from helpers.grading import run_bounded
from helpers.grading.assignments.lock import deposit_race

pytestmark = pytest.mark.timeout(900)

ASSIGNMENT = "lock"
SPEC = load_spec(ASSIGNMENT)
NB = SPEC.notebook
MODULES = SPEC.writefile  # answer cell -> the module its %%writefile line writes


def test_source_holds_only_the_notebook():
    """Any other file in source/lock/ would be released, and overwrite learners' files."""
    assert sorted(p.name for p in (ROOT / "source" / ASSIGNMENT).iterdir()) == ["lock.ipynb"]


def test_the_writefile_cells_are_the_expected_ones():
    assert MODULES == {
        "deposit": "bank.py",
        "run_with_slot": "limited.py",
        "wait_for_start": "starting.py",
    }


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


# --- the race is deterministic ---------------------------------------------------------------------

RUNS = 20


@pytest.fixture(scope="module")
def depositors(tmp_path_factory):
    """An importable module of deposit functions (the race's children must import them)."""
    folder = tmp_path_factory.mktemp("depositors")
    name = f"lock_depositors_{uuid.uuid4().hex[:8]}"
    (folder / f"{name}.py").write_text(
        (ASSIGNMENTS / ASSIGNMENT / "race_depositors.py").read_text()
    )
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
