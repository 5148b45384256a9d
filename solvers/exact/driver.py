"""The exact-solve driver shared by every MILP backend.

1. The heuristics (GOA, Min delay, Edge all when an accuracy target is set, and ``lns``
   unless the decomposition or the big-M model will run) give the first candidates.
2. The rows of :data:`mecopt.solvers.exact.chain.CHAIN` run in order while their
   predicates accept the solve, until one ends it: enumeration (tiny instances with
   interference), best responses (interference), the interval methods (other-cells below
   ``intervals_n`` users), the guard against costs out of range, big-M (by name), the
   decomposition (large instances) and the count-indexed model (the rest). Each returns
   an :class:`~mecopt.solvers.exact.outcome.Outcome` whose assignments, bounds and
   figures join the :class:`~mecopt.solvers.exact.state.SolveState`.
3. :func:`~mecopt.solvers.exact.finish.finish` adds the closing bounds with interference
   (interference-aware, interference dual), runs a local search from the best answer
   under interference, drops any bound above a feasible objective (a faulty method, said
   in the message) and decides the status: ``"optimal"`` only when the best answer meets
   the best bound within ``gap``.

Every candidate is scored by the evaluator under the instance's own interference, so the
answer is never worse than GOA. Every bound is a lower bound for both interference models
(interference only raises costs and tightens energy budgets). The whole solve, model
building included, keeps within ``time_limit`` up to the granularity of the backend's own
limit checks; ``progress`` receives the incumbent, bound and gap whenever one improves.
"""

from __future__ import annotations

import dataclasses

from mecopt.heuristics import edge_all, goa, min_delay
from mecopt.heuristics.lns import lns
from mecopt.instance import Instance
from mecopt.result import DEFAULT_GAP, MIN_GAP, SolveResult, check_gap
from mecopt.solvers.base import Backend
from mecopt.solvers.exact import big_m, decomposition
from mecopt.solvers.exact.chain import CHAIN, FORMULATIONS
from mecopt.solvers.exact.finish import finish, infeasible
from mecopt.solvers.exact.params import PARAMS, ExactParams
from mecopt.solvers.exact.state import Budget, ExactOptions, Progress, SolveState


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
    params: ExactParams = PARAMS,
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
        At most this many seconds of single-move local search under interference (capped
        by the time left); 0 disables it.
    lagrangian_mode
        Count-indexed model only. ``"auto"`` (default): the Lagrangian step runs before
        the backend on models above ``large_model_cols`` columns, and after it when the
        backend stops without proving optimality; ``"on"``: always before; ``"off"``:
        never (and no other method is picked automatically).
    formulation
        ``"auto"`` (default): the first row of :data:`~mecopt.solvers.exact.chain.CHAIN`
        that accepts the instance. A name runs that method: ``"enumeration"``,
        ``"count-intervals"`` and ``"intervals"`` (exact for ``"other-cells"``; the
        former calls HiGHS directly whatever the backend, the latter is not for CP-SAT),
        ``"decomposition"``, ``"count-indexed"``, ``"big-m"`` (the generic big-M model on
        the backend alone, the reference the others are timed against; no interference).
    progress
        Called with a dict (``time``, ``source``, ``incumbent``, ``bound``, ``gap``; delays
        in seconds) whenever the incumbent or the bound improves (at most every 0.2 s,
        except for the final report).
    gap
        Relative gap to prove (default :data:`~mecopt.result.DEFAULT_GAP`): the search
        stops once ``(objective - bound) / objective <= gap`` and the status reads
        ``"optimal"``, with ``gap_tol`` recording it (at least
        :data:`~mecopt.result.MIN_GAP`, the solvers' floor). Stopped earlier (time limit,
        ...), the status is ``"feasible"`` with the gap proven so far and ``stop`` says why.
    started
        ``time.perf_counter()`` value the time limit counts from (default: now), so that
        the caller's own set-up (importing the solver) counts against it.
    params
        The tuning constants (:class:`~mecopt.solvers.exact.params.ExactParams`).

    Returns
    -------
    SolveResult
    """
    options = ExactOptions(
        backend=backend, solver_name=solver_name, time_limit=time_limit, seed=seed,
        threads=threads, engine=engine, verbose=verbose, warm_start=warm_start,
        local_search_budget=local_search_budget, lagrangian_mode=lagrangian_mode,
        formulation=formulation, progress=progress, gap=gap, params=params)
    return run(inst, options, started)


def run(inst: Instance, options: ExactOptions, started: float | None = None) -> SolveResult:
    """:func:`solve_exact` with its arguments in one record."""
    options = _validated(inst, options)
    state = SolveState(inst, options, Budget(options.time_limit, started), run)
    _seed(state)
    for _, method, accepts in CHAIN:
        if not accepts(state):
            continue
        out = method(state)
        if out.infeasible is not None:
            return infeasible(state, out.infeasible)
        state.absorb(out)
        if out.done:
            return finish(state, "feasible", out.message)
    raise AssertionError("the last row of the chain accepts every solve")


def _validated(inst: Instance, options: ExactOptions) -> ExactOptions:
    """The options with the gap clipped to the solvers' floor; errors name bad values."""
    if options.lagrangian_mode not in ("auto", "on", "off"):
        raise ValueError(f"lagrangian = {options.lagrangian_mode!r}: must be 'auto', 'on' "
                         "or 'off'")
    gap = max(check_gap(options.gap), MIN_GAP)
    if options.formulation not in FORMULATIONS:
        raise ValueError(f"formulation = {options.formulation!r}: must be one of "
                         + ", ".join(repr(f) for f in FORMULATIONS))
    big_m.check(inst, options)
    return dataclasses.replace(options, gap=gap)


def _seed(state: SolveState) -> None:
    """The heuristics' answers as the first candidates; ``lns`` from them unless the
    decomposition (which runs its own) or the big-M reference will run."""
    inst = state.inst
    seeds = [("goa", goa), ("min-delay", min_delay)]
    if inst.min_accuracy is not None:
        seeds.append(("edge-all", edge_all))
    for name, policy in seeds:
        state.add(name, policy(inst, state.rng))
    use_decomposition = decomposition.accepts(state)
    state.info["formulation"] = "decomposition" if use_decomposition else "count-indexed"
    if not use_decomposition and not state.asked("big-m"):
        limit = state.options.time_limit
        budget = state.params.lns_budget if limit is None \
            else min(state.params.lns_budget, 0.1 * limit)
        state.add("lns", lns(inst, state.rng, time_budget=budget, plan=False, policies=False,
                             starts=state.starts()))
