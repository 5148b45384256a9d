"""The exact-solve driver shared by every MILP backend.

1. Run the cheap heuristics (GOA, Min delay); their best feasible answer, with dominated
   offloads sent home, seeds the backend as a starting solution.
2. Build the count-indexed MILP (:mod:`mecopt.formulations.count_indexed`) of the
   interference-free instance and solve it with the backend within the time left.
3. Re-evaluate the backend's assignment and the heuristics' under the instance's own
   interference model; with interference, improve the best by single-move local search;
   report the best feasible one, so an exact solver is never worse than GOA.
   On large models the Lagrangian bound and count-vector search of
   :mod:`mecopt.formulations.lagrangian` run first (see ``lagrangian_mode``).
4. The backend's proven bound is a lower bound on the optimum for both interference
   models (interference only lengthens delays). The status is ``"optimal"`` only when the
   evaluated objective meets that bound; with ``"other-cells"`` that happens when the
   interference-free optimum suffers no interference (e.g. one ES used).
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

#: Models with more columns than this get the Lagrangian bound first (``"auto"``).
LARGE_MODEL_COLS = 100_000
#: Seconds for the Lagrangian step without a time limit, and its share of a time limit.
LAGRANGIAN_BUDGET = 30.0
LAGRANGIAN_SHARE = 0.25


def _best(candidates: dict[str, tuple[np.ndarray, Metrics]]) -> tuple[str, np.ndarray,
                                                                       Metrics] | None:
    feasible = [(m.mean_delay, name) for name, (a, m) in candidates.items() if m.feasible]
    if not feasible:
        return None
    _, name = min(feasible)
    return name, *candidates[name]


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
        Seed the backend with the heuristics' best assignment.
    local_search_budget
        Seconds of single-move local search (under interference) applied to the best
        assignment when the instance has interference; 0 disables it.
    lagrangian_mode
        ``"auto"`` (default: on for models above ``LARGE_MODEL_COLS`` columns), ``"on"`` or
        ``"off"``: run the Lagrangian bound and count-vector search of
        :mod:`mecopt.formulations.lagrangian` before the backend. Its bound is combined with
        the backend's, its assignment joins the candidates and seeds the backend, and when
        it already closes the gap the backend is not run.

    Returns
    -------
    SolveResult
    """
    start = time.perf_counter()
    free_inst = inst if inst.interference == "none" else inst.replace(interference="none")
    rng = np.random.default_rng(seed)
    candidates: dict[str, tuple[np.ndarray, Metrics]] = {}
    for name, policy in (("goa", goa), ("min-delay", min_delay)):
        a = policy(inst, rng)
        candidates[name] = (a, evaluate(inst, a))

    model = count_indexed.build(free_inst)
    info: dict[str, object] = {
        "formulation": "count-indexed",
        "cols": model.milp.n_vars,
        "rows": model.milp.n_rows,
        "backend": backend.name,
        "engine": engine,
    }

    def result(status: str, bound: float | None, message: str) -> SolveResult:
        best = _best(candidates)
        a, m, winner = (None, None, None) if best is None else (best[1], best[2], best[0])
        obj = None if m is None else m.mean_delay
        gap = relative_gap(obj, bound)
        if status not in ("infeasible",):
            if m is None:
                status = "no_solution"
            elif gap is not None and gap <= GAP_TOL:
                status = "optimal"
            else:
                status = "feasible"
        info["winner"] = winner
        if m is None and status == "infeasible":
            a = None
        return SolveResult(
            assignment=a, status=status, objective=obj, bound=bound, gap=gap,
            runtime=time.perf_counter() - start, solver=solver_name,
            solver_version=backend.version(), seed=seed, threads=threads,
            time_limit=time_limit, metrics=m, message=message, info=info,
        )

    def _infeasible(message: str) -> SolveResult:
        # A proof of infeasibility must not contradict a feasible heuristic answer.
        if _best(candidates) is not None:
            return result("feasible", None,
                          f"{message}; but a heuristic assignment is feasible: the proof is "
                          "wrong, please report this instance")
        candidates.clear()
        return result("infeasible", None, message)

    if model.infeasible_reason:
        return _infeasible(model.infeasible_reason)

    lag_bound = None
    use_lagrangian = lagrangian_mode == "on" or (
        lagrangian_mode == "auto" and model.milp.n_vars > LARGE_MODEL_COLS)
    if use_lagrangian:
        budget = LAGRANGIAN_BUDGET if time_limit is None else LAGRANGIAN_SHARE * time_limit
        upper = min((m.mean_delay for _, m in candidates.values() if m.feasible),
                    default=np.inf)
        upper_ms = upper * count_indexed.MS * inst.n_users if np.isfinite(upper) else (
            model.milp.constant + float(np.abs(model.milp.c).sum()))
        lag = lagrangian.lagrangian_bound(model, upper_ms, time_budget=0.7 * budget)
        lag_bound = model.to_mean_delay(lag.bound)
        starts = [lag.counts] + [m.users_per_es for _, m in candidates.values() if m.feasible]
        a, _ = lagrangian.count_search(free_inst, starts, time_budget=0.3 * budget)
        if a is not None:
            candidates["lagrangian"] = (a, evaluate(inst, a))
        info["lagrangian_bound"] = lag_bound
        info["lagrangian_iterations"] = lag.iterations
        best = _best(candidates)
        gap = None if best is None else relative_gap(best[2].mean_delay, lag_bound)
        if gap is not None and gap <= GAP_TOL:
            return result("feasible", lag_bound, "closed by the Lagrangian bound")

    hint = None
    if warm_start:
        free_cands = {n: (a, evaluate(free_inst, a)) for n, (a, _) in candidates.items()}
        best_free = _best(free_cands)
        if best_free is not None:
            table = count_indexed.delay_table(free_inst, int(free_inst.count_limit.max()))
            hint = model.encode(count_indexed.prune_assignment(free_inst, best_free[1], table))

    remaining = None
    if time_limit is not None:
        remaining = max(time_limit - (time.perf_counter() - start), 1e-3)
    br: BackendResult = backend.solve(
        model.milp,
        BackendOptions(time_limit=remaining, threads=threads, seed=seed, hint=hint,
                       engine=engine, verbose=verbose),
    )
    info.update(br.stats)
    info["backend_status"] = br.raw_status
    message = f"{backend.name}: {br.raw_status}"
    if br.status == "infeasible":
        return _infeasible(message)
    if br.x is not None:
        a = model.decode(br.x)
        candidates["milp"] = (a, evaluate(inst, a))
    if inst.interference != "none" and local_search_budget > 0:
        best = _best(candidates)
        if best is not None:
            a = improve(inst, best[1], time_budget=local_search_budget)
            candidates["milp+local-search" if best[0] == "milp" else "local-search"] = (
                a, evaluate(inst, a))
    bound = None if br.bound is None else model.to_mean_delay(br.bound)
    if br.status == "optimal" and bound is None and br.objective is not None:
        bound = model.to_mean_delay(br.objective)
    if lag_bound is not None and (bound is None or lag_bound > bound):
        bound = lag_bound
    if br.status == "error":
        message += " (backend failed; best heuristic answer returned)"
    return result("feasible", bound, message)
