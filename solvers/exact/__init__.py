"""The exact driver: a chain of methods, each accepting some instances and returning one
:class:`Outcome` (see :mod:`mecopt.solvers.exact.driver`)."""

from mecopt.solvers.exact.chain import CHAIN, FORMULATIONS
from mecopt.solvers.exact.checks import (
    NUMERIC_RANGE_S,
    estimated_columns,
    numeric_range_ok,
    trivial_bound,
)
from mecopt.solvers.exact.driver import solve_exact
from mecopt.solvers.exact.outcome import Outcome, Units
from mecopt.solvers.exact.params import PARAMS, ExactParams
from mecopt.solvers.exact.state import Budget, ExactOptions, SolveState

__all__ = ["CHAIN", "FORMULATIONS", "NUMERIC_RANGE_S", "PARAMS", "Budget", "ExactOptions",
           "ExactParams", "Outcome", "SolveState", "Units", "estimated_columns",
           "numeric_range_ok", "solve_exact", "trivial_bound"]
