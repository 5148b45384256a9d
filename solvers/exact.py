"""The exact-solve driver shared by every MILP backend.

1. Run the cheap heuristics (GOA, Min delay); their best feasible answer, with dominated
   offloads sent home, seeds the backend as a starting solution.
2. Build the count-indexed MILP (:mod:`mecopt.formulations.count_indexed`) of the
   interference-free instance. On large models the Lagrangian bound and count-vector
   search of :mod:`mecopt.formulations.lagrangian` run first (see ``lagrangian_mode``).
3. Solve the MILP with the backend until the deadline, keeping a reserve of the time limit.
   If the backend does not prove optimality, the Lagrangian step runs in the reserve.
4. Re-evaluate every candidate assignment under the instance's own interference model;
   with interference, improve the best by single-move local search; report the best
   feasible one, so an exact solver is never worse than GOA.
5. The bound is the best of the backend's, the Lagrangian one and a trivial one (every user
   at its cheapest allowed option with no one else on its ES). Each is a lower bound for
   both interference models (interference only lengthens delays and uplink energies, so
   it only raises costs and tightens energy budgets). A bound above the best
   feasible objective means a faulty backend: it is dropped and the message says so.
   The status is ``"optimal"`` only when the objective meets the bound; with
   ``"other-cells"`` that happens when the interference-free optimum suffers no
   interference (e.g. one ES used).

The whole solve, model building included, keeps within ``time_limit`` up to the
granularity of the backend's own limit checks.
"""

from __future__ import annotations

import time

import numpy as np

from mecopt.evaluate import Metrics, evaluate
from mecopt.formulations import count_indexed, lagrangian
from mecopt.heuristics import goa, min_delay
from mecopt.heuristics.local_search import improve
from mecopt.instance import Instance
from mecopt.result import GAP_TOL, SolveResult, relative_gap
from mecopt.solvers.base import Backend, BackendOptions, BackendResult

#: Models with more columns than this get the Lagrangian step before the backend.
LARGE_MODEL_COLS = 100_000
#: Seconds for the Lagrangian step when there is no time limit.
LAGRANGIAN_BUDGET = 30.0
#: Share of the time limit the Lagrangian step gets before the backend on large models.
LAGRANGIAN_SHARE = 0.25
#: Share of the time left that the backend leaves for the Lagrangian fallback.
RESERVE_SHARE = 0.2
#: Relative slack allowed before a bound above the best objective is called faulty.
BOUND_SLACK = 1e-9

Candidates = dict[str, tuple[np.ndarray, Metrics]]


def _best(candidates: Candidates) -> tuple[str, np.ndarray, Metrics] | None:
    feasible = [(m.objective, name) for name, (a, m) in candidates.items() if m.feasible]
    if not feasible:
        return None
    _, name = min(feasible)
    return name, *candidates[name]


def trivial_bound(inst: Instance, table: np.ndarray) -> float:
    """Mean over users of their cheapest option alone on an ES (or local if allowed).

    ``table`` is :func:`~mecopt.formulations.count_indexed.cost_table` (costs never fall
    as n grows, so n = 1 is each ES's cheapest count).
    """
    alone = np.min(table[:, :, 0], axis=1)
    home = np.where(count_indexed.must_offload(inst), np.inf, count_indexed.local_cost(inst))
    return float(np.mean(np.minimum(alone, home)))


def _time_left(deadline: float | None) -> float:
    return np.inf if deadline is None else deadline - time.perf_counter()


