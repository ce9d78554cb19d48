"""A dask cluster started from the command line, for tests/test_grade_class.py and
benchmarks/grade_class.py: ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1.

Separate processes, as a class's own cluster would be, so ``mpcourse grade --scheduler`` is
tested and measured against the real thing. One copy serves both.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent

__all__ = ["dask_cli_cluster", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dask_cli_cluster(
    folder: Path, env: dict[str, str] | None = None, workers: int = 2
) -> Iterator[str]:
    """Start a scheduler and ``workers`` workers (one process, two threads each), wait until all
    have joined, and yield the scheduler's address; stop them all afterwards. Their logs go to
    ``folder/dask.log``; ``env`` is the processes' environment (default: this one's)."""
    env = dict(os.environ if env is None else env)
    env["DASK_DISTRIBUTED__DIAGNOSTICS__NVML"] = "False"
    address = f"tcp://127.0.0.1:{free_port()}"
    logs = open(folder / "dask.log", "w")
    run = {"env": env, "stdout": logs, "stderr": logs, "cwd": folder}
    procs = [
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                address.rsplit(":", 1)[1],
                "--dashboard-address",
                ":0",
                "--no-show",
            ],
            **run,
        )  # fmt: skip
    ]
    try:
        procs += [
            subprocess.Popen(
                [
                    str(BIN / "dask"),
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "2",
                    "--no-dashboard",
                    "--name",
                    f"w{i}",
                    "--local-directory",
                    str(folder / f"w{i}"),
                ],
                **run,
            )  # fmt: skip
            for i in range(workers)
        ]
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        logs.close()
