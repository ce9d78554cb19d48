"""Moved to :mod:`helpers.setup.cli`; this alias keeps the old import path working."""

import sys

from helpers.setup import cli as _moved

sys.modules[__name__] = _moved
