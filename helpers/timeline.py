"""Moved to :mod:`helpers.instruments.timeline`; this alias keeps the old import path working."""

import sys

from helpers.instruments import timeline as _moved

sys.modules[__name__] = _moved
