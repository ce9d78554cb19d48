"""Moved to :mod:`helpers.tasks.processes`; this alias keeps the old import path working."""

import sys

from helpers.tasks import processes as _moved

sys.modules[__name__] = _moved
