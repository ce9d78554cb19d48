"""Helpers for the multiprocessing course.

Everything that runs inside a child process lives in this package, so that it pickles by
reference under every start method (fork, spawn and forkserver). Importing ``helpers`` has no
side effects: it does not choose a start method, touch matplotlib's settings or start anything.
Plotting and widget helpers are imported lazily, so that worker processes, which import this
package to find their task function, start quickly.

The package is grouped by who uses it (each sub-package's docstring lists its modules):

- :mod:`helpers.tasks`: child side, the functions worker processes run, one module per lesson;
- :mod:`helpers.instruments`: parent side, measuring, explaining and drawing what they did;
- :mod:`helpers.selfcheck`: the lessons' exercise checks (``check_*`` functions);
- :mod:`helpers.grading`: nbgrader autograding in a sandbox, and ``mpcourse grade``;
- :mod:`helpers.setup`: ``mpcourse doctor``, the JupyterLab settings, the ``mpcourse`` command.

One word for each idea, in every signature of the package:

- ``start_method``: a start method's name, ``"fork"``, ``"spawn"``, ``"forkserver"``, or None
  for the default in force; ``ctx``: a context object, ``multiprocessing.get_context(...)``.
- ``timeout``: the most seconds a call may take (or wait) before it is stopped or gives up; a
  second limit in the same signature is ``<what>_timeout`` (``submission_timeout``).
- ``seconds``: how long a task works or sleeps (a duration, not a limit); ``deadline``: an
  instant on ``time.monotonic()``'s clock.

``helpers.workers`` and ``helpers.timeline`` are the old names of
:mod:`helpers.tasks.workers` and :mod:`helpers.instruments.timeline`, kept so that notebooks
copied from an older release still run.
"""

from __future__ import annotations

import importlib
from typing import Any

from helpers.instruments.cpus import usable_cpus
from helpers.instruments.output import ChildOutput
from helpers.instruments.safety import NotSpawnSafeError, check_spawn_safe
from helpers.instruments.timeline import (
    TaskRecord,
    Timed,
    max_concurrency,
    overlapping_pairs,
    processes_used,
    timed,
)

__version__ = "0.1.0"

__all__ = [
    "ChildOutput",
    "NotSpawnSafeError",
    "PerformanceExplorer",
    "TaskRecord",
    "Timed",
    "check_spawn_safe",
    "explore",
    "max_concurrency",
    "overlapping_pairs",
    "plot_timeline",
    "processes_used",
    "timed",
    "usable_cpus",
]


# Modules that moved into sub-packages, by their old name: ``from helpers import processes``
# (as notebooks copied from an older release write it) still finds them.
_MOVED = {
    **dict.fromkeys(
        [
            "compare",
            "ipc",
            "managed",
            "pools",
            "processes",
            "scale",
            "shared",
            "startmethods",
            "sync",
        ],
        "helpers.tasks",
    ),
    **dict.fromkeys(["cpus", "output", "perf", "plots", "safety"], "helpers.instruments"),
    **dict.fromkeys(["cli", "doctor", "labsetup"], "helpers.setup"),
}


def __getattr__(name: str) -> Any:
    # Lazy: matplotlib is only imported by the process that draws.
    if name == "plot_timeline":
        from helpers.instruments.plots import plot_timeline

        return plot_timeline
    if name in ("explore", "PerformanceExplorer"):  # ipywidgets, only where a widget is shown
        from helpers.instruments import explorer

        return getattr(explorer, name)
    if name in _MOVED:
        return importlib.import_module(f"{_MOVED[name]}.{name}")
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
