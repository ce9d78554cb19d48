"""Parent side: measure, explain and show what child processes did.

Who imports this: the lessons, benchmarks, self-checks and graders, in the parent process. A worker
process imports only :mod:`~helpers.instruments.timeline` (its :class:`Timed` wrapper runs in the
child) and :mod:`~helpers.instruments.output` (the relay of a child's prints).

==============================  ========================================================
module                          what it is for
==============================  ========================================================
:mod:`~helpers.instruments.cpus`      how many CPUs this process can really use
:mod:`~helpers.instruments.timeline`  record which process ran each task, when, and its CPU time
:mod:`~helpers.instruments.plots`     timelines and speedup plots (the only matplotlib importer)
:mod:`~helpers.instruments.perf`      speedup models (Amdahl, Gustafson) and measuring them
:mod:`~helpers.instruments.explorer`  the interactive performance explorer (lesson 09)
:mod:`~helpers.instruments.output`    show what child processes print, on every platform
:mod:`~helpers.instruments.safety`    say before starting a process whether a task pickles
==============================  ========================================================

The names a lesson uses most (``usable_cpus``, ``timed``, ``plot_timeline``, ...) are also
importable from :mod:`helpers` itself. Importing this package imports no submodule.
"""

__all__: list[str] = []
