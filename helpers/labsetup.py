"""Moved to :mod:`helpers.setup.labsetup`; this alias keeps the old import path working."""

import sys

from helpers.setup import labsetup as _moved

sys.modules[__name__] = _moved
