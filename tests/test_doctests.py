"""The examples in the helpers' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import helpers

MODULES = sorted(m.name for m in pkgutil.walk_packages(helpers.__path__, "helpers."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_importing_helpers_has_no_side_effects():
    """No start method chosen, no matplotlib imported, nothing started."""
    import subprocess
    import sys

    code = (
        "import sys, multiprocessing as mp, helpers\n"
        "assert mp.get_start_method(allow_none=True) is None, 'a start method was set'\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
        "assert not mp.active_children()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
