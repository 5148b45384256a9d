"""Adaptive interval refinement for other-cells interference (formulation ``"intervals"``).

Solve the interval model of :mod:`mecopt.formulations.interference_intervals` with the
backend, score its solution with the evaluator (the true objective), put a breakpoint at
the solution's true interference at every ES where it is not already a lower end, and solve
again, until the model's proven bound meets the best true objective within ``gap`` or the
deadline comes. Every round's bound is a proven lower bound (the model is a relaxation for
any breakpoints); refining only raises the model's optimum. A round whose solution is
already priced at its true cost adds no breakpoint; if the backend proved that round
optimal, the bound then equals that solution's true objective.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from mecopt.evaluate import evaluate
from mecopt.formulations.interference_intervals import (
    breakpoint_for,
    build_intervals,
    true_interference,
)
from mecopt.instance import Instance
from mecopt.result import relative_gap
from mecopt.solvers.base import MIP_REL_GAP, Backend, BackendOptions

#: Share of the requested gap the backend stops at (the rest absorbs its pruning).
MIP_GAP_SHARE = 0.25
#: Relative distance under which a new breakpoint counts as one already there.
SAME_BREAK = 1e-9


@dataclasses.dataclass
class IntervalOutcome:
    """What the refinement found.

    Attributes
    ----------
    assignments
        Named assignments to score (every round's solution).
    bound
        Best proven lower bound (mean objective, s), ``-inf`` if no round finished one.
    infeasible
        A round proved the interval model (so the instance) infeasible: the reason.
    info
        Rounds, breakpoints per ES, the last model's size.
    """

    assignments: dict[str, np.ndarray]
    bound: float
    infeasible: str
    info: dict[str, object]


def refine(inst: Instance, backend: Backend, starts: list[np.ndarray], *,
           deadline: float | None, threads: int, seed: int, gap: float,
           engine: str | None = None, verbose: bool = False,
           report: Callable[[str, float | None, float | None], None] | None = None,
           ) -> IntervalOutcome:
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
    """
    best_a, best = None, np.inf
    for a in starts:
        m = evaluate(inst, a)
        if m.feasible and m.objective < best:
            best_a, best = np.asarray(a), m.objective
    breaks: list[list[float]] = [[] for _ in range(inst.n_servers)]

    def add_breaks(a: np.ndarray) -> int:
        added = 0
        level = true_interference(inst, a)
        for j in range(inst.n_servers):
            b = breakpoint_for(inst, j, level[j])
            if b > 0 and not any(abs(b - o) <= SAME_BREAK * o for o in breaks[j]):
                breaks[j].append(b)
                added += 1
        return added

    if best_a is not None:
        add_breaks(best_a)
    out = IntervalOutcome({}, -np.inf, "", {"rounds": 0})
    while deadline is None or time.perf_counter() < deadline:
        model = build_intervals(inst, [np.array(b) for b in breaks])
        out.info.update({"rounds": out.info["rounds"] + 1, "cols": model.milp.n_vars,
                         "rows": model.milp.n_rows,
                         "breakpoints": [len(b) + 1 for b in breaks]})
        if model.infeasible_reason:
            out.infeasible = model.infeasible_reason
            return out
        hint = model.encode(best_a) if best_a is not None else None
        mip_gap = max(MIP_GAP_SHARE * gap, MIP_REL_GAP)
        br = backend.solve(model.milp, BackendOptions(
            deadline=deadline, threads=threads, seed=seed, hint=hint, engine=engine,
            verbose=verbose, mip_gap=mip_gap))
        if br.status == "infeasible":
            out.infeasible = f"{backend.name}: interval model infeasible"
            return out
        value = br.bound if br.bound is not None else (
            br.objective if br.status == "optimal" else None)
        if value is not None and br.objective is not None:
            # A solver that stops at a relative gap prunes nodes within it and may then
            # report its incumbent as the bound: only objective (1 - gap) is proven.
            value = min(value, br.objective - mip_gap * abs(br.objective))
        if value is not None and br.status in ("optimal", "feasible"):
            out.bound = max(out.bound, model.to_mean_delay(value))
        added = 0
        if br.x is not None:
            a = model.decode(br.x)
            out.assignments[f"intervals-{out.info['rounds']}"] = a
            m = evaluate(inst, a)
            if m.feasible and m.objective < best:
                best_a, best = a, m.objective
            added = add_breaks(a)
        if report is not None:
            report("intervals", best if np.isfinite(best) else None,
                   out.bound if np.isfinite(out.bound) else None)
        now_gap = relative_gap(best if np.isfinite(best) else None,
                               out.bound if np.isfinite(out.bound) else None)
        if (now_gap is not None and now_gap <= gap) or br.status != "optimal" or added == 0:
            break
    return out
