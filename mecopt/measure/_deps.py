"""Lazy imports of the optional measurement dependencies (torch, transformers)."""

from __future__ import annotations

from types import ModuleType

from mecopt.errors import MissingDependencyError

__all__ = ["import_torch", "import_transformers"]

_HINT = "pip install 'mecopt[measure]'"


def import_torch() -> ModuleType:
    """Return the ``torch`` module.

    Raises
    ------
    MissingDependencyError
        If torch is not installed; the message names the extra to install.
    """
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(f"measuring models needs torch: {_HINT}") from None
    return torch


def import_transformers() -> ModuleType:
    """Return the ``transformers`` module.

    Raises
    ------
    MissingDependencyError
        If transformers is not installed; the message names the extra to install.
    """
    try:
        import transformers
    except ImportError:
        raise MissingDependencyError(f"measuring models needs transformers: {_HINT}") from None
    return transformers
