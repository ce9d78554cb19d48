"""Grading machinery: run learners' code safely, decide verdicts where that code cannot reach.

Who imports this: graded notebooks (their setup cells import :func:`run_bounded`, :func:`probe`
and :func:`describe_workers` from here), the course's tests and nbgrader (through
:mod:`helpers.grading.nbgrader_ext`). Learner code never needs anything else from this package.

The package, by job:

- :mod:`~helpers.grading.bounded`: :func:`run_bounded`, a forked, time-limited copy of the
  current process that runs one call of the learner's code and reports what happened
  (:class:`BoundedRun`): the result or error, captured output, worker processes, leftovers.
- :mod:`~helpers.grading.watchdog`: the watchdog that interrupts stuck learner code in a run.
- :mod:`~helpers.grading.sandbox`: the operating-system sandbox for one submission (bubblewrap
  on Linux: read-only course, hidden solutions and gradebook, private ``/tmp``, no network,
  process and memory limits, every process killed at the end).
- :mod:`~helpers.grading.runner`: runs *inside* the sandbox. It executes the learner's cells in
  a fresh ``python -I`` interpreter and serves :func:`run_bounded` calls for the checker.
- :mod:`~helpers.grading.remote`: the checker's side of that conversation: references to the
  learner's names (:class:`~helpers.grading.remote.LearnerRef`) and a restricted unpickler for
  what comes back.
- :mod:`~helpers.grading.checker`: the trusted process that runs the test cells and decides each
  verdict. Learner code never runs in it.
- :mod:`~helpers.grading.nbgrader_ext`: the nbgrader preprocessor (``TrustedExecute``) that puts
  the checker's verdicts into the autograded notebook.
- :mod:`~helpers.grading.assignments`: one module per assignment with its instruments and
  learner-facing explanations (``queue``, ``lock``).
"""

from __future__ import annotations

from helpers.grading.bounded import (
    BoundedRun,
    GraderInterrupt,
    count_worker_processes,
    describe_workers,
    hint_for,
    last_lines,
    probe,
    process_state,
    run_bounded,
)

__all__ = [
    "BoundedRun",
    "GraderInterrupt",
    "count_worker_processes",
    "describe_workers",
    "hint_for",
    "last_lines",
    "probe",
    "process_state",
    "run_bounded",
]
