"""Child-side functions for the lesson on start methods (``notebooks/02_start_methods.ipynb``).

They report what a child process sees of its parent: a module-level value the parent changed,
or a module the parent imported. A child started with *fork* is a copy of the parent's memory and
sees both; a child started with *spawn* or *forkserver* is a fresh interpreter that imports this
module anew and sees neither. They are top-level functions of an importable module, so they
pickle by reference under every start method.
"""

from __future__ import annotations

import os
import sys
import threading

__all__ = [
    "CACHE_LOCK",
    "SETTING",
    "hold_cache_lock",
    "loaded_module_count",
    "module_is_loaded",
    "read_setting",
    "set_setting",
    "try_cache_lock",
]

#: A lock that guards some shared state, like the lock of a cache or a connection pool. The
#: lesson has a thread of the parent hold it while a child starts.
CACHE_LOCK = threading.Lock()

#: A module-level value. The lesson changes it in the parent, then asks children to read it.
SETTING: str = "the value written in helpers/tasks/startmethods.py"


def read_setting(tag: object = None) -> tuple[object, str, int]:
    """Return ``(tag, SETTING, pid)`` as seen by the process that runs the call.

    ``SETTING`` is read when the function runs, so the answer shows whether this process
    inherited the parent's change (fork) or imported the module afresh (spawn, forkserver).
    """
    return tag, SETTING, os.getpid()


def module_is_loaded(name: str) -> bool:
    """Return True if the module ``name`` is already imported in the process that runs the call.

    A forked child has every module its parent had imported; a spawned child starts with only
    what the interpreter and ``multiprocessing`` need, plus the modules it imports to find its
    task.
    """
    return name in sys.modules


def loaded_module_count(_: object = None) -> int:
    """Return how many modules are imported in the process that runs the call."""
    return len(sys.modules)


def set_setting(value: str) -> None:
    """Set ``SETTING`` in the process that runs the call.

    Use it as a Pool ``initializer`` (``initargs=(value,)``) to hand every worker the same
    state explicitly, once, whatever the start method.
    """
    global SETTING
    SETTING = value


def hold_cache_lock() -> threading.Event:
    """Start a thread in THIS process that holds :data:`CACHE_LOCK` until the returned event is set.

    Returns once the lock is held. Call it in the parent, start a child, then ``set()`` the event
    to let the thread release the lock and end. It stands for any library thread that happens
    to hold a lock (a cache, a connection pool, an allocator) at the moment a child is forked.
    """
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with CACHE_LOCK:
            held.set()
            release.wait()

    threading.Thread(target=holder, name="cache-lock-holder", daemon=True).start()
    held.wait()
    return release


def try_cache_lock(timeout: float = 1.0) -> bool:
    """Try to take :data:`CACHE_LOCK` for up to ``timeout`` seconds; release it; return success.

    In a child forked while another thread held the lock, this returns False: the child's copy of
    the lock is locked, and the thread that would release it was not copied. Without the
    timeout it would wait for ever. In a spawned or forkserver child the module, and its lock,
    are new, and this returns True.
    """
    if CACHE_LOCK.acquire(timeout=timeout):
        CACHE_LOCK.release()
        return True
    return False
