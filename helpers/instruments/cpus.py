"""How many CPUs this process can really use.

``os.cpu_count()`` reports the host's cores. On Binder, in Docker or under a batch scheduler the
process may be limited to fewer, by CPU affinity or by a cgroup CPU quota; sizing a pool from the
host count then oversubscribes the CPUs you actually have.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["cgroup_cpu_limit", "usable_cpus"]


def _affinity_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        try:
            return len(os.sched_getaffinity(0))
        except OSError:
            pass
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        count: int | None = os.process_cpu_count()
        if count:
            return count
    return os.cpu_count() or 1


def cgroup_cpu_limit(root: str | os.PathLike[str] = "/sys/fs/cgroup") -> float | None:
    """Return the cgroup CPU quota in CPUs (for example 1.5), or None when there is none.

    Reads cgroup v2 ``cpu.max`` (``"150000 100000"`` or ``"max 100000"``) and, failing that,
    cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``. ``root`` is a parameter so that the
    parsing can be tested against a fake tree.
    """
    base = Path(root)
    v2 = base / "cpu.max"
    try:
        quota, period = v2.read_text().split()[:2]
        if quota == "max":
            return None
        if int(quota) > 0 and int(period) > 0:
            return int(quota) / int(period)
        # A zero or negative value is not a quota the kernel would write: ignore it, as garbage.
    except (OSError, ValueError):
        pass
    for folder in (base / "cpu", base / "cpu,cpuacct", base):
        try:
            quota_us = int((folder / "cpu.cfs_quota_us").read_text())
            period_us = int((folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        if quota_us > 0 and period_us > 0:
            return quota_us / period_us
        return None
    return None


def usable_cpus(cgroup_root: str | os.PathLike[str] = "/sys/fs/cgroup") -> int:
    """Return the number of CPUs this process can use: affinity and cgroup quota, at least 1.

    Use it to size pools: ``Pool(processes=usable_cpus())``.

    >>> usable_cpus() >= 1
    True
    """
    count = _affinity_count()
    quota = cgroup_cpu_limit(cgroup_root)
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return max(1, count)
