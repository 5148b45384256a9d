"""Formulation ``"decomposition"``: no full model, bounds by Lagrangian pricing.

The rounds of ascent, primal re-optimisation and count fixing are in
:mod:`mecopt.solvers.exact.rounds`. Here the driver runs them, then, while the gap is
open: count enumeration (:mod:`.count_enumeration`, side rows, HiGHS), the side-row
multiplier search (:mod:`.side_multiplier`, exactly one side row), and the backend on the
count-indexed model over the counts that survive count fixing.
"""

from __future__ import annotations

import numpy as np

from mecopt.formulations.bounds.lagrangian import ascent
from mecopt.formulations.count_indexed import build_layers
from mecopt.formulations.option_cost import LayerCosts
from mecopt.result import relative_gap
from mecopt.solvers.exact import count_enumeration, side_multiplier
from mecopt.solvers.exact.backend_run import absorb, hint, run_backend
from mecopt.solvers.exact.checks import estimated_columns
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.rounds import MAX_REDUCED_COLS, Multipliers, decompose, reduced_model
from mecopt.solvers.exact.state import SolveState


def accepts(state: SolveState) -> bool:
    """Asked for by name, or ``"auto"`` from ``decomposition_n`` users, above
    ``large_model_cols`` estimated columns, or with a side row above
    ``side_row_decomposition_n`` users."""
    if state.asked("decomposition"):
        return True
    inst, p = state.inst, state.params
    side_rows = inst.min_accuracy is not None or inst.max_hallucination is not None
    return state.auto and (estimated_columns(state.free) > p.large_model_cols
                           or inst.n_users >= p.decomposition_n
                           or (side_rows and inst.n_users > p.side_row_decomposition_n))


def run(state: SolveState) -> Outcome:
    """Ascent and primal rounds, then (gap still open) count enumeration, the side-row
    multiplier search and count fixing with the backend on the reduced model."""
    side = side_multiplier.single_side_row(state.free) is not None
    # With one side row the multiplier search gives the better bound: ascent gets a share.
    stop = state.budget.share(state.params.decomposition_side_share) if side \
        else state.deadline
    out, mult, costs = decompose(state.free, state.starts(), deadline=stop,
                                 seed=state.options.seed, report=state.report_total,
                                 gap=state.options.gap)
    if np.isfinite(mult.bound):
        out.bounds["lagrangian"] = state.units.mean(mult.bound)
        out.info["lagrangian_bound"] = out.bounds["lagrangian"]
    state.absorb(out)
    free_best = state.best_free()
    if free_best is None:
        # Nothing feasible known: only the whole model can prove infeasibility.
        return _whole_model(state, costs)
    upper = free_best[2].objective
    if mult.u is None:
        # No ascent step finished (a time limit shorter than the heuristic seeds on a
        # very large instance): no bound to report, nothing closed.
        return Outcome(message="decomposition: stopped before the first Lagrangian bound")
    if _closed(state, upper, "lagrangian"):
        return Outcome(message="decomposition: closed by the Lagrangian bound")
    if state.budget.left() <= 0:
        return Outcome(message="decomposition: time limit")
    if count_enumeration.accepts(state, costs):
        # Few count vectors survive: settle them one by one (exact with the side rows).
        found = count_enumeration.run(state, costs, mult.u, mult.mu)
        if found.started and found.complete:
            return Outcome(message="decomposition + count enumeration: every count vector "
                                   "settled")
        if found.started and state.budget.left() <= 0:
            return Outcome(message="decomposition + count enumeration: time limit")
    if side and mult.mu is not None:
        reduced = reduced_model(costs, mult, state.units.total(upper)) is not None
        done, upper = side_multiplier.run(state, costs, mult, upper, descend=not reduced)
        if done is not None:
            return done
        if _closed(state, upper, "side-multiplier", "lagrangian"):
            return Outcome(message="decomposition: closed by the side-row multiplier search")
        if state.budget.left() <= 0:
            return Outcome(message="decomposition + side-row multiplier search: time limit")
    return _count_fixing(state, costs, mult, upper, free_best[0])


def _closed(state: SolveState, upper: float, *sources: str) -> bool:
    """True when the best of ``sources``' bounds closes the gap to ``upper``."""
    bound = max((state.bounds[s] for s in sources if s in state.bounds), default=None)
    now_gap = relative_gap(upper, bound)
    return now_gap is not None and now_gap <= state.options.gap


def _whole_model(state: SolveState, costs: LayerCosts) -> Outcome:
    """Without a feasible answer: the backend on the whole layered model, if it fits."""
    if estimated_columns(state.free) > MAX_REDUCED_COLS:
        return Outcome(message="decomposition: no feasible assignment found")
    model = build_layers(costs, [np.arange(1, int(k) + 1) for k in costs.limit])
    if model.infeasible_reason:
        return Outcome(infeasible=model.infeasible_reason)
    br = run_backend(state, model, None, state.deadline)
    if br is None:
        return Outcome(message=f"{state.backend.name}: not started")
    return absorb(state, br, model)


def _count_fixing(state: SolveState, costs: LayerCosts, mult: Multipliers, upper: float,
                  incumbent: str) -> Outcome:
    """Count fixing against ``upper`` (raising the bound first when too many counts
    survive), then the backend on the counts kept, warm-started from ``incumbent``."""
    total = state.units.total(upper)
    model = reduced_model(costs, mult, total)
    if model is None and state.budget.left() > 0:
        # Too many counts survive: spend most of the time left raising the bound, then fix
        # counts again.
        db, u, mu = ascent(costs, mult.u, mult.mu, total, deadline=state.budget.reserve(0.3),
                           max_iter=10_000 if state.deadline is not None else 2_000,
                           progress=lambda v: state.report_total("lagrangian", None, v))
        if db.bound > mult.bound:
            mult.bound, mult.u, mult.mu = db.bound, u, mu
            state.bound("lagrangian", state.units.mean(mult.bound), quiet=True)
            state.info["lagrangian_bound"] = state.bounds["lagrangian"]
        if _closed(state, upper, "lagrangian"):
            return Outcome(message="decomposition: closed by the Lagrangian bound")
        model = reduced_model(costs, mult, total)
    if model is None:
        return Outcome(message="decomposition: too many counts survive count fixing for the "
                               "backend; Lagrangian bound reported")
    state.info.update({"cols": model.milp.n_vars, "rows": model.milp.n_rows})
    if model.infeasible_reason:
        # No count combination beats the incumbent: it is optimal.
        return Outcome(bounds={"count-fixing": upper},
                       message="decomposition: count fixing leaves no better count")
    if costs.side and state.budget.left() < (state.params.side_presolve_seconds_per_col
                                            * model.milp.n_vars):
        return Outcome(message=f"{state.backend.name} not started: the presolve of a model "
                               "with a side row would overrun the time left")
    br = run_backend(state, model, hint(state, model, None, only=incumbent), state.deadline)
    if br is None:
        return Outcome(message=f"{state.backend.name}: not started")
    sub = absorb(state, br, model)
    # The backend's bound over the kept counts, capped by the incumbent, holds for all.
    out = Outcome(assignments=sub.assignments, info=sub.info,
                  message=f"decomposition + count fixing; {sub.message}")
    if br.status == "infeasible":
        out.bounds["count-fixing"] = upper  # the kept counts hold nothing better
    elif "backend" in sub.bounds:
        out.bounds["count-fixing"] = min(sub.bounds["backend"], upper)
    return out
