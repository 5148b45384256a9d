"""The exact-solve driver shared by every MILP backend.

1. Run the heuristics (GOA, Min delay, Edge all when a side row binds, and ``lns``, whose
   repair phase meets an accuracy target GOA misses); their best feasible answer, with
   dominated offloads sent home, seeds the backend as a starting solution. With
   interference (beyond enumeration), best responses to the best answer's interference
   (:mod:`mecopt.solvers.best_response`, at most ``BEST_RESPONSE_BUDGET`` s) join them.
2. ``formulation="auto"`` (default) takes the decomposition path of
   :mod:`mecopt.solvers.decomposition` when the count-indexed model would have more than
   ``LARGE_MODEL_COLS`` columns: no full model, a Lagrangian bound by partial sorts, count
   fixing, and the backend on the model over the surviving counts. With side rows and the
   HiGHS backend, when few count vectors survive, the count enumeration of
   :mod:`mecopt.solvers.count_enumeration` settles them one by one (exact); otherwise, with
   exactly one side row, the multiplier search of :mod:`mecopt.solvers.side_multiplier`
   (inner solves by this driver on instances without the row) raises the bound first, and
   count enumeration runs from the multipliers at its best weight (HiGHS). Otherwise (or
   with ``formulation="count-indexed"``). With other-cells interference,
   instances with at most ``ENUMERATION_LIMIT`` assignments are enumerated instead (exact),
   and larger ones get the interference-aware bound of
   :mod:`mecopt.formulations.interference_bound` besides the interference-free one.
   Fewer than ``INTERVALS_N`` users with other-cells interference: with the HiGHS
   backend (or ``formulation="count-intervals"``), the count vectors with interference
   intervals of :mod:`mecopt.solvers.interference_counts` (exact, each vector's
   fixed-count interval model refined at the true interference of its solutions); with
   another backend, or when there are too many count vectors to list (or with
   ``formulation="intervals"``), the interval model over all counts, refined the same way
   (:mod:`mecopt.solvers.interference`).

   Build the count-indexed MILP (:mod:`mecopt.formulations.count_indexed`) of the
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
granularity of the backend's own limit checks: a backend whose model would take longer to
build than the time left (``build_seconds_per_nonzero``) is not started. ``progress``
receives the incumbent, bound and gap every time one of them improves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mecopt.errors import MecoptError
from mecopt.evaluate import Metrics, evaluate
from mecopt.formulations import big_m, count_indexed, lagrangian
from mecopt.formulations.layers import LayerCosts, build_layers
from mecopt.formulations.pricing import ascent
from mecopt.heuristics import edge_all, goa, min_delay
from mecopt.heuristics.lns import fixed_count_assignment, lns
from mecopt.heuristics.local_search import improve
from mecopt.instance import Instance
from mecopt.result import DEFAULT_GAP, MIN_GAP, SolveResult, check_gap, proven, relative_gap
from mecopt.solvers import count_enumeration, decomposition, side_multiplier
from mecopt.solvers.base import MIP_REL_GAP, Backend, BackendOptions, BackendResult
from mecopt.solvers.best_response import best_response
from mecopt.solvers.bruteforce import BruteForceSolver

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
#: Formulations of the exact driver.
FORMULATIONS = ("auto", "count-indexed", "decomposition", "enumeration", "count-intervals",
                "intervals", "big-m")
#: From this many users on, ``formulation="auto"`` takes the decomposition path (kim2026
#: N = 120, seed 4: proven in 12 s against 35 s for HiGHS on the full model; seed 0: 8 s
#: against 7 s; measured on a loaded 2-core machine).
DECOMPOSITION_N = 100
#: Above this many users, an instance with an accuracy target or a hallucination cap takes
#: the decomposition path under ``formulation="auto"`` (the count-indexed MILP branches
#: long on the side row: kim2026 N = 120 with a binding target ran past 60 s).
SIDE_ROW_DECOMPOSITION_N = 40
#: With interference, instances with at most this many assignments ((M+1)^N) are solved by
#: enumeration (exact for every model: N = 8 with M = 4 has 390,625).
ENUMERATION_LIMIT = 500_000
#: Below this many users, ``formulation="auto"`` solves other-cells instances too large to
#: enumerate with the interval model (:mod:`mecopt.solvers.interference`), which is exact;
#: from it on, the interference-free path with the interference-aware bound.
#: Measured on kim2026 (M = 4, 60 s): N = 10-12 proven; N = 30 ends at 1-3 % where the
#: interference-free path ends at 5-6 %; larger models are left to that path.
INTERVALS_N = 40
#: Without a time limit, ``"auto"`` takes the interval model only up to this many users
#: (a proof at N = 30 can take far longer than a minute); ``formulation="intervals"``
#: always runs it to the proof.
INTERVALS_UNLIMITED_N = 12
#: Without a time limit, ``"auto"`` takes ``"count-intervals"`` only up to this many users
#: (kim2026 N = 30 proven in 4-30 s; at N = 36-39 single vectors take minutes).
COUNT_INTERVALS_UNLIMITED_N = 30
#: Share of the time left that the interval refinement leaves for the final bound and the
#: local search (at most ``INTERVALS_RESERVE_S`` seconds).
INTERVALS_RESERVE = 0.1
INTERVALS_RESERVE_S = 3.0
#: Seconds (at most) of best responses to the interference (:mod:`.best_response`), and
#: their largest share of a time limit.
BEST_RESPONSE_BUDGET = 3.0
BEST_RESPONSE_SHARE = 0.1
#: Seconds (at most) of multiplier ascent for the interference-aware bound.
INTERFERENCE_BOUND_BUDGET = 1.0
#: With one side row, share of the time limit the decomposition's ascent may take.
DECOMPOSITION_SIDE_SHARE = 0.25
#: Share of the time left after the side-row search for exact fixed-count re-optimisation.
SIDE_EXACT_SHARE = 0.6
#: Seconds of HiGHS presolve per column of a reduced model with a side row, which does not
#: check the time limit (kim2026 N = 120: 2.5 s on 7,400 columns, with 0.2 s left).
SIDE_PRESOLVE_SECONDS_PER_COL = 4e-4
#: Share of the time left that the side-row multiplier search may take.
SIDE_SEARCH_SHARE = 0.7
#: Seconds of ``lns`` among the seeds (capped by a share of the time limit).
LNS_BUDGET = 2.0

Progress = Callable[[dict[str, Any]], None]

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


#: Largest option cost (s) the MILP and LP solvers are given; beyond it coefficients lose
#: meaning in double precision next to the millisecond-sized ones (solvers treat 1e20 as
#: infinite).
NUMERIC_RANGE_S = 1e9


def numeric_range_ok(inst: Instance) -> bool:
    """True when every local cost and every lone offload cost is within ``NUMERIC_RANGE_S``."""
    with np.errstate(over="ignore", invalid="ignore"):
        home = count_indexed.local_cost(inst)
        alone = count_indexed.cost_table(inst, 1)
    values = np.concatenate([home.ravel(), alone.ravel()])
    values = values[~np.isposinf(values)]
    return bool(np.all(np.isfinite(values)) and np.all(np.abs(values) <= NUMERIC_RANGE_S))


def _time_left(deadline: float | None) -> float:
    return np.inf if deadline is None else deadline - time.perf_counter()


def estimated_columns(inst: Instance) -> int:
    """Upper estimate of the count-indexed model's columns, ``N (N + 1) M / 2``."""
    n = int(inst.count_limit.max(initial=0))
    return inst.n_users * min(n, inst.n_users) * inst.n_servers // 2 + n * inst.n_servers


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
    formulation: str = "auto",
    progress: Progress | None = None,
    gap: float = DEFAULT_GAP,
    started: float | None = None,
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
        Count-indexed path only. ``"auto"`` (default): the Lagrangian step runs before the
        backend on models above ``LARGE_MODEL_COLS`` columns, and after it when the backend
        stops without proving optimality; ``"on"``: always before; ``"off"``: never.
    formulation
        ``"auto"`` (default): ``"enumeration"`` (every assignment scored by the evaluator,
        exact with interference) for instances with interference and at most
        ``ENUMERATION_LIMIT`` assignments, ``"decomposition"`` from ``DECOMPOSITION_N``
        users, above ``LARGE_MODEL_COLS`` estimated columns or with a side row above
        ``SIDE_ROW_DECOMPOSITION_N`` users, else
        ``"count-indexed"``; with ``"other-cells"`` interference and fewer than
        ``INTERVALS_N`` users, ``"count-intervals"`` on the HiGHS backend (at most
        ``COUNT_INTERVALS_UNLIMITED_N`` users without a time limit), else (and when it
        does not start) ``"intervals"`` (at most ``INTERVALS_UNLIMITED_N`` users without a
        time limit). ``"count-intervals"``: count vectors, each with its
        fixed-count interval model (:mod:`mecopt.formulations.interference_counts`),
        exact for ``"other-cells"``; it calls HiGHS directly whatever the backend.
        ``"intervals"``: the interval model of
        :mod:`mecopt.formulations.interference_intervals`, refined adaptively (exact for
        ``"other-cells"``; not on CP-SAT, which takes no continuous columns); see the
        module docstring. ``"big-m"``: the generic big-M model
        of :mod:`mecopt.formulations.big_m` on the backend alone (warm-started from the
        greedy seeds), the reference the others are timed against; no interference.
    progress
        Called with a dict (``time``, ``source``, ``incumbent``, ``bound``, ``gap``; delays
        in seconds) whenever the incumbent or the bound improves (at most every 0.2 s,
        except for the final report).
    started
        ``time.perf_counter()`` value the time limit counts from (default: now), so that
        the caller's own set-up (importing the solver) counts against it.
    gap
        Relative gap to prove (default :data:`~mecopt.result.DEFAULT_GAP`): the search
        stops once ``(objective - bound) / objective <= gap`` and the status reads
        ``"optimal"``, with ``gap_tol`` recording it (at least
        :data:`~mecopt.result.MIN_GAP`, the solvers' floor). Stopped earlier (time limit,
        ...), the status is ``"feasible"`` with the gap proven so far and ``stop`` says why.

    Returns
    -------
    SolveResult
    """
    if lagrangian_mode not in ("auto", "on", "off"):
        raise ValueError(f"lagrangian = {lagrangian_mode!r}: must be 'auto', 'on' or 'off'")
    gap = max(check_gap(gap), MIN_GAP)
    if formulation not in FORMULATIONS:
        raise ValueError(f"formulation = {formulation!r}: must be one of "
                         + ", ".join(repr(f) for f in FORMULATIONS))
    if formulation == "big-m" and inst.interference != "none":
        raise MecoptError(f"formulation 'big-m': interference = {inst.interference!r} is not "
                          "modelled; use formulation 'auto'")
    start = time.perf_counter() if started is None else started
    deadline = None if time_limit is None else start + time_limit
    free_inst = inst if inst.interference == "none" else inst.replace(interference="none")
    rng = np.random.default_rng(seed)
    candidates: Candidates = {}
    bounds: dict[str, float] = {}
    seen = {"incumbent": np.inf, "bound": -np.inf, "told": -np.inf}

    def report(source: str, incumbent: float | None, bound: float | None) -> None:
        """Record an improvement (delays in seconds) and pass it to ``progress``."""
        better = False
        if incumbent is not None and incumbent < seen["incumbent"]:
            seen["incumbent"], better = incumbent, True
        if bound is not None and bound > seen["bound"]:
            seen["bound"], better = bound, True
        now = time.perf_counter()
        if better and progress is not None and (source == "final" or now - seen["told"] >= 0.2):
            seen["told"] = now
            inc = seen["incumbent"] if np.isfinite(seen["incumbent"]) else None
            bnd = seen["bound"] if np.isfinite(seen["bound"]) else None
            progress({"time": time.perf_counter() - start, "source": source,
                      "incumbent": inc, "bound": bnd, "gap": relative_gap(inc, bnd)})

    def add_candidate(name: str, a: np.ndarray) -> None:
        m = evaluate(inst, a)
        candidates[name] = (a, m)
        if m.feasible:
            report(name, m.objective, None)

    seeds = [("goa", goa), ("min-delay", min_delay)]
    if inst.min_accuracy is not None:
        seeds.append(("edge-all", edge_all))
    for name, policy in seeds:
        add_candidate(name, policy(inst, rng))
    side_rows = inst.min_accuracy is not None or inst.max_hallucination is not None
    use_decomposition = formulation == "decomposition" or (
        formulation == "auto" and (estimated_columns(free_inst) > LARGE_MODEL_COLS
                                   or inst.n_users >= DECOMPOSITION_N
                                   or (side_rows and inst.n_users > SIDE_ROW_DECOMPOSITION_N)))
    if not use_decomposition and formulation != "big-m":
        budget = LNS_BUDGET if time_limit is None else min(LNS_BUDGET, 0.1 * time_limit)
        add_candidate("lns", lns(inst, rng, time_budget=budget, plan=False, policies=False,
                                 starts=[a for a, _ in candidates.values()]))
    info: dict[str, object] = {
        "formulation": "decomposition" if use_decomposition else "count-indexed",
        "backend": backend.name,
        "engine": engine,
    }
    notes: list[str] = []

    def finish(status: str, message: str) -> SolveResult:
        known = _best(candidates)
        exact = [bounds[k] for k in ("enumeration", "count-intervals") if k in bounds]
        settled = known is not None and bool(exact) and \
            proven(relative_gap(known[2].objective, max(exact)) or 0.0, gap)
        if inst.interference != "none" and status != "infeasible" and not settled:
            value = _interference_bound(inst, free_inst, candidates, deadline)
            if value is not None:
                bounds["interference"] = value
                report("interference", None, value)
            known = _best(candidates)
            if known is not None and inst.n_users >= INTERVALS_N:
                from mecopt.solvers import interference_dual

                value = interference_dual.bound(inst, known[1], known[2].objective, gap,
                                                deadline)
                if value is not None:
                    bounds["interference-dual"] = value
                    report("interference-dual", None, value)
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
            if not np.isfinite(value):
                continue
            if obj is not None and value > obj + BOUND_SLACK * abs(obj):
                notes.append(f"{source} bound {value:.9g} exceeds a feasible objective "
                             f"{obj:.9g} and was dropped (please report this instance)")
            else:
                valid[source] = value
        bound = max(valid.values()) if valid and status != "infeasible" else None
        final_gap = relative_gap(obj, bound)
        if status != "infeasible":
            if m is None:
                status = "no_solution"
            elif proven(final_gap, gap):
                status = "optimal"
            else:
                status = "feasible"
        stop = _stop_reason(status, message, info, time_limit,
                            time.perf_counter() - start)
        info["winner"] = winner
        info["bound_source"] = None if bound is None else max(valid, key=valid.get)
        if status == "optimal" and "backend failed" in message:
            message = message.replace("backend failed; best other answer returned",
                                      f"backend failed; proven by the {info['bound_source']} "
                                      "bound")
        seen["incumbent"] = np.inf  # the final report always goes out
        report("final", obj, bound)
        return SolveResult(
            assignment=a, status=status, objective=obj, bound=bound, gap=final_gap,
            runtime=time.perf_counter() - start, solver=solver_name,
            solver_version=backend.version(), seed=seed, threads=threads,
            time_limit=time_limit, metrics=m, message="; ".join([message, *notes]), info=info,
            gap_tol=gap, stop=stop,
        )

    def infeasible(message: str) -> SolveResult:
        # A proof of infeasibility must not contradict a feasible heuristic answer.
        if _best(candidates) is not None:
            notes.append("but a heuristic assignment is feasible: the proof is wrong, "
                         "please report this instance")
            return finish("feasible", message)
        candidates.clear()
        return finish("infeasible", message)

    def run_backend(model: count_indexed.CountIndexedModel, hint: np.ndarray | None,
                    backend_deadline: float | None) -> BackendResult | None:
        """The backend on ``model``, unless building it would overrun the deadline."""
        per_nz = float(getattr(backend, "build_seconds_per_nonzero", 0.0))
        est = per_nz * model.milp.A.nnz
        left = None if backend_deadline is None else backend_deadline - time.perf_counter()
        if left is not None and (left <= 0 or est > left):
            notes.append(f"{backend.name} not started: no time left" if left <= 0 else
                         f"{backend.name} not started: building its model would take about "
                         f"{est:.2g} s, more than the {left:.2g} s left")
            return None
        return backend.solve(model.milp, BackendOptions(
            deadline=backend_deadline, threads=threads, seed=seed, hint=hint, engine=engine,
            verbose=verbose, mip_gap=max(gap, MIP_REL_GAP)))

    tiny = (inst.n_servers + 1) ** inst.n_users <= ENUMERATION_LIMIT
    if formulation == "enumeration" or (formulation == "auto" and lagrangian_mode == "auto"
                                        and inst.interference != "none" and tiny):
        info["formulation"] = "enumeration"
        left = _time_left(deadline)
        bf = BruteForceSolver().run(inst, time_limit=None if deadline is None else max(left, 0),
                                    seed=seed, threads=1)
        if bf.status == "infeasible":
            return infeasible("enumeration: no assignment is feasible")
        if bf.assignment is not None:
            add_candidate("enumeration", bf.assignment)
        if bf.status == "optimal":
            bounds["enumeration"] = bf.objective
            return finish("feasible", "enumeration of every assignment")
    if inst.interference != "none" and formulation != "enumeration":
        best0 = _best(candidates)
        if best0 is not None:
            budget = BEST_RESPONSE_BUDGET if time_limit is None else \
                min(BEST_RESPONSE_BUDGET, BEST_RESPONSE_SHARE * time_limit)

            def solve_free(fixed: Instance, left: float | None) -> np.ndarray | None:
                return solve_exact(fixed, backend, solver_name=solver_name, time_limit=left,
                                   seed=seed, threads=threads, engine=engine,
                                   warm_start=warm_start, local_search_budget=0.0,
                                   gap=1e-4).assignment

            stop = time.perf_counter() + budget
            if deadline is not None:
                stop = min(stop, deadline)
            for k, a in enumerate(best_response(inst, best0[1], solve_free, deadline=stop)):
                add_candidate(f"best-response-{k + 1}", a)
    small_other_cells = (formulation == "auto" and lagrangian_mode == "auto"
                         and inst.interference == "other-cells" and inst.n_users < INTERVALS_N)
    if formulation == "count-intervals" or (
            small_other_cells and backend.name == "highs"
            and (time_limit is not None or inst.n_users <= COUNT_INTERVALS_UNLIMITED_N)):
        done = _count_intervals_path(inst, free_inst, candidates, bounds, info, deadline,
                                     threads, seed, gap, report, finish, infeasible,
                                     explicit=formulation == "count-intervals")
        if done is not None:
            return done
    if formulation == "intervals" or (
            small_other_cells
            and (time_limit is not None or inst.n_users <= INTERVALS_UNLIMITED_N)
            and not getattr(backend, "integer_only", False)):
        return _intervals_path(inst, free_inst, backend, candidates, bounds, info, deadline,
                               threads, seed, engine, verbose, gap, report, finish,
                               infeasible)
    if not numeric_range_ok(free_inst):
        # Extreme but valid inputs (a 1e308 s local delay, 1e308-bit prompts): the solvers
        # cannot represent these costs, so the heuristics' best answer is returned with the
        # trivial bound (both computed by the evaluator's own arithmetic).
        with np.errstate(over="ignore", invalid="ignore"):
            table = count_indexed.cost_table(free_inst, 1)
            bounds["trivial"] = trivial_bound(free_inst, table)
        return finish("feasible", "costs beyond the solvers' numeric range (more than "
                                  f"{NUMERIC_RANGE_S:g} s): heuristic answer with the "
                                  "trivial bound")
    if formulation == "big-m":
        bm = big_m.build(free_inst)
        info.update({"formulation": "big-m", "cols": bm.milp.n_vars, "rows": bm.milp.n_rows})
        if bm.infeasible_reason:
            return infeasible(bm.infeasible_reason)
        best_free = _best({n: (a, evaluate(free_inst, a)) for n, (a, _) in candidates.items()})
        hint = bm.encode(best_free[1]) if warm_start and best_free is not None else None
        br = run_backend(bm, hint, deadline)
        if br is None:
            return finish("feasible", f"{backend.name}: not started")
        message = _absorb(br, bm, backend, candidates, bounds, info, add_candidate, report)
        if br.status == "infeasible":
            return infeasible(message)
        return finish("feasible", message)
    if use_decomposition:
        def inner(instance: Instance, limit: float | None, g: float) -> SolveResult:
            return solve_exact(instance, backend, solver_name=solver_name, time_limit=limit,
                               seed=seed, threads=threads, engine=engine,
                               warm_start=warm_start, local_search_budget=0.0, gap=g)

        return _decomposition_path(inst, free_inst, backend, candidates, bounds, info, notes,
                                   deadline, seed, report, run_backend, finish, infeasible,
                                   warm_start, gap, inner)

    model = count_indexed.build(free_inst)
    table = count_indexed.cost_table(free_inst, max(int(free_inst.count_limit.max()), 1))
    bounds["trivial"] = trivial_bound(free_inst, table)
    report("trivial", None, bounds["trivial"])
    info.update({"cols": model.milp.n_vars, "rows": model.milp.n_rows})

    def run_lagrangian(budget: float) -> None:
        upper = min((m.objective for _, m in candidates.values() if m.feasible),
                    default=np.inf)
        upper_ms = (upper * count_indexed.MS * inst.n_users if np.isfinite(upper)
                    else model.milp.constant + float(np.abs(model.milp.c).sum()))
        free_best = _best({n: (a, evaluate(free_inst, a)) for n, (a, _) in candidates.items()})
        if free_best is not None:
            # Pricing by partial sorts from the incumbent's congestion prices (much faster
            # per step than the column-by-column relaxation below).
            from mecopt.formulations.layers import LayerCosts
            from mecopt.formulations.pricing import start_multipliers

            costs = LayerCosts.of(free_inst)
            free_ms = free_best[2].objective * count_indexed.MS * inst.n_users
            db, _, _ = ascent(costs, start_multipliers(costs, free_best[1]), None, free_ms,
                              deadline=time.perf_counter() + 0.7 * budget)
            bounds["lagrangian"] = model.to_mean_delay(db.bound)
            lag_counts, iterations = db.best_count, "ascent"
        else:
            lag = lagrangian.lagrangian_bound(model, upper_ms, time_budget=0.7 * budget)
            bounds["lagrangian"] = model.to_mean_delay(lag.bound)
            lag_counts, iterations = lag.counts, lag.iterations
        report("lagrangian", None, bounds["lagrangian"])
        starts = [lag_counts] + [m.users_per_es for _, m in candidates.values() if m.feasible]
        a, _ = lagrangian.count_search(free_inst, starts, time_budget=0.3 * budget,
                                       table=table)
        if a is not None:
            add_candidate("lagrangian", a)
        info["lagrangian_bound"] = bounds["lagrangian"]
        info["lagrangian_iterations"] = iterations

    if model.infeasible_reason:
        return infeasible(model.infeasible_reason)

    lagrangian_first = lagrangian_mode == "on" or (
        lagrangian_mode == "auto" and model.milp.n_vars > LARGE_MODEL_COLS)
    if lagrangian_first:
        budget = LAGRANGIAN_BUDGET if time_limit is None else LAGRANGIAN_SHARE * time_limit
        run_lagrangian(min(budget, _time_left(deadline)))
        best = _best(candidates)
        if best is not None and relative_gap(best[2].objective,
                                             bounds["lagrangian"]) <= gap:
            return finish("feasible", "closed by the Lagrangian bound")

    hint = _hint(model, free_inst, candidates, table) if warm_start else None
    fallback = lagrangian_mode == "auto" and not lagrangian_first
    backend_deadline = deadline
    if deadline is not None and fallback:
        backend_deadline = deadline - RESERVE_SHARE * max(_time_left(deadline), 0.0)
    br = run_backend(model, hint, backend_deadline)
    if br is None:
        if fallback and _time_left(deadline) > 0:
            run_lagrangian(min(LAGRANGIAN_BUDGET, _time_left(deadline)))
        return finish("feasible", f"{backend.name}: not started")
    message = _absorb(br, model, backend, candidates, bounds, info, add_candidate, report)
    if br.status == "infeasible":
        return infeasible(message)
    if fallback and br.status != "optimal":
        left = _time_left(deadline)
        if left > 0:
            run_lagrangian(min(LAGRANGIAN_BUDGET, left))
    return finish("feasible", message)


#: A run that ends unproven after this share of its time limit was stopped by the limit
#: (the driver spends its last reserve on the final bound and local search).
TIME_LIMIT_SHARE = 0.9


def _stop_reason(status: str, message: str, info: dict[str, object],
                 time_limit: float | None, elapsed: float) -> str:
    """Why the run ended (:data:`mecopt.result.STOPS`)."""
    if status == "optimal":
        return "gap"
    if status == "infeasible":
        return "infeasible"
    if "backend failed" in message:
        return "error"
    limited = bool(info.get("backend_limit"))
    if time_limit is not None and (limited or elapsed >= TIME_LIMIT_SHARE * time_limit):
        return "time_limit"
    if limited or "numeric range" in message:
        return "solver_limit"
    return "no_proof"


def _interference_bound(inst: Instance, free_inst: Instance, candidates: Candidates,
                        deadline: float | None) -> float | None:
    """Interference-aware bound (:mod:`mecopt.formulations.interference_bound`) at the
    multipliers of a short interference-free ascent; ``None`` when out of reach."""
    from mecopt.formulations.interference_bound import MAX_USERS, interference_bound
    from mecopt.formulations.layers import LayerCosts
    from mecopt.formulations.pricing import start_multipliers

    if inst.n_users > MAX_USERS or _time_left(deadline) <= 0:
        return None
    free_cands = {n: (a, evaluate(free_inst, a)) for n, (a, _) in candidates.items()}
    best = _best(free_cands)
    if best is None:
        return None
    costs = LayerCosts.of(free_inst)
    scale = count_indexed.MS * inst.n_users
    budget = min(INTERFERENCE_BOUND_BUDGET, 0.5 * _time_left(deadline))
    _, u, mu = ascent(costs, start_multipliers(costs, best[1]), None,
                      best[2].objective * scale, deadline=time.perf_counter() + budget,
                      max_iter=200)
    value = interference_bound(inst, u, mu)
    return value if np.isfinite(value) else None


def _count_intervals_path(inst: Instance, free_inst: Instance, candidates: Candidates,
                          bounds: dict[str, float], info: dict[str, object],
                          deadline: float | None, threads: int, seed: int, gap: float,
                          report: Callable[[str, float | None, float | None], None],
                          finish: Callable[[str, str], SolveResult],
                          infeasible: Callable[[str], SolveResult], *, explicit: bool,
                          ) -> SolveResult | None:
    """Formulation ``"count-intervals"`` (see :mod:`mecopt.solvers.interference_counts`);
    ``None`` when the search does not start and was not asked for by name."""
    from mecopt.solvers import interference_counts
    from mecopt.solvers.highs_matrix import highs_version

    if inst.interference != "other-cells":
        raise MecoptError(f"formulation 'count-intervals': interference = "
                          f"{inst.interference!r}; it models 'other-cells' only (use 'auto')")
    if not numeric_range_ok(free_inst):
        if explicit:
            raise MecoptError("formulation 'count-intervals': costs beyond the solvers' "
                              f"numeric range (more than {NUMERIC_RANGE_S:g} s); use "
                              "formulation 'auto'")
        return None
    stop = deadline
    if deadline is not None:
        left = max(_time_left(deadline), 0.0)
        stop = deadline - min(INTERVALS_RESERVE * left, INTERVALS_RESERVE_S)

    def told(incumbent: float | None, bound: float | None) -> None:
        report("count-intervals", incumbent, bound)

    out = interference_counts.search(inst, [a for a, _ in candidates.values()],
                                     deadline=stop, gap=gap, threads=threads, seed=seed,
                                     report=told)
    if not out.started:
        if explicit:
            info["formulation"] = "count-intervals"
            return finish("feasible", "count-intervals: not started (too many count "
                                      "vectors to list)")
        return None
    info["formulation"] = "count-intervals"
    info.update({f"count_intervals_{k}": v for k, v in out.info.items()})
    info["count_intervals_highs"] = highs_version()  # HiGHS whatever the backend
    if out.infeasible:
        return infeasible("count-intervals: no count vector has a feasible assignment")
    if out.assignment is not None:
        candidates["count-intervals"] = (out.assignment, evaluate(inst, out.assignment))
    if np.isfinite(out.bound):
        bounds["count-intervals"] = out.bound
    return finish("feasible", f"count vectors with interference intervals: "
                              f"{out.info['vectors']} listed, {out.info['settled']} settled")


def _intervals_path(inst: Instance, free_inst: Instance, backend: Backend,
                    candidates: Candidates, bounds: dict[str, float],
                    info: dict[str, object], deadline: float | None, threads: int,
                    seed: int, engine: str | None, verbose: bool, gap: float,
                    report: Callable[[str, float | None, float | None], None],
                    finish: Callable[[str, str], SolveResult],
                    infeasible: Callable[[str], SolveResult]) -> SolveResult:
    """Formulation ``"intervals"`` (see :mod:`mecopt.solvers.interference`)."""
    from mecopt.solvers.interference import refine

    if inst.interference != "other-cells":
        raise MecoptError(f"formulation 'intervals': interference = {inst.interference!r}; "
                          "it models 'other-cells' only (use 'auto')")
    info["formulation"] = "intervals"
    if not numeric_range_ok(free_inst):
        raise MecoptError("formulation 'intervals': costs beyond the solvers' numeric range "
                          f"(more than {NUMERIC_RANGE_S:g} s); use formulation 'auto'")
    with np.errstate(over="ignore", invalid="ignore"):
        bounds["trivial"] = trivial_bound(free_inst, count_indexed.cost_table(free_inst, 1))
    stop = deadline
    if deadline is not None:
        left = max(_time_left(deadline), 0.0)
        stop = deadline - min(INTERVALS_RESERVE * left, INTERVALS_RESERVE_S)
    out = refine(inst, backend, [a for a, _ in candidates.values()], deadline=stop,
                 threads=threads, seed=seed, gap=gap, engine=engine, verbose=verbose,
                 report=report)
    for name, a in out.assignments.items():
        candidates[name] = (a, evaluate(inst, a))
    info.update({f"intervals_{k}": v for k, v in out.info.items()})
    info["cols"], info["rows"] = out.info.get("cols"), out.info.get("rows")
    if out.infeasible:
        return infeasible(out.infeasible)
    if np.isfinite(out.bound):
        bounds["intervals"] = out.bound
    return finish("feasible", f"interference intervals, {out.info['rounds']} round(s)")


def _hint(model: count_indexed.CountIndexedModel, free_inst: Instance, candidates: Candidates,
          table: np.ndarray | None) -> np.ndarray | None:
    """0/1 start vector of the best candidate (interference-free), if the model has it."""
    free_cands = {n: (a, evaluate(free_inst, a)) for n, (a, _) in candidates.items()}
    best_free = _best(free_cands)
    if best_free is None:
        return None
    a = best_free[1]
    if table is not None:
        a = count_indexed.prune_assignment(free_inst, a, table)
    return model.encode(a)


def _absorb(br: BackendResult, model: count_indexed.CountIndexedModel, backend: Backend,
            candidates: Candidates, bounds: dict[str, float], info: dict[str, object],
            add_candidate: Callable[[str, np.ndarray], None],
            report: Callable[[str, float | None, float | None], None]) -> str:
    """Take the backend's assignment and bound; return the message."""
    info.update(br.stats)
    info["backend_status"] = br.raw_status
    # A limit (time, nodes, ...) stopped the backend before its proof.
    info["backend_limit"] = br.status in ("feasible", "no_solution")
    message = f"{backend.name}: {br.raw_status}"
    if br.status == "infeasible":
        return message
    if br.x is not None:
        add_candidate("milp", model.decode(br.x))
    if br.status == "error":
        return message + " (backend failed; best other answer returned)"
    if br.bound is not None:
        bounds["backend"] = model.to_mean_delay(br.bound)
    elif br.status == "optimal" and br.objective is not None:
        bounds["backend"] = model.to_mean_delay(br.objective)
    if "backend" in bounds:
        report("backend", None, bounds["backend"])
    return message


