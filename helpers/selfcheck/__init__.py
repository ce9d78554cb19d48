"""Self-checks for the exercises inside the lessons (not graded, for the learner's own feedback).

Who imports this: lesson notebooks only. Each lesson has its own module,
``helpers.selfcheck.lesson_NN``, with one ``check_<exercise>(...)`` function per exercise. A check
prints one line that starts with ``✅`` when the answer is right, or with ``❌`` followed by what
to fix; it never raises, so a learner's Run All keeps going, and it returns ``True`` or ``False``
so that the course's tests can drive it.

The checks run the learner's code the same way the graded tests do (``helpers.grading.run_bounded``:
in a separate, time-limited process), so a hang or a crash costs a message, never the kernel.
The steps the checks share (run, stop at the first problem, never raise) are in
:mod:`helpers.selfcheck.common`.
"""

from __future__ import annotations

__all__ = ["report"]


def report(problems: list[str], success: str) -> bool:
    """Print ``✅ success`` when ``problems`` is empty, else ``❌`` and each problem; return ok.

    >>> report([], "parallel_sum adds every number.")
    ✅ parallel_sum adds every number.
    True
    >>> report(["it returned 3, expected 6: add the partial sums"], "unused")
    ❌ it returned 3, expected 6: add the partial sums
    False
    """
    if not problems:
        print(f"✅ {success}")
        return True
    for problem in problems:
        print(f"❌ {problem}")
    return False
