"""Old import path (kept until the callers move): see
:mod:`mecopt.formulations.bounds.interference`."""

from mecopt.formulations.bounds.interference import (
    MAX_USERS,
    interference_bound,
    min_interference,
)

__all__ = ["MAX_USERS", "interference_bound", "min_interference"]
