"""Closing step with other-cells interference beyond the interval methods' reach: the
Lagrangian interference bound of :mod:`mecopt.solvers.interference_dual`, whose search may
also return a better assignment (a candidate like any other)."""

from __future__ import annotations

from mecopt.solvers import interference_dual as dual
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import SolveState


def accepts(state: SolveState) -> bool:
    """What the dual's own ``accepts`` says (instance and time left)."""
    return state.inst.interference != "none" and dual.accepts(state.inst, state.budget.left())


def run(state: SolveState) -> Outcome:
    """The dual's assignment (``"interference-dual"``) and bound."""
    known = state.best()
    if known is None:
        return Outcome(started=False)
    args = (state.inst, known[1], known[2].objective, state.options.gap, state.deadline)
    a, value = dual.search(*args)
    out = Outcome(bounds={} if value is None else {"interference-dual": value})
    if a is not None:
        out.assignments["interference-dual"] = a
    return out
