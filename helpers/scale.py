"""Task functions for lesson 10, which runs work on a Dask cluster.

Like everything in :mod:`helpers.workers`, they are top-level functions of an importable module,
so they pickle by reference: what travels to a worker is the name ``helpers.scale.where``, and the
worker imports the module to find the code. That is why, on a real cluster, every worker machine
needs the course package installed, in the same version as your notebook's.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path


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
