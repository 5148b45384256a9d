"""Lazy imports of the optional measurement dependencies (torch, transformers)."""

from __future__ import annotations

import importlib
from types import ModuleType

from mecopt.errors import MissingDependencyError

__all__ = ["import_torch", "import_transformers"]

_HINT = "pip install 'mecopt[measure]'"


def _require(name: str) -> ModuleType:
    """Import ``name`` or raise :class:`MissingDependencyError` naming the extra."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise MissingDependencyError(f"measuring models needs {name}: {_HINT}") from None


def import_torch() -> ModuleType:
    """Return the ``torch`` module.

    Raises
    ------
    MissingDependencyError
        If torch is not installed; the message names the extra to install.
    """
    return _require("torch")


def import_transformers() -> ModuleType:
    """Return the ``transformers`` module.

    Raises
    ------
    MissingDependencyError
        If transformers is not installed; the message names the extra to install.
    """
    return _require("transformers")
