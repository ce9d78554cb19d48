"""Moved to :mod:`helpers.tasks.workers`; this alias keeps the old import path working."""

import sys

from helpers.tasks import workers as _moved

sys.modules[__name__] = _moved