def _exact_count_descent(inst: Instance, free_inst: Instance, costs: LayerCosts,
                         a: np.ndarray, stop: float | None, candidates: Candidates) -> None:
    """Best-improvement descent over count vectors (the current one, then one user more or
    less on one ES), each re-optimised by the exact fixed-count MILP, until ``stop``."""
    eye = np.eye(inst.n_servers, dtype=np.int64)
    moves = [0 * eye[0], *eye, *(-eye)]
    counts = np.bincount(a[a >= 0], minlength=inst.n_servers)
    best = evaluate(free_inst, a).objective
    seen: set[bytes] = set()
    improved, k = True, 0
    while improved:
        improved = False
        step_best, step_counts = best, counts
        for move in moves:
            left = _time_left(stop)
            cand = counts + move
            if left <= 0:
                return
            if np.any(cand < 0) or np.any(cand > costs.limit) or cand.tobytes() in seen:
                continue
            seen.add(cand.tobytes())
            b = fixed_count_assignment(costs, cand, None if stop is None else left, exact=True)
            if b is None:
                continue
            k += 1
            candidates[f"side-multiplier-exact-counts-{k}"] = (b, evaluate(inst, b))
            value = evaluate(free_inst, b).objective
            if value < step_best * (1 - 1e-12):
                step_best = value
                step_counts = np.bincount(b[b >= 0], minlength=inst.n_servers)
        if step_best < best:
            best, counts, improved = step_best, step_counts, True


