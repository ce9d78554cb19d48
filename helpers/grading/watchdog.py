"""Stop learner code that is stuck, inside a run, and say where it was stuck.

Who imports this: the assignment instruments in :mod:`helpers.grading.assignments` (they run
inside :func:`helpers.grading.run_bounded`'s forked sandbox). Not learners.

A :class:`Watchdog` calls the learner's code in the main thread while a watcher thread asks a
``check`` function, ten times a second, whether the code is stuck. When ``check`` names a reason,
the watcher reports it (``on_stuck``, with the main thread's current frame, to tell the learner the
line it was waiting on) and interrupts the main thread with SIGUSR1, which the watchdog's handler
turns into :class:`~helpers.grading.bounded.GraderInterrupt`: a ``BaseException``, so a learner's
``except Exception`` does not swallow it. It repeats the signal every second until the call has
returned. Where signals cannot interrupt (no SIGUSR1, or not in the main thread) the watcher only
reports, and the run's own time limit ends the call.
"""

from __future__ import annotations

import linecache
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

from helpers.grading.bounded import GraderInterrupt

__all__ = ["Watchdog", "line_in"]


def line_in(frame: FrameType | None, code: CodeType | None) -> str:
    """The source line that ``code`` (a function's code) was running, in ``frame``'s stack: what
    ``on_stuck`` tells the learner. ``""`` when ``code`` is not in the stack."""
    while frame is not None:
        if frame.f_code is code:
            return linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        frame = frame.f_back
    return ""


class Watchdog:
    """Run a call, interrupting it when ``check(seconds_since_start)`` returns a reason.

    ``on_stuck(reason, frame)`` is called once, from the watcher thread, with the main thread's
    frame at that moment. After :meth:`call`, ``reason`` is the reason it interrupted (or None)
    and ``interrupted`` whether the call ended because of it.
    """

    def __init__(
        self,
        check: Callable[[float], str | None],
        on_stuck: Callable[[str, FrameType | None], None] | None = None,
        *,
        interval: float = 0.1,
        name: str = "grader-watchdog",
    ) -> None:
        self.check = check
        self.on_stuck = on_stuck
        self.interval = interval
        self.name = name
        self.reason: str | None = None
        self.interrupted = False
        self.seconds = 0.0

    def call(self, func: Callable[..., Any], *args: Any) -> tuple[Any, tuple[str, str, str] | None]:
        """``func(*args)`` under the watchdog: ``(value, error)``, error = (type, text, tb)."""
        can_interrupt = (
            hasattr(signal, "SIGUSR1")
            and hasattr(signal, "pthread_kill")
            and threading.current_thread() is threading.main_thread()
        )
        main_ident = threading.get_ident()
        done = threading.Event()
        armed = threading.Event()
        t0 = time.monotonic()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if armed.is_set():
                armed.clear()
                raise GraderInterrupt()

        def watch() -> None:
            while not done.wait(self.interval):
                reason = self.check(time.monotonic() - t0)
                if reason is None:
                    continue
                self.reason = reason
                if self.on_stuck is not None:
                    self.on_stuck(reason, sys._current_frames().get(main_ident))
                if not can_interrupt:
                    return
                while not done.is_set():
                    armed.set()
                    try:
                        signal.pthread_kill(main_ident, signal.SIGUSR1)
                    except (OSError, ValueError):
                        return
                    done.wait(1.0)
                return

        previous = signal.signal(signal.SIGUSR1, on_signal) if can_interrupt else None
        watcher = threading.Thread(target=watch, daemon=True, name=self.name)
        watcher.start()
        value: Any = None
        error: tuple[str, str, str] | None = None
        try:
            try:
                value = func(*args)
            except GraderInterrupt:
                armed.clear()
                self.interrupted = True
            except BaseException as exc:  # noqa: BLE001 - reported to the learner
                error = (type(exc).__name__, str(exc), traceback.format_exc())
        except GraderInterrupt:  # a second signal, while the first one was being handled
            armed.clear()
            self.interrupted = True
        finally:
            armed.clear()
            done.set()
            self.seconds = time.monotonic() - t0
            if can_interrupt:
                signal.signal(signal.SIGUSR1, previous)
        watcher.join(2)
        return value, error
