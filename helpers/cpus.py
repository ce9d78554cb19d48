"""Moved to :mod:`helpers.instruments.cpus`; this alias keeps the old import path working."""

import sys

from helpers.instruments import cpus as _moved

sys.modules[__name__] = _moved
