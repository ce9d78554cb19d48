"""The old name of :mod:`helpers.instruments.timeline`, kept so notebooks copied from an older
release (``from helpers.timeline import processes_used``) still run. New code imports
:mod:`helpers.instruments.timeline` (or the same names from :mod:`helpers`).

Deliberately a re-export, not a copy.
"""

from helpers.instruments.timeline import *  # noqa: F403
from helpers.instruments.timeline import __all__ as __all__
