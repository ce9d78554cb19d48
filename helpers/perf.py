"""Moved to :mod:`helpers.instruments.perf`; this alias keeps the old import path working."""

import sys

from helpers.instruments import perf as _moved

sys.modules[__name__] = _moved
