"""Shared support for the tests (and the class-grading benchmark); no tests here.

- :mod:`support.notebook_runner`: run a notebook top to bottom with a start method, pinned to one
  CPU if asked; what it wrote to stderr.
- :mod:`support.nbgrader_harness`: an nbgrader course in a temporary folder; an assignment's
  data-only spec (``tests/assignments/<a>/spec.toml``) and its catalogue of answers, graded.
- :mod:`support.browser_lab`: JupyterLab for a temporary copy of the course, and Debian's Chromium
  driven by Playwright (skip or fail when it is missing).
- :mod:`support.dask_cli`: a ``dask scheduler`` and workers as separate processes on 127.0.0.1.
- :mod:`support.selfcheck_cases`: the lessons' self-check tests as tables of cases.
- :mod:`support.tools`: run a venv program (nbgrader, mpcourse, ruff) with the venv's bin first
  on PATH.
- :mod:`support.servers`: a server process (JupyterLab, JupyterHub): a free port, its log, waiting
  until it answers.
- :mod:`support.attacks`: a fork bomb and a detached grandchild, for the sandbox and hostile tests.

``tests/conftest.py`` keeps the fixtures and the process-leak guard every test uses.
"""