def _side_search(inst: Instance, free_inst: Instance, state: decomposition.DecompositionState,
                 costs: LayerCosts, inner: side_multiplier.InnerSolve, candidates: Candidates,
                 bounds: dict[str, float], info: dict[str, object], deadline: float | None,
                 seed: int, gap: float, upper: float,
                 report: Callable[[str, float | None, float | None], None],
                 descend: bool = True,
                 settle: Callable[[float], bool] | None = None) -> float:
    """Run the side-row multiplier search with most of the time left, then ``lns`` from
    both ends of its bracket, then ``settle(weight)`` (which returns True when it closed
    the gap; the rest is then skipped), the count neighbourhood of the best answer and
    (with ``descend``) a descent over count vectors by exact fixed-count MILPs; returns the
    best interference-free objective known."""
    left = _time_left(deadline)
    stop = None if deadline is None else time.perf_counter() + SIDE_SEARCH_SHARE * left
    out = side_multiplier.search(free_inst, inner, w0=float(state.mu[0]) / count_indexed.MS,
                                 deadline=stop, gap=gap, upper=upper,
                                 report=lambda b: report("side-multiplier", None, b))
    info["side_multiplier_steps"] = out.steps
    if np.isfinite(out.bound):
        bounds["side-multiplier"] = out.bound
        info["side_multiplier_weight"] = out.weight
    free_best = _best({n: (a, evaluate(free_inst, a)) for n, (a, _) in candidates.items()})
    starts = [a for a in (*out.bracket, *out.feasible) if a is not None]
    left = _time_left(deadline)
    if starts and left > 0:
        if free_best is not None:
            starts.append(free_best[1])
        a = lns(free_inst, np.random.default_rng(seed), time_budget=min(LNS_BUDGET, 0.5 * left),
                plan=False, policies=False, starts=starts)
        candidates["side-multiplier-lns"] = (a, evaluate(inst, a))
    for k, a in enumerate(out.feasible):
        candidates[f"side-multiplier-{k}"] = (a, evaluate(inst, a))
    settled = settle is not None and np.isfinite(out.bound) and _time_left(deadline) > 0 \
        and settle(out.weight)
    free_best = _best({n: (a, evaluate(free_inst, a)) for n, (a, _) in candidates.items()})
    left = _time_left(deadline)
    if free_best is not None and left > 0 and not settled:
        # Count vectors next to the best answer, each re-optimised with the side row.
        stop = None if deadline is None else time.perf_counter() + 0.5 * left
        scale = count_indexed.MS * inst.n_users
        a, _ = decomposition.count_neighbourhood(free_inst, costs, free_best[1],
                                                 free_best[2].objective * scale, stop)
        candidates["side-multiplier-counts"] = (a, evaluate(inst, a))
        # The best answer's counts, then their single-ES moves by one user, re-optimised by
        # the exact fixed-count MILP while a share of the time is left; only when count
        # fixing will leave too many counts for the backend, which otherwise uses the time
        # better (kim2026 N = 120 seed 1: gap 1.0e-4 without the descent, 2.0e-4 with it).
        if descend:
            left = _time_left(deadline)
            stop = None if deadline is None else time.perf_counter() + SIDE_EXACT_SHARE * left
            _exact_count_descent(inst, free_inst, costs, a, stop, candidates)
    for name in [n for n in candidates if n.startswith("side-multiplier")]:
        if candidates[name][1].feasible:
            report(name, candidates[name][1].objective, None)
    free_best = _best({n: (a, evaluate(free_inst, a)) for n, (a, _) in candidates.items()})
    return min(upper, free_best[2].objective) if free_best is not None else upper


