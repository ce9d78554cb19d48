"""Runs inside the sandbox: the learner's cells, then the calls the checker asks for.

Who imports this: nothing but the sandbox's boot line (``python -I -c ... main()``), started by
:class:`helpers.grading.remote.Session`. It is the only grading code that shares a process with
learner code, so nothing it sends back is trusted: the checker rebuilds its replies with a
restricted unpickler and decides every verdict itself.

The learner's cells run in a fresh IPython shell (so ``%%writefile`` and other magics work, as in
JupyterLab) whose namespace is the ``__main__`` module, as in a kernel: a function defined in a
cell is found by pickle under fork and missing in a spawned worker, exactly as in the notebook.
Each call then runs through :func:`helpers.grading.run_bounded`, in a forked copy of this
process: what one call's code changes does not reach the next call.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import signal
import sys
import traceback
import types
from typing import Any

__all__ = ["main"]


class CellTimeout(BaseException):
    """Raised in a learner's cell that ran longer than the grader allows."""


def _limit(memory_bytes: int, nproc: int) -> None:
    for what, value in (
        (resource.RLIMIT_AS, memory_bytes),
        (resource.RLIMIT_NPROC, nproc),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, 64 << 20),
    ):
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(what, (value, value))


def _shell(main_module: types.ModuleType) -> Any:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config, user_module=main_module)
    # Errors are reported by _run_cell, as nbformat error outputs, not printed by IPython.
    shell.showtraceback = lambda *a, **k: None  # type: ignore[method-assign]
    shell.showsyntaxerror = lambda *a, **k: None  # type: ignore[method-assign]
    return shell


def _run_cell(shell: Any, source: str, seconds: float) -> list[dict[str, Any]]:
    """Run one cell; return its outputs as nbformat-like dicts (stream and error)."""
    out, err = io.StringIO(), io.StringIO()
    error: BaseException | None = None

    def on_alarm(signum: int, frame: types.FrameType | None) -> None:
        raise CellTimeout(f"this cell ran for more than {seconds:.0f} s and was stopped")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result = shell.run_cell(source, store_history=False, silent=False)
        error = result.error_before_exec or result.error_in_exec
    except CellTimeout as exc:
        error = exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    outputs: list[dict[str, Any]] = []
    for name, buffer in (("stdout", out), ("stderr", err)):
        text = buffer.getvalue()
        if text:
            outputs.append({"output_type": "stream", "name": name, "text": text[-100_000:]})
    if error is not None:
        lines = traceback.format_exception(type(error), error, error.__traceback__)
        outputs.append(
            {
                "output_type": "error",
                "ename": type(error).__name__,
                "evalue": str(error)[:2000],
                "traceback": [line.rstrip("\n") for line in lines[-6:]],
            }
        )
    return outputs


def _resolve(obj: Any, namespace: dict[str, Any], depth: int = 0) -> Any:
    from helpers.grading.remote import LearnerRef

    if isinstance(obj, LearnerRef):
        head, *rest = obj.path.split(".")
        if head not in namespace:
            raise NameError(
                f"name {head!r} is not defined. Run the cell that defines it, and keep the "
                "name the exercise asks for."
            )
        value = namespace[head]
        for part in rest:
            value = getattr(value, part)
        return value
    if depth > 4:
        return obj
    if isinstance(obj, list):
        return [_resolve(x, namespace, depth + 1) for x in obj]
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(_resolve(x, namespace, depth + 1) for x in obj)
    if isinstance(obj, dict):
        return {k: _resolve(v, namespace, depth + 1) for k, v in obj.items()}
    return obj


def main() -> None:
    """Serve the checker: ``load`` the learner's cells once, then ``run`` calls until EOF."""
    in_fd, out_fd, memory_bytes, nproc = (int(x) for x in sys.argv[2:6])
    # Bind what the loop needs before any learner code runs; the checker trusts none of it.
    from helpers.grading.bounded import BoundedRun, run_bounded
    from helpers.grading.remote import read_frame, write_frame

    _limit(memory_bytes, nproc)
    os.set_inheritable(in_fd, False)
    os.set_inheritable(out_fd, False)
    workdir = os.getcwd()
    sys.path.insert(0, workdir)
    main_module = types.ModuleType("__main__")
    main_module.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = main_module
    shell = None
    while True:
        try:
            request = __import__("pickle").loads(read_frame(in_fd))
        except (EOFError, OSError):
            os._exit(0)
        if request[0] == "load":
            _, cells, files, cell_timeout = request
            for name, data in files.items():
                target = os.path.normpath(os.path.join(workdir, name))
                if target.startswith(workdir + os.sep):
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "wb") as f:
                        f.write(data)
            shell = _shell(main_module)
            for index, source in cells:
                write_frame(out_fd, ("cell", index, _run_cell(shell, source, cell_timeout)))
        elif request[0] == "run":
            _, func, args, kwargs, options = request
            try:
                func, args, kwargs = _resolve((func, args, kwargs), main_module.__dict__)
            except Exception as exc:  # noqa: BLE001 - a missing or renamed function
                reply = BoundedRun(error_type=type(exc).__name__, error_message=str(exc))
            else:
                reply = run_bounded(func, *args, **options, **kwargs)
            try:
                write_frame(out_fd, reply)
            except Exception as exc:  # noqa: BLE001 - e.g. a value that does not pickle
                write_frame(
                    out_fd,
                    BoundedRun(
                        error_type=type(exc).__name__,
                        error_message=f"the result could not be sent to the grader: {exc}",
                    ),
                )
        else:
            os._exit(0)
