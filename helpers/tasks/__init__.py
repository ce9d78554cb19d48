"""Child side: the functions that run inside worker processes, one module per lesson.

Who imports this: child processes (they find a task by its module and name, for example
``helpers.tasks.workers.count_primes``), the lessons that start them, the self-checks and the
graders. Everything here is a top-level function or class of an importable module, so it pickles
by reference under fork, spawn and forkserver alike; nothing here draws, measures or grades.

============================  ==========================================================
module                        what runs in the child
============================  ==========================================================
:mod:`~helpers.tasks.workers`       general tasks used across the course (``count_primes``, ...)
:mod:`~helpers.tasks.processes`     01: how a process ends, signals, daemons
:mod:`~helpers.tasks.startmethods`  02: what a fork, spawn or forkserver child sees
:mod:`~helpers.tasks.pools`         03: pool initialisers, exceptions that do or do not pickle
:mod:`~helpers.tasks.ipc`           04: producers, consumers, pipe partners
:mod:`~helpers.tasks.sync`          05: locks, semaphores, events, conditions, barriers
:mod:`~helpers.tasks.shared`        06: ``Value``, ``Array`` and ``shared_memory``
:mod:`~helpers.tasks.managed`       07: objects shared through a manager
:mod:`~helpers.tasks.compare`       08: processes versus threads
:mod:`~helpers.tasks.scale`         10: tasks for a Dask cluster, and starting one
:mod:`~helpers.tasks.protocols`     the shapes of what tasks accept (a lock, a queue ...), for type hints
============================  ==========================================================

Submodules are imported on demand (``from helpers.tasks import workers``); importing this
package imports none of them.
"""

__all__: list[str] = []
