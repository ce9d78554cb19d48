"""Moved to :mod:`helpers.tasks.managed`; this alias keeps the old import path working."""

import sys

from helpers.tasks import managed as _moved

sys.modules[__name__] = _moved
