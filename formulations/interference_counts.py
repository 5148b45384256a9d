"""Old import path (kept until the callers move): the fixed-count interval model is
:mod:`mecopt.formulations.interference.count_intervals`."""

from mecopt.formulations.interference.count_intervals import (
    VectorModel,
    build,
    grid,
    layer_costs,
    reduced_costs,
)
from mecopt.formulations.interference.geometry import interference_range

__all__ = ["VectorModel", "build", "grid", "interference_range", "layer_costs",
           "reduced_costs"]
