"""Old import path (kept until the callers move): the fixed-count transportation problem
is :mod:`mecopt.formulations.fixed_count`."""

from mecopt.formulations.fixed_count import COST_SCALE, cost_matrix, transport_assignment

__all__ = ["COST_SCALE", "cost_matrix", "transport_assignment"]
