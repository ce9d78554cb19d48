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

#: A module-level value. The lesson changes it in the parent, then asks children to read it.
SETTING: str = "the value written in helpers/startmethods.py"


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
