"""Formulation ``"count-indexed"``: the backend on the count-indexed MILP of
:mod:`mecopt.formulations.count_indexed` (interference-free instance), with the Lagrangian
step (bound and count-vector search of :mod:`mecopt.formulations.bounds.lagrangian`) before the
backend on large models and after it when the backend stops without a proof."""

from __future__ import annotations

import time

import numpy as np

from mecopt.formulations import count_indexed
from mecopt.formulations.bounds.lagrangian import ascent, lagrangian_bound, start_multipliers
from mecopt.formulations.fixed_count import count_search
from mecopt.formulations.option_cost import LayerCosts, cost_table
from mecopt.result import relative_gap
from mecopt.solvers.exact.backend_run import absorb, hint, run_backend
from mecopt.solvers.exact.checks import trivial_bound
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import SolveState


def accepts(state: SolveState) -> bool:
    """Every instance (the last row of the chain)."""
    return True


def run(state: SolveState) -> Outcome:
    """Build the model, run the Lagrangian step first on large models (``lagrangian_mode``
    ``"auto"``) or always (``"on"``), then the backend until the deadline, keeping a
    reserve for the Lagrangian step when it has not run."""
    free, p, mode = state.free, state.params, state.options.lagrangian_mode
    model = count_indexed.build(free)
    table = cost_table(free, max(int(free.count_limit.max()), 1))
    state.bound("trivial", trivial_bound(free, table))
    state.info.update({"cols": model.milp.n_vars, "rows": model.milp.n_rows})
    if model.infeasible_reason:
        return Outcome(infeasible=model.infeasible_reason)
    first = mode == "on" or (mode == "auto" and model.milp.n_vars > p.large_model_cols)
    if first:
        limit = state.options.time_limit
        budget = p.lagrangian_budget if limit is None else p.lagrangian_share * limit
        _lagrangian(state, model, table, state.budget.capped(budget))
        best = state.best()
        if best is not None and relative_gap(best[2].objective,
                                             state.bounds["lagrangian"]) <= state.options.gap:
            return Outcome(message="closed by the Lagrangian bound")
    fallback = mode == "auto" and not first
    deadline = state.budget.reserve(p.reserve_share) if fallback else state.deadline
    br = run_backend(state, model, hint(state, model, table), deadline)
    out = Outcome(message=f"{state.backend.name}: not started") if br is None \
        else absorb(state, br, model)
    if out.infeasible is None and fallback and (br is None or br.status != "optimal") \
            and state.budget.left() > 0:
        state.absorb(out)
        out = Outcome(message=out.message)
        _lagrangian(state, model, table, state.budget.capped(p.lagrangian_budget))
    return out


def _lagrangian(state: SolveState, model: count_indexed.CountIndexedModel, table: np.ndarray,
                budget: float) -> None:
    """Lagrangian bound (70 % of ``budget``) and count-vector search (30 %)."""
    free = state.free
    free_best = state.best_free()
    if free_best is not None:
        # Pricing by partial sorts from the incumbent's congestion prices (much faster
        # per step than the column-by-column relaxation below).
        costs = LayerCosts.of(free)
        db, _, _ = ascent(costs, start_multipliers(costs, free_best[1]), None,
                          state.units.total(free_best[2].objective),
                          deadline=time.perf_counter() + 0.7 * budget)
        bound, counts, iterations = model.to_mean_delay(db.bound), db.best_count, "ascent"
    else:
        best = state.best()
        upper_ms = state.units.total(best[2].objective) if best is not None \
            else model.milp.constant + float(np.abs(model.milp.c).sum())
        lag = lagrangian_bound(model, upper_ms, time_budget=0.7 * budget)
        bound, counts, iterations = model.to_mean_delay(lag.bound), lag.counts, lag.iterations
    state.bound("lagrangian", bound)
    starts = [counts] + [m.users_per_es for _, m in state.candidates.values() if m.feasible]
    a, _ = count_search(free, starts, time_budget=0.3 * budget, table=table)
    if a is not None:
        state.add("lagrangian", a)
    state.info.update({"lagrangian_bound": bound, "lagrangian_iterations": iterations})
