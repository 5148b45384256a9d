"""Exceptions raised by mecopt."""

from __future__ import annotations


class MecoptError(Exception):
    """Base class of the errors mecopt raises on purpose."""


class UnknownNameError(MecoptError, ValueError):
    """A strategy, solver or scenario name that is not registered."""


class MissingDependencyError(MecoptError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""
