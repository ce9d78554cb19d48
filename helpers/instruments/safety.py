"""Say, before any process starts, whether a function can run in a spawned child.

Under spawn and forkserver a child is a fresh interpreter. It receives the task function as a
pickle, which holds only the module and the name (``__main__.square``), and looks it up by
importing that module. A function defined in a notebook cell lives in the kernel's ``__main__``,
which the child does not have; a lambda, a closure or a nested function has no importable name
at all. ``Pool`` then does not raise: its workers die one after another and the call hangs.
:func:`check_spawn_safe` finds these cases in the parent, at once.
"""

from __future__ import annotations

import functools
import importlib
import io
import multiprocessing
import pickle
import sys
import types
from collections.abc import Callable
from typing import Any

__all__ = ["FIX", "NotSpawnSafeError", "check_spawn_safe"]

FIX = (
    "Fix: define it at the top level of a module file and import it (in a notebook, write the "
    "cell to a file with %%writefile my_tasks.py, then `from my_tasks import ...`), or use a "
    "ready-made task from helpers.tasks.workers."
)


class NotSpawnSafeError(TypeError):
    """A function that a child process started with spawn or forkserver could not find."""


def _describe(func: Any) -> str:
    if isinstance(func, functools.partial):
        return f"functools.partial({_describe(func.func)}, ...)"
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    module = getattr(func, "__module__", None)
    if name and module:
        return f"{module}.{name}"
    return repr(func)


def _main_is_importable() -> bool:
    """True when ``__main__`` is a script a spawned child can re-run (not a notebook or REPL)."""
    main = sys.modules.get("__main__")
    return bool(getattr(main, "__file__", None)) and not hasattr(main, "get_ipython")


def _name_problem(obj: Any) -> str | None:
    """Return why a child could not look ``obj`` (a function or class) up by its name, or None."""
    name = getattr(obj, "__name__", None)
    qualname = getattr(obj, "__qualname__", "") or ""
    module = getattr(obj, "__module__", None)
    if name == "<lambda>":
        return "is a lambda, which has no name a child process can import"
    if "<locals>" in qualname:
        return (
            "is defined inside another function (a nested function or closure), so it has no "
            "name a child process can import"
        )
    if module == "__main__" and not _main_is_importable():
        return (
            "is defined in the notebook (module __main__); a child started with spawn or "
            "forkserver has its own __main__ and cannot find it"
        )
    return None


# Modules whose objects (queues, locks, pipes, shared values) pickle only while a process is being
# started: they are fine as Process arguments or a Pool initializer's, so the check skips them.
_SHARED_BY_INHERITANCE = (
    "multiprocessing.queues",
    "multiprocessing.synchronize",
    "multiprocessing.connection",
    "multiprocessing.sharedctypes",
)


class _Unfindable(Exception):
    def __init__(self, obj: Any, problem: str) -> None:
        super().__init__(problem)
        self.obj = obj
        self.problem = problem


class _CheckingPickler(pickle.Pickler):
    """Pickles like a child's task would, and checks every function and class it meets.

    Pickling only proves that the parent can find them again. A wrapper (``timed(f)``, a
    callable object, a partial) around a function defined in the notebook pickles fine here, and
    the child then cannot find the function.
    """

    def __init__(self, file: Any, root: Any) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._root = root

    def reducer_override(self, obj: Any) -> Any:
        if obj is not self._root and isinstance(obj, (types.FunctionType, type)):
            problem = _name_problem(obj)
            if problem:
                raise _Unfindable(obj, problem)
        if type(obj).__module__ in _SHARED_BY_INHERITANCE:
            return (int, ())  # stands in for the object; its own checks need a starting process
        return NotImplemented


def _problem(func: Any) -> str | None:
    """Return why ``func`` cannot be found by a spawned child, or None if it can."""
    if isinstance(func, functools.partial):
        inner = _problem(func.func)
        if inner:
            return f"is a functools.partial around a function that {inner}"
        # The partial's own arguments are checked below, with the partial.
    else:
        problem = _name_problem(func)
        if problem:
            return problem
    name = getattr(func, "__name__", None)
    qualname = getattr(func, "__qualname__", "") or ""
    module = getattr(func, "__module__", None)
    if name is not None and module is not None and callable(func) and not isinstance(func, type):
        if getattr(func, "__self__", None) is None:  # plain function, not a bound method
            try:
                obj: Any = importlib.import_module(module)
                for part in qualname.split("."):
                    obj = getattr(obj, part)
            except Exception:  # noqa: BLE001 - any failure means "cannot be found"
                return f"cannot be found again as {module}.{qualname} by importing {module}"
            if obj is not func:
                return (
                    f"is not the object importing {module}.{qualname} gives back (was it "
                    "redefined or decorated?)"
                )
    try:
        _CheckingPickler(io.BytesIO(), func).dump(func)
    except _Unfindable as found:
        return f"contains {_describe(found.obj)}, which {found.problem}"
    except Exception as exc:  # noqa: BLE001 - report whatever pickle said
        return f"cannot be pickled ({type(exc).__name__}: {exc})"
    return None


def check_spawn_safe(func: Callable[..., Any], start_method: str | None = None) -> None:
    """Raise :class:`NotSpawnSafeError` if a spawned child could not find ``func``.

    Returns quietly for a top-level function of an importable module. Starts no process: it
    only inspects ``func`` and pickles it, so it answers at once. ``start_method`` is named in
    the message; by default it is the one in force (``multiprocessing.get_start_method()``).
    The check is the same under fork, because code that only works under fork breaks on macOS,
    on Windows and, from Python 3.14, on Linux too.
    """
    if not callable(func):
        raise TypeError(f"check_spawn_safe needs a function, got {type(func).__name__} {func!r}")
    problem = _problem(func)
    if problem is None:
        return
    method = (
        start_method
        or multiprocessing.get_start_method(allow_none=True)
        or (multiprocessing.get_all_start_methods()[0])
    )
    note = ""
    if method == "fork":
        note = (
            " It may work here because the start method in force is 'fork', but it fails under "
            "spawn (the default on macOS and Windows) and forkserver (the Linux default from "
            "Python 3.14)."
        )
    else:
        note = (
            f" With the start method in force ('{method}'), Pool would hang while its workers "
            "die one after another."
        )
    raise NotSpawnSafeError(f"{_describe(func)} {problem}.{note} {FIX}")
