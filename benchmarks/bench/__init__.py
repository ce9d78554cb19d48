"""What every benchmark in ``benchmarks/`` does the same way: its options, its spreads, the machine.

- :func:`positive_int`: the ``type=`` of every count option (``--repeat``, ``--tasks``, ...);
- :func:`add_repeat`: the ``--repeat`` option (rounds; each benchmark keeps the median);
- :func:`spread`: ``median (from min to max, n runs)`` of a list of timings;
- :func:`load_average` and :func:`machine_lines`: the machine a result was measured on, and
  whether other programs were using its CPUs meanwhile (then the figure is marked NOISY).

A package, not a ``benchmarks/*.py`` file, because ``make bench`` runs every such file. The
benchmarks import it as ``bench`` (their own folder is first on ``sys.path``; under spawn and
forkserver the workers get the same path).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics

__all__ = ["add_repeat", "load_average", "machine_lines", "positive_int", "spread"]


def positive_int(text: str) -> int:
    """An argparse ``type``: an integer of at least 1 (``120_000`` is fine, as in Python)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def add_repeat(parser: argparse.ArgumentParser, default: int, what: str = "rounds") -> None:
    """Add ``--repeat``: how many ``what`` are measured; the benchmark reports their median."""
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=default,
        help=f"{what}; the median is kept (default: {default})",
    )


def spread(runs: list[float], scale: float = 1.0, unit: str = "", digits: int = 3) -> str:
    """``median (from min to max, n runs)`` of ``runs``, each times ``scale``; e.g. with
    ``scale=1000, unit=" ms", digits=1``: ``12.3 ms (from 11.9 to 14.0, 7 runs)``."""
    return (
        f"{statistics.median(runs) * scale:.{digits}f}{unit} (from {min(runs) * scale:.{digits}f}"
        f" to {max(runs) * scale:.{digits}f}, {len(runs)} runs)"
    )


def load_average() -> float | None:
    """The 1-minute load average, or None where the platform has none."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def machine_lines(cpus: int, load_before: float | None, load_after: float | None) -> list[str]:
    """The lines that end a benchmark's report: the CPUs, the load average before and after the
    measurement, Python and the platform; then NOISY when the load was above the usable CPUs."""
    lines = [
        f"  cpus: {cpus} usable of {os.cpu_count()} | load average (1 min) before {load_before} "
        f"after {load_after} | Python {platform.python_version()} | {platform.platform()}"
    ]
    if load_before is not None and max(load_before, load_after or 0) > cpus:
        lines.append(f"  NOISY: the load average was above {cpus}: other programs used the CPUs")
    return lines