def _count_search(inst: Instance, free_inst: Instance, u: np.ndarray | None,
                  mu: np.ndarray | None, costs: LayerCosts, candidates: Candidates,
                  bounds: dict[str, float], info: dict[str, object], deadline: float | None,
                  gap: float, report: Callable[[str, float | None, float | None], None],
                  passes: bool = False) -> count_enumeration.CountSearch | None:
    """Count enumeration (:mod:`mecopt.solvers.count_enumeration`) from the multipliers
    ``(u, mu)`` and the best answer known; ``None`` when it does not start."""
    free_best = _best({n: (a, evaluate(free_inst, a)) for n, (a, _) in candidates.items()})
    if free_best is None or u is None:
        return None
    scale = count_indexed.MS * inst.n_users

    def told(incumbent: float | None, bound: float | None) -> None:
        report("count-enumeration", None if incumbent is None else incumbent / scale,
               None if bound is None else bound / scale)

    out = count_enumeration.search(costs, u, mu, free_best[2].objective * scale,
                                   free_best[1], deadline=deadline, gap=gap, report=told,
                                   passes=passes)
    if not out.started:
        return None
    for key, n in (("count_vectors", out.vectors), ("count_lps", out.lps),
                   ("count_milps", out.milps)):
        info[key] = int(info.get(key, 0)) + n  # type: ignore[call-overload]
    if out.assignment is not None:
        candidates["count-enumeration"] = (out.assignment, evaluate(inst, out.assignment))
    if np.isfinite(out.bound):
        bounds["count-enumeration"] = max(bounds.get("count-enumeration", -np.inf),
                                          out.bound / scale)
    return out


