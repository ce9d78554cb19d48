"""Moved to :mod:`helpers.tasks.sync`; this alias keeps the old import path working."""

import sys

from helpers.tasks import sync as _moved

sys.modules[__name__] = _moved
