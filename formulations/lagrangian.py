"""Old import path (kept until the callers move): the Lagrangian bound is
:mod:`mecopt.formulations.bounds.lagrangian`, the fixed-count assignment and the count
search :mod:`mecopt.formulations.fixed_count`."""

from mecopt.formulations.bounds.lagrangian import LagrangianResult, lagrangian_bound
from mecopt.formulations.fixed_count import assign_for_counts, count_search

__all__ = ["LagrangianResult", "assign_for_counts", "count_search", "lagrangian_bound"]
