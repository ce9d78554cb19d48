"""Moved to :mod:`helpers.tasks.startmethods`; this alias keeps the old import path working."""

import sys

from helpers.tasks import startmethods as _moved

sys.modules[__name__] = _moved
