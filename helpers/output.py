"""Moved to :mod:`helpers.instruments.output`; this alias keeps the old import path working."""

import sys

from helpers.instruments import output as _moved

sys.modules[__name__] = _moved
