"""Moved to :mod:`helpers.tasks.compare`; this alias keeps the old import path working."""

import sys

from helpers.tasks import compare as _moved

sys.modules[__name__] = _moved
