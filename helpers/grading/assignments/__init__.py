"""One module per graded assignment: its instruments (run in the sandbox) and its explanations.

Who imports this: the graded notebooks' setup cells (``from helpers.grading.assignments.queue
import ...``) and the course's tests. The pool assignment needs nothing beyond
:mod:`helpers.grading` itself. :mod:`~helpers.grading.assignments.common` holds the steps the
instruments share (start a group of processes, collect their reports, stop them).
"""

__all__ = []
