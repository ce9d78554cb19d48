"""Moved to :mod:`helpers.tasks.ipc`; this alias keeps the old import path working."""

import sys

from helpers.tasks import ipc as _moved

sys.modules[__name__] = _moved
