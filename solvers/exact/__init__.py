"""The exact driver: a chain of methods, each accepting some instances and returning one
:class:`Outcome`.

- ``driver``: :func:`solve_exact`, the chain run in order; ``chain``: the ``auto`` rule as
  a table of (method, run, accepts); ``finish``: closing bounds, status, stop reason.
- ``state`` (:class:`SolveState`, :class:`Budget`, :class:`ExactOptions`), ``params``
  (:class:`ExactParams`), ``outcome`` (:class:`Outcome`, :class:`Units`), ``checks``
  (numeric range, model size, trivial bound), ``backend_run`` (the MILP backend).
- Methods, one file each: ``enumeration``, ``best_response``, ``count_intervals``,
  ``intervals``, ``big_m``, ``decomposition`` (with ``rounds``, ``count_enumeration`` and
  its ``count_vector`` LP/MILP, ``side_multiplier``), ``count_indexed``; closing steps
  ``interference_bound`` and ``interference_dual``.
"""

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
