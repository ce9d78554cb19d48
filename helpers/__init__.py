"""Helpers for the multiprocessing course.

Everything that runs inside a child process lives in this package, so that it pickles by
reference under every start method (fork, spawn and forkserver). Importing ``helpers`` has no
side effects: it does not choose a start method, touch matplotlib's settings or start anything.
Plotting and widget helpers are imported lazily, so that worker processes, which import this
package to find their task function, start quickly.
"""

from __future__ import annotations

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
    "TaskRecord",
    "Timed",
    "check_spawn_safe",
    "max_concurrency",
    "overlapping_pairs",
    "plot_timeline",
    "processes_used",
    "timed",
    "usable_cpus",
]


def __getattr__(name: str) -> Any:
    # Lazy: matplotlib is only imported by the process that draws.
    if name == "plot_timeline":
        from helpers.instruments.plots import plot_timeline

        return plot_timeline
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
