"""Moved to :mod:`helpers.setup.doctor`; this alias keeps the old import path working."""

import sys

from helpers.setup import doctor as _moved

sys.modules[__name__] = _moved
