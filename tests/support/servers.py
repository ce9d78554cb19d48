"""A local server the tests start as a process: a free port, its log, waiting until it answers.

:class:`ServerProcess` is what the two servers the tests run share:
:class:`support.browser_lab.LabServer` (``jupyter lab``) and ``tests/hub/hubclass.py``'s ``Hub``
(JupyterHub). Each says how it is asked whether it is up (:meth:`ServerProcess.answers`) and how
it stops; starting, waiting and reading the log are the same.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
from pathlib import Path

__all__ = ["ServerProcess", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """A server process (``proc``, started by the subclass) writing its output to ``log_path``."""

    name = "the server"  # how error messages call it

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def answers(self) -> bool:
        """Whether the server answers a request now (a refused connection may raise)."""
        raise NotImplementedError

    def stop(self) -> list[str]:
        """Stop the server; return the processes that had to be killed or outlived it."""
        raise NotImplementedError

    def log(self, tail: int = 80) -> str:
        """The last ``tail`` lines of the server's output ("" before there is any)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-tail:])
        except OSError:
            return ""

    def wait_until_answering(self, timeout: float, interval: float) -> None:
        """Ask :meth:`answers` every ``interval`` seconds until it says yes. If the process
        exits first, raise RuntimeError; after ``timeout`` seconds, stop the server and raise
        TimeoutError (both with the end of the log)."""
        assert self.proc is not None, "start the process first"
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.answers():
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"{self.name} did not answer in {timeout} s:\n{self.log()}")
            time.sleep(interval)
