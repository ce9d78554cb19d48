"""Moved to :mod:`helpers.instruments.plots`; this alias keeps the old import path working."""

import sys

from helpers.instruments import plots as _moved

sys.modules[__name__] = _moved
