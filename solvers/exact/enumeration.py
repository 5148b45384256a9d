"""Formulation ``"enumeration"``: every assignment scored by the evaluator (exact with
interference), for instances with at most ``enumeration_limit`` assignments."""

from __future__ import annotations

from mecopt.solvers.bruteforce import BruteForceSolver
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import SolveState


def accepts(state: SolveState) -> bool:
    """Asked for by name, or ``"auto"`` on an interference instance with at most
    ``enumeration_limit`` assignments ``(M + 1)^N``."""
    inst = state.inst
    tiny = (inst.n_servers + 1) ** inst.n_users <= state.params.enumeration_limit
    return state.asked("enumeration") or (
        state.auto and state.options.lagrangian_mode == "auto"
        and inst.interference != "none" and tiny)


def run(state: SolveState) -> Outcome:
    """Brute force to the deadline; it ends the solve when it finishes (a proof either
    way), else its best answer joins the candidates and the chain goes on."""
    state.info["formulation"] = "enumeration"
    left = state.budget.left()
    bf = BruteForceSolver().run(state.inst, time_limit=None if state.deadline is None
                                else max(left, 0), seed=state.options.seed, threads=1)
    if bf.status == "infeasible":
        return Outcome(infeasible="enumeration: no assignment is feasible")
    out = Outcome()
    if bf.assignment is not None:
        out.assignments["enumeration"] = bf.assignment
    if bf.status == "optimal":
        out.bounds["enumeration"] = bf.objective
        out.message = "enumeration of every assignment"
    return out
