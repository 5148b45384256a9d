"""Closing step with other-cells interference from ``INTERVALS_N`` users on: the
Lagrangian interference bound of :mod:`mecopt.solvers.interference_dual`, whose search may
also return a better assignment."""

from __future__ import annotations

from mecopt.solvers import interference_dual as dual
from mecopt.solvers.exact.intervals import models_intervals
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import SolveState


def accepts(state: SolveState) -> bool:
    """Interference instances from ``intervals_n`` users on (and what the dual's own
    ``accepts`` says about the time left, when it has one)."""
    inst = state.inst
    if inst.interference == "none" or inst.n_users < state.params.intervals_n:
        return False
    check = getattr(dual, "accepts", None)
    return check is None or (models_intervals(inst) and bool(check(inst, state.budget.left())))


def run(state: SolveState) -> Outcome:
    """The dual's assignment (``"interference-dual"``) and bound."""
    known = state.best()
    if known is None:
        return Outcome(started=False)
    args = (state.inst, known[1], known[2].objective, state.options.gap, state.deadline)
    search = getattr(dual, "search", None)
    if search is None:
        a, value = None, dual.bound(*args)
    else:
        a, value = search(*args)
    out = Outcome(bounds={} if value is None else {"interference-dual": value})
    if a is not None:
        out.assignments["interference-dual"] = a
    return out
