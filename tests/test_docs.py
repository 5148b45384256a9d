"""The examples in the public docstrings run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = ["mecopt.evaluate", "mecopt.scenarios", "mecopt.solve", "mecopt.longterm.hindsight"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
