"""Old import path of the Lagrangian pricing (kept until the callers move): see
:mod:`mecopt.formulations.bounds.lagrangian`."""

from mecopt.formulations.bounds.lagrangian import (
    DualBound,
    ascent,
    chosen_users,
    dual_bound,
    layer_values,
    start_multipliers,
)

__all__ = ["DualBound", "ascent", "chosen_users", "dual_bound", "layer_values",
           "start_multipliers"]
