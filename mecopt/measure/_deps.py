"""Lazy imports of the optional measurement dependencies (torch, transformers)."""

from __future__ import annotations

import importlib
from types import ModuleType

from mecopt.errors import MissingDependencyError

__all__ = ["import_torch", "import_transformers", "require_gguf"]

_HINT = "pip install 'mecopt[measure]'"


def _require(name: str, purpose: str = "measuring models") -> ModuleType:
    """Import ``name`` or raise :class:`MissingDependencyError` naming the extra."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise MissingDependencyError(f"{purpose} needs {name}: {_HINT}") from None


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


def require_gguf() -> None:
    """Check that the GGUF loader's packages (``gguf``, ``accelerate``) are installed.

    Raises
    ------
    MissingDependencyError
        If one is missing; the message names the extra to install.
    """
    for name in ("gguf", "accelerate"):
        _require(name, "reading GGUF model files")
