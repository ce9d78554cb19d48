"""nbgrader configuration for the multiprocessing course (run nbgrader from this folder)."""

import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

HERE = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "multiprocessing-course"

# Each cell gets 60 s. The graded tests bound their own waits well below this (helpers.grading
# runs learners' code with a 20 s limit), so a hang costs a failed test, never the notebook.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Kernels that nbgrader starts (and the worker processes they spawn) must import `helpers` even
# when the course was not pip-installed into the grading environment: put the course root on
# PYTHONPATH. Spawned children inherit the environment, so they find it too.
_paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
if str(HERE) not in _paths:
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), *_paths])

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