def solve_exact(
    inst: Instance,
    backend: Backend,
    *,
    solver_name: str,
    time_limit: float | None,
    seed: int,
    threads: int,
    engine: str | None = None,
    verbose: bool = False,
    warm_start: bool = True,
    local_search_budget: float = 2.0,
    lagrangian_mode: str = "auto",
) -> SolveResult:
    """Solve ``inst`` to proven optimality (or to the time limit) with ``backend``.

    Parameters
    ----------
    inst
        The instance.
    backend
        An available backend adapter.
    solver_name
        The registered name to record.
    time_limit
        Wall-clock seconds for the whole solve, or ``None``.
    seed, threads
        Passed to the backend and recorded.
    engine
        The backend's inner solver, for backends that front several.
    verbose
        Let the backend print its log.
    warm_start
        Seed the backend with the best assignment known before it starts.
    local_search_budget
        At most this many seconds of single-move local search under interference (only for
        instances with interference; capped by the time left); 0 disables it.
    lagrangian_mode
        ``"auto"`` (default): the Lagrangian step runs before the backend on models above
        ``LARGE_MODEL_COLS`` columns, and after it when the backend stops without proving
        optimality; ``"on"``: always before; ``"off"``: never.

    Returns
    -------
    SolveResult
    """
    if lagrangian_mode not in ("auto", "on", "off"):
        raise ValueError(f"lagrangian = {lagrangian_mode!r}: must be 'auto', 'on' or 'off'")
    start = time.perf_counter()
    deadline = None if time_limit is None else start + time_limit
    free_inst = inst if inst.interference == "none" else inst.replace(interference="none")
    rng = np.random.default_rng(seed)
    candidates: Candidates = {}
    for name, policy in (("goa", goa), ("min-delay", min_delay)):
        a = policy(inst, rng)
        candidates[name] = (a, evaluate(inst, a))

    model = count_indexed.build(free_inst)
    table = count_indexed.cost_table(free_inst, max(int(free_inst.count_limit.max()), 1))
    bounds: dict[str, float] = {"trivial": trivial_bound(free_inst, table)}
    info: dict[str, object] = {
        "formulation": "count-indexed",
        "cols": model.milp.n_vars,
        "rows": model.milp.n_rows,
        "backend": backend.name,
        "engine": engine,
    }
    notes: list[str] = []

    def run_lagrangian(budget: float) -> None:
        upper = min((m.objective for _, m in candidates.values() if m.feasible),
                    default=np.inf)
        upper_ms = (upper * count_indexed.MS * inst.n_users if np.isfinite(upper)
                    else model.milp.constant + float(np.abs(model.milp.c).sum()))
        lag = lagrangian.lagrangian_bound(model, upper_ms, time_budget=0.7 * budget)
        bounds["lagrangian"] = model.to_mean_delay(lag.bound)
        starts = [lag.counts] + [m.users_per_es for _, m in candidates.values() if m.feasible]
        a, _ = lagrangian.count_search(free_inst, starts, time_budget=0.3 * budget,
                                       table=table)
        if a is not None:
            candidates["lagrangian"] = (a, evaluate(inst, a))
        info["lagrangian_bound"] = bounds["lagrangian"]
        info["lagrangian_iterations"] = lag.iterations

    def finish(status: str, message: str) -> SolveResult:
        best = _best(candidates)
        if best is not None and inst.interference != "none" and local_search_budget > 0:
            budget = min(local_search_budget, _time_left(deadline))
            if budget > 0:
                a = improve(inst, best[1], time_budget=budget)
                candidates[f"{best[0]}+local-search"] = (a, evaluate(inst, a))
                best = _best(candidates)
        a, m, winner = (None, None, None) if best is None else (best[1], best[2], best[0])
        obj = None if m is None else m.objective
        valid = {}
        for source, value in bounds.items():
            if obj is not None and value > obj + BOUND_SLACK * abs(obj):
                notes.append(f"{source} bound {value:.9g} exceeds a feasible objective "
                             f"{obj:.9g} and was dropped (please report this instance)")
            else:
                valid[source] = value
        bound = max(valid.values()) if valid and status != "infeasible" else None
        gap = relative_gap(obj, bound)
        if status != "infeasible":
            if m is None:
                status = "no_solution"
            elif gap is not None and gap <= GAP_TOL:
                status = "optimal"
            else:
                status = "feasible"
        info["winner"] = winner
        info["bound_source"] = None if bound is None else max(valid, key=valid.get)
        return SolveResult(
            assignment=a, status=status, objective=obj, bound=bound, gap=gap,
            runtime=time.perf_counter() - start, solver=solver_name,
            solver_version=backend.version(), seed=seed, threads=threads,
            time_limit=time_limit, metrics=m, message="; ".join([message, *notes]), info=info,
        )

    def infeasible(message: str) -> SolveResult:
        # A proof of infeasibility must not contradict a feasible heuristic answer.
        if _best(candidates) is not None:
            notes.append("but a heuristic assignment is feasible: the proof is wrong, "
                         "please report this instance")
            return finish("feasible", message)
        candidates.clear()
        return finish("infeasible", message)

    if model.infeasible_reason:
        return infeasible(model.infeasible_reason)

    lagrangian_first = lagrangian_mode == "on" or (
        lagrangian_mode == "auto" and model.milp.n_vars > LARGE_MODEL_COLS)
    if lagrangian_first:
        budget = LAGRANGIAN_BUDGET if time_limit is None else LAGRANGIAN_SHARE * time_limit
        run_lagrangian(min(budget, _time_left(deadline)))
        best = _best(candidates)
        if best is not None and relative_gap(best[2].objective,
                                             bounds["lagrangian"]) <= GAP_TOL:
            return finish("feasible", "closed by the Lagrangian bound")

    hint = None
    if warm_start:
        free_cands = {n: (a, evaluate(free_inst, a)) for n, (a, _) in candidates.items()}
        best_free = _best(free_cands)
        if best_free is not None:
            hint = model.encode(count_indexed.prune_assignment(free_inst, best_free[1], table))

    fallback = lagrangian_mode == "auto" and not lagrangian_first
    backend_deadline = deadline
    if deadline is not None and fallback:
        backend_deadline = deadline - RESERVE_SHARE * max(_time_left(deadline), 0.0)
    br: BackendResult = backend.solve(
        model.milp,
        BackendOptions(deadline=backend_deadline, threads=threads, seed=seed, hint=hint,
                       engine=engine, verbose=verbose),
    )
    info.update(br.stats)
    info["backend_status"] = br.raw_status
    message = f"{backend.name}: {br.raw_status}"
    if br.status == "infeasible":
        return infeasible(message)
    if br.x is not None:
        a = model.decode(br.x)
        candidates["milp"] = (a, evaluate(inst, a))
    if br.bound is not None:
        bounds["backend"] = model.to_mean_delay(br.bound)
    elif br.status == "optimal" and br.objective is not None:
        bounds["backend"] = model.to_mean_delay(br.objective)
    if br.status == "error":
        message += " (backend failed; best other answer returned)"
    if fallback and br.status != "optimal":
        left = _time_left(deadline)
        if left > 0:
            run_lagrangian(min(LAGRANGIAN_BUDGET, left))
    return finish("feasible", message)
