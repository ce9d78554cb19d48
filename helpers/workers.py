"""The old name of :mod:`helpers.tasks.workers`, kept so notebooks copied from an older release
(``from helpers.workers import count_primes``) still run. New code imports
:mod:`helpers.tasks.workers`.

Deliberately a re-export, not a copy: the functions' home (what a child process imports to find
them, and what pickles by reference) is :mod:`helpers.tasks.workers`.
"""

from helpers.tasks.workers import *  # noqa: F403
from helpers.tasks.workers import __all__ as __all__
