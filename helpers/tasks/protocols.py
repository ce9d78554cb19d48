"""The shapes of the shared objects that tasks accept: a lock, a queue, a shared number.

Who imports this: the :mod:`helpers.tasks` modules, the graders in :mod:`helpers.grading` and the
self-checks, for their type hints. A task that takes "a lock" works as well with
``multiprocessing.Lock()``, an ``RLock``, a ``Semaphore``, a manager's ``Lock()`` proxy or a grader's
instrumented lock; they share no base class, so each idea is a :class:`typing.Protocol` here that
names only what the tasks call. Nothing here runs or starts anything.

- :class:`SupportsAcquire`: ``acquire``/``release`` and ``with``: locks and semaphores of every kind.
- :class:`PutQueue`, :class:`GetQueue`: one end of a queue (``multiprocessing.Queue``,
  ``SimpleQueue``, ``JoinableQueue``, a manager's queue); :class:`TimedGetQueue` can give up.
- :class:`EventLike`: an event of either kind, ``threading.Event`` or ``multiprocessing``'s.
- :class:`HasValue`: a shared integer with ``.value`` (``Value``, ``RawValue``, a manager's value).
- ``ProcessContext`` (for type checkers only): what ``multiprocessing.get_context()`` returns, a
  context that can start a ``Process``.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the fork contexts exist only where fork does (not on Windows)
    from multiprocessing.context import (
        DefaultContext,
        ForkContext,
        ForkServerContext,
        SpawnContext,
    )
    from typing import TypeAlias

    # typeshed's BaseContext has no Process: every context get_context() gives back has one.
    ProcessContext: TypeAlias = DefaultContext | SpawnContext | ForkContext | ForkServerContext

__all__ = ["EventLike", "GetQueue", "HasValue", "PutQueue", "SupportsAcquire", "TimedGetQueue"]


class SupportsAcquire(Protocol):
    """A lock or semaphore: ``Lock``, ``RLock``, ``Semaphore``, a manager's ``Lock()`` proxy."""

    def acquire(self, block: bool = ..., /, timeout: float = ...) -> bool: ...

    def release(self) -> None: ...

    def __enter__(self) -> bool: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> None: ...


class PutQueue(Protocol):
    """Anything with ``put``: ``multiprocessing.Queue``, ``SimpleQueue``, a manager's queue."""

    def put(self, obj: Any, /) -> None: ...


class GetQueue(Protocol):
    """Anything with ``get``: ``multiprocessing.Queue``, ``SimpleQueue``, a manager's queue."""

    def get(self) -> Any: ...


class TimedGetQueue(Protocol):
    """A queue whose ``get`` can give up: ``multiprocessing.Queue``, a manager's queue."""

    def get(self, block: bool = ..., timeout: float | None = ...) -> Any: ...


class EventLike(Protocol):
    """An event: ``threading.Event`` between threads, ``ctx.Event()`` between processes."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = ...) -> bool: ...


class HasValue(Protocol):
    """A shared integer: ``Value("i", 0)``, ``RawValue("i", 0)``, a manager's ``Value``."""

    value: int
