"""Formulation ``"big-m"``: the generic big-M model of :mod:`mecopt.formulations.big_m` on
the backend alone (warm-started from the greedy seeds), the reference the others are timed
against; no interference."""

from __future__ import annotations

from mecopt.errors import MecoptError
from mecopt.formulations import big_m
from mecopt.instance import Instance
from mecopt.solvers.exact.backend_run import absorb, hint, run_backend
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import ExactOptions, SolveState


def check(inst: Instance, options: ExactOptions) -> None:
    """Raise when ``"big-m"`` is asked for on an instance with interference."""
    if options.formulation == "big-m" and inst.interference != "none":
        raise MecoptError(f"formulation 'big-m': interference = {inst.interference!r} is not "
                          "modelled; use formulation 'auto'")


def accepts(state: SolveState) -> bool:
    """Only by name."""
    return state.asked("big-m")


def run(state: SolveState) -> Outcome:
    """The backend on the big-M model to the deadline."""
    bm = big_m.build(state.free)
    state.info.update({"formulation": "big-m", "cols": bm.milp.n_vars,
                       "rows": bm.milp.n_rows})
    if bm.infeasible_reason:
        return Outcome(infeasible=bm.infeasible_reason)
    br = run_backend(state, bm, hint(state, bm, None), state.deadline)
    if br is None:
        return Outcome(message=f"{state.backend.name}: not started")
    return absorb(state, br, bm)
