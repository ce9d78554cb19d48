"""Moved to :mod:`helpers.instruments.safety`; this alias keeps the old import path working."""

import sys

from helpers.instruments import safety as _moved

sys.modules[__name__] = _moved