def _decomposition_path(inst: Instance, free_inst: Instance, backend: Backend,
                        candidates: Candidates, bounds: dict[str, float],
                        info: dict[str, object], notes: list[str], deadline: float | None,
                        seed: int, report: Callable[[str, float | None, float | None], None],
                        run_backend: Callable[..., BackendResult | None],
                        finish: Callable[[str, str], SolveResult],
                        infeasible: Callable[[str], SolveResult],
                        warm_start: bool, gap: float,
                        inner: side_multiplier.InnerSolve | None = None) -> SolveResult:
    """Formulation ``"decomposition"`` (see :mod:`mecopt.solvers.decomposition`).

    With exactly one side row, the multiplier search of :mod:`mecopt.solvers.side_multiplier`
    (``inner`` solves its instances) raises the bound before count fixing.
    """
    n_users = inst.n_users
    scale = count_indexed.MS * n_users

    def report_ms(source: str, incumbent: float | None, bound: float | None) -> None:
        # Interference-free values in MILP units: the incumbent is reported only for
        # instances without interference (with it, the evaluator's value differs).
        inc = None if incumbent is None or inst.interference != "none" else incumbent / scale
        report(source, inc if inc is not None and np.isfinite(inc) else None,
               None if bound is None else bound / scale)

    starts = [a for a, _ in candidates.values()]
    side = inner is not None and side_multiplier.single_side_row(free_inst) is not None
    # With one side row the multiplier search gives the better bound: ascent gets a share.
    stop = deadline if deadline is None or not side else \
        time.perf_counter() + DECOMPOSITION_SIDE_SHARE * _time_left(deadline)
    state, costs = decomposition.decompose(free_inst, starts, deadline=stop, seed=seed,
                                           report=report_ms, gap=gap)
    for name, a in state.assignments.items():
        m = evaluate(inst, a)
        candidates[name] = (a, m)
        if m.feasible:
            report(name, m.objective, None)
    if np.isfinite(state.bound):
        bounds["lagrangian"] = state.bound / scale
        info["lagrangian_bound"] = bounds["lagrangian"]
    info.update(state.info)
    free_best = _best({n: (a, evaluate(free_inst, a)) for n, (a, _) in candidates.items()})
    if free_best is None:
        # Nothing feasible known: only the whole model can prove infeasibility.
        if estimated_columns(free_inst) > decomposition.MAX_REDUCED_COLS:
            return finish("feasible", "decomposition: no feasible assignment found")
        limit = costs.limit
        model = build_layers(costs, [np.arange(1, int(k) + 1) for k in limit])
        if model.infeasible_reason:
            return infeasible(model.infeasible_reason)
        br = run_backend(model, None, deadline)
        if br is None:
            return finish("feasible", f"{backend.name}: not started")
        message = _absorb(br, model, backend, candidates, bounds, info,
                          lambda name, a: candidates.__setitem__(name, (a, evaluate(inst, a))),
                          report)
        if br.status == "infeasible":
            return infeasible(message)
        return finish("feasible", message)
    upper = free_best[2].objective
    now_gap = relative_gap(upper, bounds.get("lagrangian"))
    if state.u is None:
        # No ascent step finished (a time limit shorter than the heuristic seeds, e.g.
        # kim2026 N = 100,000 on a busy machine): no bound to report, nothing closed.
        return finish("feasible", "decomposition: stopped before the first Lagrangian bound")
    if now_gap is not None and now_gap <= gap:
        return finish("feasible", "decomposition: closed by the Lagrangian bound")
    if _time_left(deadline) <= 0:
        return finish("feasible", "decomposition: time limit")
    if costs.side and backend.name == "highs":
        # Few count vectors survive: settle them one by one (exact with the side rows; the
        # small LPs and MILPs are HiGHS's, so other backends keep their own path).
        found = _count_search(inst, free_inst, state.u, state.mu, costs, candidates, bounds,
                              info, deadline, gap, report)
        if found is not None and found.complete:
            return finish("feasible", "decomposition + count enumeration: every count "
                                      "vector settled")
        if found is not None and _time_left(deadline) <= 0:
            return finish("feasible", "decomposition + count enumeration: time limit")
    if side and state.mu is not None:
        # Whether the backend will get a reduced model (then it gets the time left).
        reduced = decomposition.reduced_model(costs, state, upper * scale) is not None
        enumerated: list[count_enumeration.CountSearch] = []

        def settle(weight: float) -> bool:
            # Multipliers of the user rows at the side row's best weight: the decomposition
            # of the instance with the row moved into the objective (it has no side row,
            # so its ascent gets close to its LP bound fast).
            row = side_multiplier.single_side_row(free_inst)
            relaxed = side_multiplier.relaxed(free_inst, row, weight)
            left = _time_left(deadline)
            stop = None if deadline is None else time.perf_counter() + 0.25 * left
            st, _ = decomposition.decompose(relaxed, [a for a, _ in candidates.values()],
                                            deadline=stop, seed=seed,
                                            report=lambda *_: None, gap=gap / 4)
            mu = np.array([weight * count_indexed.MS])
            found = _count_search(inst, free_inst, st.u, mu, costs, candidates, bounds, info,
                                  deadline, gap, report, passes=True)
            if found is None:
                return False
            enumerated.append(found)
            return found.complete

        upper = _side_search(inst, free_inst, state, costs, inner, candidates, bounds, info,
                             deadline, seed, gap, upper, report, descend=not reduced,
                             settle=settle if backend.name == "highs" else None)
        if enumerated and enumerated[-1].complete:
            return finish("feasible", "decomposition + side-row multiplier search + count "
                                      "enumeration: every count vector settled")
        now_gap = relative_gap(upper, max(bounds.get("side-multiplier", -np.inf),
                                          bounds.get("lagrangian", -np.inf)))
        if now_gap is not None and now_gap <= gap:
            return finish("feasible", "decomposition: closed by the side-row multiplier search")
        if _time_left(deadline) <= 0:
            return finish("feasible", "decomposition + side-row multiplier search: time limit")
    model = decomposition.reduced_model(costs, state, upper * scale)
    if model is None and _time_left(deadline) > 0:
        # Too many counts survive: spend most of the time left raising the bound, then fix
        # counts again.
        left = _time_left(deadline)
        stop = None if deadline is None else deadline - 0.3 * left
        db, u, mu = ascent(costs, state.u, state.mu, upper * scale, deadline=stop,
                           max_iter=10_000 if deadline is not None else 2_000,
                           progress=lambda v: report_ms("lagrangian", None, v))
        if db.bound > state.bound:
            state.bound, state.u, state.mu = db.bound, u, mu
            bounds["lagrangian"] = state.bound / scale
            info["lagrangian_bound"] = bounds["lagrangian"]
        now_gap = relative_gap(upper, bounds.get("lagrangian"))
        if now_gap is not None and now_gap <= gap:
            return finish("feasible", "decomposition: closed by the Lagrangian bound")
        model = decomposition.reduced_model(costs, state, upper * scale)
    if model is None:
        return finish("feasible", "decomposition: too many counts survive count fixing for "
                                  "the backend; Lagrangian bound reported")
    info.update({"cols": model.milp.n_vars, "rows": model.milp.n_rows})
    if model.infeasible_reason:
        # No count combination beats the incumbent: it is optimal.
        bounds["count-fixing"] = upper
        return finish("feasible", "decomposition: count fixing leaves no better count")
    if costs.side and _time_left(deadline) < SIDE_PRESOLVE_SECONDS_PER_COL * model.milp.n_vars:
        return finish("feasible", f"{backend.name} not started: the presolve of a model with a "
                                  "side row would overrun the time left")
    hint = _hint(model, free_inst, {free_best[0]: candidates[free_best[0]]}, None) \
        if warm_start else None
    br = run_backend(model, hint, deadline)
    if br is None:
        return finish("feasible", f"{backend.name}: not started")
    sub: dict[str, float] = {}
    message = _absorb(br, model, backend, candidates, sub, info,
                      lambda name, a: candidates.__setitem__(name, (a, evaluate(inst, a))),
                      lambda *_: None)
    if br.status == "infeasible":
        # The kept counts hold nothing better than the incumbent.
        bounds["count-fixing"] = upper
    elif "backend" in sub:
        bounds["count-fixing"] = min(sub["backend"], upper)
    if "count-fixing" in bounds:
        report("count-fixing", None, bounds["count-fixing"])
    return finish("feasible", "decomposition + count fixing; " + message)
