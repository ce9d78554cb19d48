"""Moved to :mod:`helpers.tasks.shared`; this alias keeps the old import path working."""

import sys

from helpers.tasks import shared as _moved

sys.modules[__name__] = _moved
