"""Moved to :mod:`helpers.tasks.scale`; this alias keeps the old import path working."""

import sys

from helpers.tasks import scale as _moved

sys.modules[__name__] = _moved
