"""Task functions for lesson 10, which runs work on a Dask cluster.

Like everything in :mod:`helpers.tasks.workers`, they are top-level functions of an importable module,
so they pickle by reference: what travels to a worker is the name ``helpers.tasks.scale.where``, and the
worker imports the module to find the code. That is why, on a real cluster, every worker machine
needs the course package installed, in the same version as your notebook's.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "DaskProcesses",
    "crash_once",
    "read_scheduler_file",
    "square_or_fail",
    "start_dask_processes",
    "where",
]


def where(tag: object = None) -> tuple[object, str, int]:
    """Return ``(tag, host name, pid)`` of the process that runs the call.

    On one machine every worker reports the same host name and a different PID; on a real
    cluster the host names differ too.
    """
    return tag, socket.gethostname(), os.getpid()


def crash_once(x: int, marker: str) -> int:
    """Return ``x * x``, but kill the calling process the first time it is called.

    The first call creates the file ``marker`` and ends its process on the spot with
    ``os._exit(1)``: no exception, no cleanup, just as when a machine loses power or the
    out-of-memory killer strikes. Any later call (in a fresh process) finds the marker and
    answers. A :class:`multiprocessing.pool.Pool` would wait for ever for the lost task; Dask
    notices the dead worker and runs the task again elsewhere.
    """
    path = Path(marker)
    try:
        path.touch(exist_ok=False)  # atomic: only one caller ever creates the marker
    except FileExistsError:
        return x * x
    time.sleep(0.1)  # let the scheduler see the task start before the process vanishes
    os._exit(1)


def square_or_fail(x: float) -> tuple[float, int]:
    """Return ``(x * x, pid of the process that ran it)``, or raise ``ValueError`` for ``x < 0``.

    The PID proves where the task ran (on a cluster's worker, not in the notebook).
    """
    if x < 0:
        raise ValueError(f"negative input: {x}")
    return x * x, os.getpid()


def read_scheduler_file(path: str | os.PathLike[str], timeout: float = 60.0) -> dict[str, Any]:
    """Wait until the scheduler has written ``path`` (``--scheduler-file``) and return its JSON.

    The scheduler writes the file once it listens; a file that exists but does not parse yet is
    still being written, so the wait goes on. Raises ``TimeoutError`` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            info: dict[str, Any] = json.loads(Path(path).read_text())
            return info
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no scheduler file at {path} after {timeout} s") from None
            time.sleep(0.1)


@dataclass
class DaskProcesses:
    """A scheduler and workers started by :func:`start_dask_processes`, and their log files."""

    address: str
    info: dict[str, Any]
    scheduler: subprocess.Popen[bytes]
    workers: subprocess.Popen[bytes]
    logs: list[IO[str]] = field(default_factory=list)

    def stop(self, timeout: float = 30.0) -> list[int]:
        """Ask the scheduler to shut everything down, then wait; terminate what is left.

        Returns the two exit codes (scheduler, workers).
        """
        try:
            from distributed import Client

            with Client(self.address, timeout="10s", set_as_default=False) as client:
                client.shutdown()
        except Exception:  # noqa: BLE001 - the scheduler may be gone already
            pass
        codes = []
        for proc in (self.workers, self.scheduler):
            try:
                codes.append(proc.wait(timeout))
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    codes.append(proc.wait(10))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    codes.append(proc.wait(10))
        for log in self.logs:
            log.close()
        return codes[::-1]


def start_dask_processes(
    folder: str | os.PathLike[str], nworkers: int = 2, timeout: float = 60.0
) -> DaskProcesses:
    """Start ``dask scheduler`` and ``dask worker --nworkers N`` as separate processes.

    Both listen on 127.0.0.1 only, on ports the system picks; the scheduler's address is read
    from the scheduler file in ``folder``, where the logs go too. Call :meth:`DaskProcesses.stop`
    when done. Waits until all ``nworkers`` workers have joined (at most ``timeout`` seconds).
    """
    folder = Path(folder)
    scheduler_file = folder / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    logs: list[IO[str]] = [open(folder / "scheduler.log", "w"), open(folder / "workers.log", "w")]
    scheduler = subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0"]
        + ["--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
        stdout=logs[0],
        stderr=subprocess.STDOUT,
    )
    try:
        info = read_scheduler_file(scheduler_file, timeout)
        workers = subprocess.Popen(
            [*dask, "worker", info["address"], "--nworkers", str(nworkers), "--nthreads", "1"]
            + ["--host", "127.0.0.1", "--no-dashboard", "--death-timeout", "60"],
            stdout=logs[1],
            stderr=subprocess.STDOUT,
        )
    except BaseException:
        scheduler.kill()
        scheduler.wait()
        raise
    cluster = DaskProcesses(info["address"], info, scheduler, workers, logs)
    try:
        from distributed import Client

        with Client(cluster.address, timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(nworkers, timeout=timeout)
    except BaseException:
        cluster.stop()
        raise
    return cluster
