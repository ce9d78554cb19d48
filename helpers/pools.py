"""Moved to :mod:`helpers.tasks.pools`; this alias keeps the old import path working."""

import sys

from helpers.tasks import pools as _moved

sys.modules[__name__] = _moved
