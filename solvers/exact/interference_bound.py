"""Closing bound with interference: the interference-aware bound of
:mod:`mecopt.formulations.bounds.interference` at the multipliers of a short
interference-free ascent."""

from __future__ import annotations

import time

import numpy as np

from mecopt.formulations.bounds.interference import MAX_USERS
from mecopt.formulations.bounds.interference import interference_bound as aware_bound
from mecopt.formulations.bounds.lagrangian import ascent, start_multipliers
from mecopt.formulations.option_cost import LayerCosts
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import SolveState


def accepts(state: SolveState) -> bool:
    """Instances with interference, small enough for the bound, with time left."""
    return (state.inst.interference != "none" and state.inst.n_users <= MAX_USERS
            and state.budget.left() > 0)


def run(state: SolveState) -> Outcome:
    """The bound as ``"interference"`` (nothing without a feasible answer)."""
    best = state.best_free()
    if best is None:
        return Outcome(started=False)
    costs = LayerCosts.of(state.free)
    budget = min(state.params.interference_bound_budget, 0.5 * state.budget.left())
    _, u, mu = ascent(costs, start_multipliers(costs, best[1]), None,
                      state.units.total(best[2].objective),
                      deadline=time.perf_counter() + budget, max_iter=200)
    value = aware_bound(state.inst, u, mu)
    return Outcome(bounds={"interference": value} if np.isfinite(value) else {})
