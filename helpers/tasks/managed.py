"""Objects shared through a manager process (lesson 07).

A manager is a server process that owns ordinary Python objects; other processes get *proxies*
whose method calls travel to the server over a connection and run on the real object there.
This module holds everything from that lesson that must be importable under spawn and
forkserver:

- child-side functions that take proxies as arguments (a proxy pickles, so it can be a ``Pool``
  task argument, unlike a plain ``multiprocessing.Queue`` or ``Lock``):
  :func:`record_square`, :func:`square_with_progress`, :func:`add_to_counter`,
  :func:`append_to`, :func:`count_words`, :func:`remote_count_words`;
- :class:`Tally`, a thread-safe word counter to be served by a manager;
- :class:`CourseManager`, a ``BaseManager`` subclass with two registrations: ``Tally`` (a new
  tally per call) and ``shared_tally`` (one tally per name, which a client that connects by
  address can look up).

Why a module and not a notebook cell? ``BaseManager.start()`` starts the server process with the
manager's class and its registry as arguments; under spawn and forkserver they are pickled *by
name*, so the class and every registered callable must be importable by that fresh interpreter.
Registering at import time (below) also means every process that imports this module sees the
same registrations.

Typical use::

    from helpers.tasks.managed import CourseManager, count_words

    with CourseManager() as manager:
        tally = manager.Tally()
        with ctx.Pool(2) as pool:
            pool.starmap(count_words, [(tally, line) for line in lines])
        print(tally.most_common(3))
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, MutableMapping, MutableSequence
from multiprocessing.managers import BaseManager

from helpers.tasks.protocols import PutQueue, SupportsAcquire

__all__ = [
    "CourseManager",
    "Tally",
    "add_to_counter",
    "append_to",
    "count_words",
    "record_square",
    "remote_count_words",
    "shared_tally",
    "square_with_progress",
]


# --------------------------------------------------------------------------------------------
# Child-side functions for the built-in proxies (dict, list, Queue, Lock)
# --------------------------------------------------------------------------------------------


def record_square(results: MutableMapping[int, int], log: MutableSequence[int], x: int) -> int:
    """Store ``results[x] = x * x`` and append this process's PID to ``log``; return ``x * x``.

    ``results`` is a managed dict and ``log`` a managed list (``manager.dict()``,
    ``manager.list()``): both writes happen in the manager, so the parent sees them. Two round
    trips to the manager per call.
    """
    square = x * x
    results[x] = square
    log.append(os.getpid())
    return square


def square_with_progress(progress: PutQueue, x: int, seconds: float = 0.1) -> int:
    """Sleep ``seconds`` (the "work"), put ``x`` on the ``progress`` queue, return ``x * x``.

    ``progress`` is a manager's queue (``manager.Queue()``), which may travel inside a ``Pool``
    task; the parent reads it while the pool works, to show live progress.
    """
    time.sleep(seconds)
    progress.put(x)
    return x * x


def add_to_counter(
    counter: MutableMapping[str, int],
    key: str,
    times: int,
    lock: SupportsAcquire | None = None,
    pause: float = 0.0,
    together: threading.Barrier | None = None,
    timeout: float = 10.0,
) -> int:
    """Do ``counter[key] += 1`` ``times`` times, under ``lock`` if one is given; return ``times``.

    ``counter`` is a managed dict. ``counter[key] += 1`` is two separate calls to the manager,
    a read (``__getitem__``) and then a write (``__setitem__``); without a lock another process
    can read the same old value in between, and one of the two updates is lost. ``lock`` is a
    lock every worker shares, such as ``manager.Lock()`` (a proxy, so it can be a ``Pool`` task
    argument). ``pause`` seconds pass between the read and the write, to widen the race.

    ``together`` is an optional barrier for all the workers (``manager.Barrier(n)``), waited on
    (at most ``timeout`` seconds) before the first increment: processes start one after another,
    and on a busy machine the first could finish before the last has begun, hiding the race.
    """
    if together is not None:
        try:
            together.wait(timeout)
        except threading.BrokenBarrierError:
            pass
    for _ in range(times):
        if lock is None:
            _read_pause_write(counter, key, pause)
        else:
            with lock:
                _read_pause_write(counter, key, pause)
    return times


def _read_pause_write(counter: MutableMapping[str, int], key: str, pause: float) -> None:
    value = counter[key]  # one round trip: the manager sends back a copy of the value
    if pause > 0:
        time.sleep(pause)
    counter[key] = value + 1  # another round trip


def append_to(shared: MutableMapping[str, MutableSequence[int]], key: str, item: int) -> list[int]:
    """Do ``shared[key].append(item)`` and return ``shared[key]`` as this process sees it after.

    With a managed dict of plain lists the append changes a local copy and is lost; with a
    managed dict of managed lists (``shared[key] = manager.list()``) the append runs in the
    manager and sticks. The return value is a plain copy, for comparison.
    """
    shared[key].append(item)
    value = shared[key]
    return list(value)


# --------------------------------------------------------------------------------------------
# A class of our own, served by a custom manager
# --------------------------------------------------------------------------------------------


class Tally:
    """Count words; meant to live in a manager process and be used through a proxy.

    The manager serves each connected process in its own thread, so several methods can run at
    the same time; a ``threading.Lock`` (enough, since every call runs inside the one manager
    process) keeps each method atomic. :meth:`add` does the whole read-modify-write inside the
    manager, in one round trip: no update is lost, and no lock is needed by the callers.

    Only public methods are reachable through an automatic proxy (not attributes, properties or
    names starting with ``_``), and every result comes back as a pickled copy.
    """

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, words: Iterable[str]) -> int:
        """Count each word in ``words`` once more; return how many words were added."""
        words = list(words)
        with self._lock:
            self._counts.update(words)
        return len(words)

    def count(self, word: str) -> int:
        """How many times ``word`` has been added."""
        with self._lock:
            return self._counts[word]

    def total(self) -> int:
        """How many words have been added in all."""
        with self._lock:
            return sum(self._counts.values())

    def most_common(self, n: int = 3) -> list[tuple[str, int]]:
        """The ``n`` most frequent words with their counts, most frequent first."""
        with self._lock:
            return self._counts.most_common(n)

    def served_by(self) -> int:
        """The PID of the process this object lives in (the manager's, through a proxy)."""
        return os.getpid()


# One Tally per name, created on first use inside the manager process (see shared_tally).
_SHARED_TALLIES: dict[str, Tally] = {}
_SHARED_LOCK = threading.Lock()


def shared_tally(name: str = "default") -> Tally:
    """Return the manager's tally called ``name``, creating it the first time.

    Registered as ``CourseManager.shared_tally``: every process that connects to the same
    manager, including one that only knows its address and authkey, gets a proxy to the same
    object, because this function runs in the manager process and keeps the tallies there.
    """
    with _SHARED_LOCK:
        if name not in _SHARED_TALLIES:
            _SHARED_TALLIES[name] = Tally()
        return _SHARED_TALLIES[name]


class CourseManager(BaseManager):
    """A manager that serves :class:`Tally` objects.

    ``manager.Tally()`` creates a new tally in the manager process and returns a proxy to it;
    ``manager.shared_tally(name)`` returns a proxy to the tally of that name, the same one for
    every client. Start it with ``with CourseManager() as manager:`` (or ``.start()`` and
    ``.shutdown()``); to serve other programs give it ``address=("127.0.0.1", 0)`` and an
    ``authkey``, and let them ``connect()`` with the same pair.
    """


CourseManager.register("Tally", Tally)
CourseManager.register("shared_tally", shared_tally)


# --------------------------------------------------------------------------------------------
# Child-side functions for the custom manager
# --------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [word.strip(".,;:!?\"'()").lower() for word in text.split() if word.strip(".,;:!?")]


def count_words(tally: Tally, text: str) -> int:
    """Split ``text`` into lower-case words and add them all to ``tally`` in one call.

    ``tally`` is a proxy to a :class:`Tally` (``manager.Tally()``). One call for the whole text,
    not one per word: each call is a round trip to the manager. Returns the number of words.
    """
    return int(tally.add(_words(text)))


def remote_count_words(address: tuple[str, int], authkey: bytes, name: str, text: str) -> int:
    """Connect to a running :class:`CourseManager` by address, and count ``text`` into a tally.

    This is what a program started elsewhere (another terminal, another machine) would do: it
    knows nothing but the manager's ``address`` and ``authkey``, connects, looks the tally up
    by ``name`` with ``shared_tally`` and adds its words. Returns the number of words added.
    Raises ``multiprocessing.AuthenticationError`` when the authkey is wrong and
    ``ConnectionRefusedError`` when nothing listens at ``address``.
    """
    client = CourseManager(address=address, authkey=authkey)
    client.connect()
    return count_words(client.shared_tally(name), text)
