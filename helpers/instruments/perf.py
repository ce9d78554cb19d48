"""Predict and measure parallel speedup (for ``notebooks/09_performance.ipynb``).

Three kinds of function live here:

- **models**: :func:`amdahl_speedup` and :func:`gustafson_speedup` predict a speedup from the
  parallel fraction of a program; :func:`parallel_fraction` goes the other way, from a measured
  speedup back to the fraction it implies; :func:`speedup` and :func:`efficiency` are the two
  definitions every measurement is reported in.
- **measurement**: :func:`time_call` times a call properly (``time.perf_counter``, warm-up runs,
  several repeats, the median); :func:`measure_speedup` does the same for a serial loop and for
  pools of several sizes, and keeps each pool's start-up time apart from its work;
  :func:`utilisation` says how busy the workers were, from :class:`helpers.TaskRecord` objects.
- **tasks** for the overhead experiments: :func:`digest` (a big argument, a tiny result) and
  :func:`make_payload` (a tiny argument, a big result). Like :mod:`helpers.tasks.workers` they are
  top-level functions of an importable module, so pool workers find them under every start
  method. :func:`split_range` cuts a range into tasks of a chosen size.

Importing this module is cheap: matplotlib is imported only by :func:`plot_amdahl`, in the
process that draws. Nothing here asserts that anything is fast: timings depend on the machine
and on whatever else it is doing.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers.instruments.timeline import TaskRecord
from helpers.tasks.workers import whoami

if TYPE_CHECKING:  # pragma: no cover
    import multiprocessing.context
    from multiprocessing.pool import Pool

    from matplotlib.axes import Axes

__all__ = [
    "THREAD_ENV_VARS",
    "SpeedupRun",
    "Timing",
    "amdahl_fraction_range",
    "amdahl_speedup",
    "gustafson_fraction",
    "machine_info",
    "digest",
    "efficiency",
    "gustafson_speedup",
    "make_payload",
    "measure_speedup",
    "parallel_fraction",
    "plot_amdahl",
    "speedup",
    "split_range",
    "thread_settings",
    "time_call",
    "utilisation",
]

#: Environment variables that set how many threads numerical libraries (OpenMP, OpenBLAS, MKL,
#: Apple Accelerate, numexpr) start in *each* process. They are read when the library loads.
THREAD_ENV_VARS: tuple[str, ...] = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


# --- definitions and models ----------------------------------------------------------------


def _check_fraction(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"the parallel fraction p must be between 0 and 1, got {p}")


def _check_workers(n: float) -> None:
    if n < 1:
        raise ValueError(f"the number of workers n must be at least 1, got {n}")


def speedup(serial_seconds: float, parallel_seconds: float) -> float:
    """Return how many times faster the parallel run was: ``serial_seconds / parallel_seconds``.

    >>> speedup(10.0, 4.0)
    2.5
    """
    if serial_seconds <= 0 or parallel_seconds <= 0:
        raise ValueError(
            f"speedup needs positive times, got {serial_seconds} and {parallel_seconds}"
        )
    return serial_seconds / parallel_seconds


def efficiency(speedup: float, workers: int) -> float:
    """Return the speedup per worker, ``speedup / workers`` (1.0 means no worker was wasted).

    >>> efficiency(2.5, 4)
    0.625
    """
    _check_workers(workers)
    return speedup / workers


def amdahl_speedup(p: float, n: float) -> float:
    """Predict the speedup of a *fixed* job on ``n`` workers when a fraction ``p`` of it is
    parallel (Amdahl's law): ``1 / ((1 - p) + p / n)``.

    The serial part ``1 - p`` does not shrink, so the speedup can never pass ``1 / (1 - p)``
    however many workers you add.

    >>> round(amdahl_speedup(0.9, 4), 2)
    3.08
    >>> round(amdahl_speedup(0.9, 1_000_000), 2)
    10.0
    """
    _check_fraction(p)
    _check_workers(n)
    return 1.0 / ((1.0 - p) + p / n)


def gustafson_speedup(p: float, n: float) -> float:
    """Predict the speedup when the job *grows* with the workers (Gustafson's law).

    Here ``p`` is **not** Amdahl's fraction: it is the share of the run *on* ``n`` workers (the
    parallel run) spent in the parallel part. The serial part stays the same size while each
    worker gets a full share of parallel work: ``(1 - p) + p * n``. To compare with Amdahl for
    the same run, convert Amdahl's fraction first with :func:`gustafson_fraction`.

    >>> round(gustafson_speedup(0.9, 4), 2)
    3.7
    >>> round(gustafson_speedup(gustafson_fraction(0.9, 4), 4), 2) == round(amdahl_speedup(0.9, 4), 2)
    True
    """
    _check_fraction(p)
    _check_workers(n)
    return (1.0 - p) + p * n


def gustafson_fraction(p: float, n: float) -> float:
    """Convert Amdahl's ``p`` (share of the *serial* run that parallelises) into Gustafson's
    fraction for the same job on ``n`` workers (share of the *parallel* run spent in the parallel
    part): ``(p / n) / ((1 - p) + p / n)``.

    The two fractions describe the same program from two different runs, so the same number
    means different things: Amdahl's ``p = 0.9`` on 16 workers is a parallel run that spends only
    36 % of its time in the parallel part.

    >>> round(gustafson_fraction(0.9, 16), 2)
    0.36
    >>> gustafson_fraction(0.9, 1)
    0.9
    """
    _check_fraction(p)
    _check_workers(n)
    return (p / n) / ((1.0 - p) + p / n)


def parallel_fraction(speedup: float, n: float) -> float:
    """Return the parallel fraction ``p`` that Amdahl's law needs to predict ``speedup`` on ``n``
    workers (Amdahl's law solved for ``p``).

    ``1 - p`` is the *Karp-Flatt metric*, the serial fraction a measurement implies; overheads
    count in it, as they are serial time too. The result is clipped to 0..1: a speedup below 1
    gives 0, a super-linear one gives 1.

    >>> round(parallel_fraction(amdahl_speedup(0.8, 2), 2), 3)
    0.8
    """
    _check_workers(n)
    if speedup <= 0:
        raise ValueError(f"speedup must be positive, got {speedup}")
    if n == 1:
        raise ValueError("one worker says nothing about the parallel fraction: use n >= 2")
    p = (1.0 - 1.0 / speedup) / (1.0 - 1.0 / n)
    return min(1.0, max(0.0, p))


def amdahl_fraction_range(speedups: Sequence[float], n: int) -> tuple[float, float, float]:
    """Return the lowest, median and highest ``p`` that repeated speedups on ``n`` workers imply.

    Each measured speedup is turned into a parallel fraction with :func:`parallel_fraction`; the
    range shows how far the noise of the measurement moves the estimate. Needs ``n >= 2``: with
    one worker (or one usable CPU) a measurement says nothing about ``p``.

    >>> low, mid, high = amdahl_fraction_range([1.8, 1.9, 1.95], 2)
    >>> round(low, 2), round(mid, 2), round(high, 2)
    (0.89, 0.95, 0.97)
    """
    if not speedups:
        raise ValueError("amdahl_fraction_range needs at least one measured speedup")
    fractions = sorted(parallel_fraction(s, n) for s in speedups)
    return fractions[0], statistics.median(fractions), fractions[-1]


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """The seconds of each measured run of one thing (warm-up runs are not included)."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        """The typical run: robust against one run that something else on the machine slowed."""
        return statistics.median(self.runs)

    @property
    def best(self) -> float:
        """The fastest run: the least disturbed one (what ``timeit`` reports)."""
        return min(self.runs)

    @property
    def spread(self) -> float:
        """Slowest run minus fastest run, in seconds: how noisy the measurement was."""
        return max(self.runs) - min(self.runs)

    def __str__(self) -> str:
        return (
            f"median {self.median * 1000:.1f} ms over {len(self.runs)} runs "
            f"(best {self.best * 1000:.1f}, worst {max(self.runs) * 1000:.1f})"
        )


def time_call(
    func: Callable[..., Any], *args: Any, repeat: int = 5, warmup: int = 1, **kwargs: Any
) -> Timing:
    """Time ``func(*args, **kwargs)``: ``warmup`` untimed calls, then ``repeat`` timed ones.

    Uses ``time.perf_counter`` (the highest-resolution clock, unaffected by changes to the
    system clock). The warm-up calls pay for one-off costs (imports, caches, a pool's workers
    starting up) so that they do not pollute the timed runs.

    >>> time_call(sum, range(1000), repeat=3).runs.__len__()
    3
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"need repeat >= 1 and warmup >= 0, got {repeat} and {warmup}")
    for _ in range(warmup):
        func(*args, **kwargs)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(*args, **kwargs)
        runs.append(time.perf_counter() - start)
    return Timing(tuple(runs))


@dataclass(frozen=True)
class SpeedupRun:
    """What :func:`measure_speedup` measured: the serial loop, and each pool's start-up and work.

    ``pooled[i]`` times ``pool.map`` on a pool of ``workers[i]`` processes that had already
    started; ``startup[i]`` is the time from creating that pool to its first answers.
    """

    start_method: str
    tasks: int
    serial: Timing
    workers: tuple[int, ...]
    pooled: tuple[Timing, ...]
    startup: tuple[float, ...]

    @property
    def seconds(self) -> list[float]:
        """The median time of each pool's work, start-up excluded (for ``plot_speedup``)."""
        return [t.median for t in self.pooled]

    def speedups(self, include_startup: bool = False) -> list[float]:
        """Speedup of each pool over the serial loop (medians); optionally charge the start-up."""
        return [
            speedup(self.serial.median, t.median + (s if include_startup else 0.0))
            for t, s in zip(self.pooled, self.startup, strict=True)
        ]

    def efficiencies(self, include_startup: bool = False) -> list[float]:
        """Efficiency (speedup per worker) of each pool over the serial loop."""
        return [
            efficiency(s, n)
            for s, n in zip(self.speedups(include_startup), self.workers, strict=True)
        ]

    def table(self) -> str:
        """A plain-text table of the measurements (medians, in milliseconds), one line per run."""
        lines = [
            f"{'run':>9} {'start-up':>10} {'work':>10} {'speedup':>8} {'efficiency':>11} "
            f"{'speedup incl. start-up':>23}",
            f"{'serial':>9} {'':>10} {self.serial.median * 1000:8.1f}ms {1.0:8.2f} {1.0:11.0%}",
        ]
        rows = zip(
            self.workers,
            self.startup,
            self.pooled,
            self.speedups(),
            self.efficiencies(),
            self.speedups(include_startup=True),
            strict=True,
        )
        for n, start, work, s, e, s_all in rows:
            lines.append(
                f"{f'Pool({n})':>9} {start * 1000:8.1f}ms {work.median * 1000:8.1f}ms {s:8.2f} "
                f"{e:11.0%} "
                f"{s_all:23.2f}"
            )
        return "\n".join(lines)


def measure_speedup(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    workers_list: Iterable[int],
    ctx: multiprocessing.context.BaseContext | None = None,
    *,
    repeat: int = 3,
    warmup: int = 1,
    chunksize: int = 1,
    timeout: float = 60.0,
) -> SpeedupRun:
    """Time ``[func(t) for t in tasks]`` here, then ``pool.map(func, tasks)`` on each pool size.

    Every measurement is the median of ``repeat`` runs after ``warmup`` untimed ones. For each
    size ``n`` in ``workers_list`` a fresh pool ``ctx.Pool(n)`` is created; the time until it has
    answered one small task per worker is recorded as its start-up, apart from the work, so you
    can report the speedup with or without it. Each pool lives in a ``with`` block and every wait
    is bounded by ``timeout`` seconds. ``func`` must be picklable (a top-level function of an
    importable module), and the pooled results must equal the serial ones.
    """
    import multiprocessing as mp

    ctx = ctx if ctx is not None else mp.get_context()
    tasks = list(tasks)
    workers = tuple(workers_list)
    if not tasks or not workers or min(workers) < 1:
        raise ValueError("measure_speedup needs at least one task and worker counts >= 1")

    expected: list[Any] = []

    def run_serial() -> None:
        expected[:] = [func(t) for t in tasks]

    serial = time_call(run_serial, repeat=repeat, warmup=warmup)

    pooled, startup = [], []
    for n in workers:
        begin = time.perf_counter()
        with ctx.Pool(n) as pool:
            pool.map_async(whoami, range(n), chunksize=1).get(timeout=timeout)
            startup.append(time.perf_counter() - begin)

            def run_pool(pool: Pool = pool, n: int = n) -> None:
                got = pool.map_async(func, tasks, chunksize=chunksize).get(timeout=timeout)
                if got != expected:
                    raise AssertionError(f"Pool({n}) returned different results than the loop")

            pooled.append(time_call(run_pool, repeat=repeat, warmup=warmup))
    return SpeedupRun(
        start_method=ctx.get_start_method(),
        tasks=len(tasks),
        serial=serial,
        workers=workers,
        pooled=tuple(pooled),
        startup=tuple(startup),
    )


def utilisation(records: Iterable[TaskRecord], workers: int) -> float:
    """Return the share of the available worker time that was spent running tasks.

    Busy time (the sum of the task durations) divided by ``workers`` times the span from the
    first start to the last end. 1.0 means no worker was ever idle; load imbalance and
    overheads pull it down.
    """
    records = list(records)
    _check_workers(workers)
    if not records:
        raise ValueError("utilisation needs at least one TaskRecord")
    span = max(r.end for r in records) - min(r.start for r in records)
    if span <= 0:
        return 1.0
    return sum(r.duration for r in records) / (workers * span)


def thread_settings() -> dict[str, str | None]:
    """Return this process's value of each of :data:`THREAD_ENV_VARS` (None: not set)."""
    import os

    return {name: os.environ.get(name) for name in THREAD_ENV_VARS}


# --- reference figures measured on another machine ----------------------------------------


def machine_info() -> dict[str, Any]:
    """Describe this machine for a stored measurement: CPUs, load, Python and operating system."""
    from helpers.instruments.cpus import usable_cpus

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        load = None
    return {
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "load_average_1_5_15_min": load,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "measured_at_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


# --- tasks for the overhead experiments ----------------------------------------------------


def digest(data: bytes) -> int:
    """Return a tiny summary of ``data`` (its length): a task whose *argument* is the cost."""
    return len(data)


def make_payload(nbytes: int) -> bytes:
    """Return ``nbytes`` zero bytes: a task whose *result* is the cost."""
    if nbytes < 0:
        raise ValueError(f"nbytes must not be negative, got {nbytes}")
    return bytes(nbytes)


def split_range(stop: int, parts: int) -> list[tuple[int, int]]:
    """Cut ``range(stop)`` into ``parts`` consecutive ``(start, stop)`` pairs of near-equal size.

    >>> split_range(10, 3)
    [(0, 3), (3, 6), (6, 10)]
    """
    if parts < 1 or stop < parts:
        raise ValueError(f"cannot cut range({stop}) into {parts} non-empty parts")
    edges = [stop * i // parts for i in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


# --- plots ---------------------------------------------------------------------------------


def plot_amdahl(
    fractions: Sequence[float],
    max_workers: int = 16,
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Axes:
    """Draw Amdahl's predicted speedup for 1..``max_workers`` workers, one curve per fraction.

    Each curve is labelled with its parallel fraction ``p`` and its ceiling ``1 / (1 - p)``.
    Draw measured points on the same axes afterwards (for example with
    :func:`helpers.instruments.plots.plot_speedup`). Returns the axes.
    """
    import matplotlib.pyplot as plt

    _check_workers(max_workers)
    if not fractions:
        raise ValueError("plot_amdahl needs at least one parallel fraction")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    ns = list(range(1, int(max_workers) + 1))
    for p in fractions:
        ceiling = "no limit" if p == 1 else f"at most {1 / (1 - p):.0f}x"
        ax.plot(
            ns,
            [amdahl_speedup(p, n) for n in ns],
            "-",
            alpha=0.6,
            label=f"Amdahl, p = {p:g} ({ceiling})",
        )
    ax.set_xlabel("worker processes")
    ax.set_ylabel("speedup")
    ax.set_xlim(1, max_workers)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax
