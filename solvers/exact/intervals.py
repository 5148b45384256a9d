"""Formulation ``"intervals"``: adaptive interval refinement for other-cells interference.

Solve the interval model of :mod:`mecopt.formulations.interference.intervals` with the
backend, score its solution with the evaluator (the true objective), put a breakpoint at
the solution's true interference at every ES where it is not already a lower end, and solve
again, until the model's proven bound meets the best true objective within ``gap`` or the
deadline comes. Every round's bound is a proven lower bound (the model is a relaxation for
any breakpoints); refining only raises the model's optimum. A round whose solution is
already priced at its true cost adds no breakpoint; if the backend proved that round
optimal, the bound then equals that solution's true objective.

The refinement step (:func:`new_breaks`) is shared with ``"count-intervals"``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np

from mecopt.channel import INTERFERENCE
from mecopt.errors import MecoptError
from mecopt.evaluate import evaluate
from mecopt.formulations.interference.geometry import breakpoint_for, true_interference
from mecopt.formulations.interference.intervals import build_intervals
from mecopt.instance import Instance
from mecopt.result import relative_gap
from mecopt.solvers.base import MIP_REL_GAP, Backend, BackendOptions
from mecopt.solvers.exact.checks import lone_trivial_bound, numeric_range_ok
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import SolveState

#: The interference models the interval formulations model (names of the registry).
MODELLED = tuple(name for name in INTERFERENCE.names() if INTERFERENCE.get(name).from_other_servers)
#: Share of the requested gap the backend stops at (the rest absorbs its pruning).
MIP_GAP_SHARE = 0.25
#: Relative distance under which a new breakpoint counts as one already there.
SAME_BREAK = 1e-9


def models_intervals(inst: Instance) -> bool:
    """True when the interval formulations model ``inst``'s interference."""
    return INTERFERENCE.get(inst.interference).from_other_servers


def small_interval_instance(state: SolveState) -> bool:
    """``"auto"`` on an interval-modelled instance below ``intervals_n`` users."""
    return (state.auto and state.options.lagrangian_mode == "auto"
            and models_intervals(state.inst) and state.inst.n_users < state.params.intervals_n)


def check_modelled(state: SolveState, name: str) -> None:
    """Raise when the instance is outside formulation ``name``'s reach."""
    if not models_intervals(state.inst):
        raise MecoptError(f"formulation {name!r}: interference = {state.inst.interference!r};"
                          f" it models {', '.join(map(repr, MODELLED))} only (use 'auto')")
    if not numeric_range_ok(state.free, state.params.numeric_range_s):
        raise MecoptError(f"formulation {name!r}: costs beyond the solvers' numeric range "
                          f"(more than {state.params.numeric_range_s:g} s); use formulation "
                          "'auto'")


def new_breaks(inst: Instance, a: np.ndarray, known: list[list[float]],
               servers: Iterable[int] | None = None, positive: bool = True) -> dict[int, float]:
    """Breakpoints at ``a``'s true interference, per ES of ``servers`` (default all),
    that are not in ``known`` (within ``SAME_BREAK``); with ``positive``, zero ones are
    left out."""
    level = true_interference(inst, a)
    out = {}
    for j in range(inst.n_servers) if servers is None else servers:
        b = breakpoint_for(inst, int(j), float(level[j]))
        if positive and b <= 0:
            continue
        if not any(abs(b - o) <= SAME_BREAK * max(o, 1e-300) for o in known[j]):
            out[int(j)] = b
    return out


def accepts(state: SolveState) -> bool:
    """Asked for by name, or ``"auto"`` on a small interval-modelled instance (up to
    ``intervals_unlimited_n`` users without a time limit) with a backend that takes
    continuous columns."""
    if state.asked("intervals"):
        return True
    return (small_interval_instance(state) and not state.caps.integer_only
            and (state.options.time_limit is not None
                 or state.inst.n_users <= state.params.intervals_unlimited_n))


def run(state: SolveState) -> Outcome:
    """Refine with the run's backend until the gap closes, keeping a reserve of the time."""
    check_modelled(state, "intervals")
    state.info["formulation"] = "intervals"
    state.bound("trivial", lone_trivial_bound(state.free), quiet=True)
    opts, params = state.options, state.params
    out = refine(state.inst, state.backend, state.starts(),
                 deadline=state.budget.reserve(params.intervals_reserve,
                                               params.intervals_reserve_s),
                 threads=opts.threads, seed=opts.seed, gap=opts.gap, engine=opts.engine,
                 verbose=opts.verbose, report=state.report)
    out.info = {**{f"intervals_{k}": v for k, v in out.info.items()},
                "cols": out.info.get("cols"), "rows": out.info.get("rows")}
    out.message = f"interference intervals, {out.info['intervals_rounds']} round(s)"
    return out


def refine(inst: Instance, backend: Backend, starts: list[np.ndarray], *,
           deadline: float | None, threads: int, seed: int, gap: float,
           engine: str | None = None, verbose: bool = False,
           report: Callable[[str, float | None, float | None], None] | None = None,
           ) -> Outcome:
    """Refine interference intervals until the bound meets the incumbent.

    Parameters
    ----------
    inst
        An ``"other-cells"`` instance.
    backend
        The MILP backend (it must accept continuous columns).
    starts
        Known assignments; the best feasible one seeds the breakpoints and the backend.
    deadline
        ``time.perf_counter()`` value to stop at, or ``None``.
    threads, seed, engine, verbose
        Passed to the backend.
    gap
        Relative gap at which to stop.
    report
        Called with (source, incumbent, bound) on improvements.

    Returns
    -------
    Outcome
        Every round's solution (``intervals-k``), the best bound (``"intervals"``), the
        reason when a round proved the model infeasible; info: rounds, breakpoints per ES,
        the last model's size.
    """
    best_a, best = None, np.inf
    for a in starts:
        m = evaluate(inst, a)
        if m.feasible and m.objective < best:
            best_a, best = np.asarray(a), m.objective
    breaks: list[list[float]] = [[] for _ in range(inst.n_servers)]

    def add_breaks(a: np.ndarray) -> int:
        found = new_breaks(inst, a, breaks)
        for j, b in found.items():
            breaks[j].append(b)
        return len(found)

    if best_a is not None:
        add_breaks(best_a)
    out = Outcome(info={"rounds": 0})
    bound = -np.inf
    mip_gap = max(MIP_GAP_SHARE * gap, MIP_REL_GAP)
    while deadline is None or time.perf_counter() < deadline:
        model = build_intervals(inst, [np.array(b) for b in breaks])
        rounds = out.info["rounds"] + 1
        out.info.update({"rounds": rounds, "cols": model.milp.n_vars,
                         "rows": model.milp.n_rows, "breakpoints": [len(b) + 1 for b in breaks]})
        if model.infeasible_reason:
            out.infeasible = model.infeasible_reason
            break
        br = backend.solve(model.milp, BackendOptions(
            deadline=deadline, threads=threads, seed=seed,
            hint=model.encode(best_a) if best_a is not None else None, engine=engine,
            verbose=verbose, mip_gap=mip_gap))
        if br.status == "infeasible":
            out.infeasible = f"{backend.name}: interval model infeasible"
            break
        bound = max(bound, _round_bound(br, mip_gap, model.to_mean_delay))
        added = 0
        if br.x is not None:
            a = model.decode(br.x)
            out.assignments[f"intervals-{rounds}"] = a
            m = evaluate(inst, a)
            if m.feasible and m.objective < best:
                best_a, best = a, m.objective
            added = add_breaks(a)
        inc, bnd = (best if np.isfinite(best) else None), (bound if np.isfinite(bound) else None)
        if report is not None:
            report("intervals", inc, bnd)
        now_gap = relative_gap(inc, bnd)
        if (now_gap is not None and now_gap <= gap) or br.status != "optimal" or added == 0:
            break
    if np.isfinite(bound):
        out.bounds["intervals"] = bound
    return out


def _round_bound(br: object, mip_gap: float, to_mean: Callable[[float], float]) -> float:
    """One round's proven bound (mean, s), ``-inf`` if none."""
    value = br.bound if br.bound is not None else (
        br.objective if br.status == "optimal" else None)
    if value is not None and br.objective is not None:
        # A solver that stops at a relative gap prunes nodes within it and may then
        # report its incumbent as the bound: only objective (1 - gap) is proven.
        value = min(value, br.objective - mip_gap * abs(br.objective))
    if value is not None and br.status in ("optimal", "feasible"):
        return to_mean(value)
    return -np.inf
