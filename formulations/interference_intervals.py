"""Old import path (kept until the callers move): the interval model is
:mod:`mecopt.formulations.interference.intervals`, the shared pieces
:mod:`mecopt.formulations.interference.geometry`."""

from mecopt.formulations.interference.geometry import (
    BREAK_MARGIN,
    breakpoint_for,
    interval_costs,
    max_interference,
    received,
    true_interference,
)
from mecopt.formulations.interference.intervals import ROW_ZDEF, IntervalModel, build_intervals

__all__ = ["BREAK_MARGIN", "ROW_ZDEF", "IntervalModel", "breakpoint_for", "build_intervals",
           "interval_costs", "max_interference", "received", "true_interference"]
