"""The end of every exact solve: closing bounds, local search, status, stop reason, result."""

from __future__ import annotations

import numpy as np

from mecopt.heuristics.local_search import improve
from mecopt.result import SolveResult, proven, relative_gap
from mecopt.solvers.exact import interference_bound, interference_dual
from mecopt.solvers.exact.state import SolveState

#: Bounds of methods that settle the whole instance (no closing bound can beat them).
SETTLING = ("enumeration", "count-intervals")


def infeasible(state: SolveState, message: str) -> SolveResult:
    """The result for a proof of infeasibility, which must not contradict a feasible
    heuristic answer."""
    if state.best() is not None:
        state.notes.append("but a heuristic assignment is feasible: the proof is wrong, "
                           "please report this instance")
        return finish(state, "feasible", message)
    state.candidates.clear()
    return finish(state, "infeasible", message)


def finish(state: SolveState, status: str, message: str) -> SolveResult:
    """Close the solve: interference bounds and local search (with interference), drop
    faulty bounds, decide the status and the stop reason."""
    if status != "infeasible" and not _settled(state):
        for method in (interference_bound, interference_dual):
            if method.accepts(state):
                state.absorb(method.run(state))
    _local_search(state)
    best = state.best()
    a, m, winner = (None, None, None) if best is None else (best[1], best[2], best[0])
    obj = None if m is None else m.objective
    valid = _valid_bounds(state, obj)
    bound = max(valid.values()) if valid and status != "infeasible" else None
    gap = relative_gap(obj, bound)
    if status != "infeasible":
        status = "no_solution" if m is None else "optimal" if proven(gap, state.options.gap) \
            else "feasible"
    opts, info = state.options, state.info
    stop = stop_reason(state, status, message)
    info["winner"] = winner
    info["bound_source"] = None if bound is None else max(valid, key=valid.get)
    if status == "optimal" and "backend failed" in message:
        message = message.replace("backend failed; best other answer returned",
                                  f"backend failed; proven by the {info['bound_source']} "
                                  "bound")
    state.final_report(obj, bound)
    return SolveResult(
        assignment=a, status=status, objective=obj, bound=bound, gap=gap,
        runtime=state.budget.elapsed(), solver=opts.solver_name,
        solver_version=opts.backend.version(), seed=opts.seed, threads=opts.threads,
        time_limit=opts.time_limit, metrics=m, message="; ".join([message, *state.notes]),
        info=info, gap_tol=opts.gap, stop=stop,
    )


def _settled(state: SolveState) -> bool:
    """True when a settling method's bound already proves the best answer."""
    known = state.best()
    exact = [state.bounds[k] for k in SETTLING if k in state.bounds]
    return known is not None and bool(exact) and \
        proven(relative_gap(known[2].objective, max(exact)) or 0.0, state.options.gap)


def _local_search(state: SolveState) -> None:
    """Single-move local search from the best answer (interference only)."""
    best = state.best()
    limit = state.options.local_search_budget
    if best is None or state.inst.interference == "none" or limit <= 0:
        return
    budget = state.budget.capped(limit)
    if budget > 0:
        state.add(f"{best[0]}+local-search", improve(state.inst, best[1], time_budget=budget),
                  quiet=True)


def _valid_bounds(state: SolveState, obj: float | None) -> dict[str, float]:
    """The finite bounds; one above a feasible objective means a faulty method: it is
    dropped and a note says so."""
    valid = {}
    slack = state.params.bound_slack
    for source, value in state.bounds.items():
        if not np.isfinite(value):
            continue
        if obj is not None and value > obj + slack * abs(obj):
            state.notes.append(f"{source} bound {value:.9g} exceeds a feasible objective "
                               f"{obj:.9g} and was dropped (please report this instance)")
        else:
            valid[source] = value
    return valid


def stop_reason(state: SolveState, status: str, message: str) -> str:
    """Why the run ended (:data:`mecopt.result.STOPS`)."""
    if status == "optimal":
        return "gap"
    if status == "infeasible":
        return "infeasible"
    if "backend failed" in message:
        return "error"
    limited = bool(state.info.get("backend_limit"))
    limit = state.options.time_limit
    if limit is not None and (limited or state.budget.elapsed()
                              >= state.params.time_limit_share * limit):
        return "time_limit"
    if limited or "numeric range" in message:
        return "solver_limit"
    return "no_proof"
