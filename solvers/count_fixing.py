"""Count fixing: shrink the count-indexed model to the counts that can still win.

1. **Duals.** The LP relaxation of the count-indexed model is solved over a window of
   counts around the best known assignment's (HiGHS through SciPy). Its duals are priced
   over *every* count by :func:`mecopt.formulations.pricing.dual_bound`; counts that price
   out join the window and the LP is solved again, until none does. The Lagrangian bound at
   these duals is then the LP bound of the full model, proven without building it.
2. **Fixing.** With the best known objective ``UB``, every count of ES j whose Lagrangian
   bound (the other ESs at their best) reaches ``UB`` is dropped.
3. The count-indexed model over the surviving counts (:func:`mecopt.formulations.layers.
   build_layers`) goes to the MILP backend. Its optimum is the optimum of the instance: a
   dropped count cannot beat ``UB``.

At N = 1,000 (kim2026, M = 4) a handful of counts per ES survive, instead of 1,000, so the
model has a few thousand columns instead of 687,144.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy.optimize import linprog

from mecopt.formulations.count_indexed import ROW_ACCURACY, ROW_ASSIGN
from mecopt.formulations.layers import LayerCosts, build_layers
from mecopt.formulations.milp import MatrixMILP
from mecopt.formulations.pricing import DualBound, dual_bound
from mecopt.solvers.base import row_split

#: Half-width of the first LP window around the best known counts.
WINDOW = 2
#: Rounds of LP solve + pricing.
MAX_ROUNDS = 12


@dataclasses.dataclass(frozen=True, eq=False)
class Reduction:
    """What count fixing proved.

    Attributes
    ----------
    bound
        Proven lower bound on the interference-free optimum (MILP units, ms).
    lp_value
        The LP value of the last window (equal to ``bound`` when pricing converged).
    kept, zero_kept
        Surviving counts per ES (see :class:`~mecopt.formulations.pricing.DualBound`);
        ``None`` when no upper bound was given.
    lp_counts
        (M,) count with the largest LP weight per ES, for a primal step.
    rounds
        LP solves done.
    converged
        True when no count priced out at the last duals.
    """

    bound: float
    lp_value: float
    kept: list[np.ndarray] | None
    zero_kept: np.ndarray | None
    lp_counts: np.ndarray
    rounds: int
    converged: bool


def solve_lp(milp: MatrixMILP, time_limit: float | None = None) -> tuple[
        float, np.ndarray, np.ndarray] | None:
    """LP relaxation of ``milp``: objective, x and row duals (``d(objective)/d(rhs)``).

    Returns ``None`` when the LP is infeasible or stops without an optimal basis.
    """
    eq, has_lo, has_hi = row_split(milp)
    a = milp.A.tocsr()
    lo_rows, hi_rows = np.flatnonzero(has_lo), np.flatnonzero(has_hi)
    import scipy.sparse as sp

    a_ub = sp.vstack([a[hi_rows], -a[lo_rows]]).tocsr()
    b_ub = np.concatenate([milp.row_hi[hi_rows], -milp.row_lo[lo_rows]])
    options = {} if time_limit is None else {"time_limit": max(time_limit, 1e-3)}
    res = linprog(milp.c, A_ub=a_ub if a_ub.shape[0] else None,
                  b_ub=b_ub if a_ub.shape[0] else None,
                  A_eq=a[eq] if eq.any() else None, b_eq=milp.row_lo[eq] if eq.any() else None,
                  bounds=(0, 1), method="highs", options=options)
    if res.status != 0:
        return None
    dual = np.zeros(milp.n_rows)
    if a_ub.shape[0]:
        m = res.ineqlin.marginals
        dual[hi_rows] += m[:hi_rows.size]
        dual[lo_rows] -= m[hi_rows.size:]
    if eq.any():
        dual[np.flatnonzero(eq)] = res.eqlin.marginals
    return float(res.fun) + milp.constant, np.asarray(res.x), dual


def _window(centre: np.ndarray, limit: np.ndarray, width: int) -> list[np.ndarray]:
    return [np.arange(max(1, int(c) - width), min(int(lim), int(c) + width) + 1)
            for c, lim in zip(centre, limit, strict=True)]


def reduce_counts(costs: LayerCosts, centre: np.ndarray, upper: float | None,
                  deadline: float | None) -> Reduction | None:
    """Duals by windowed LP and pricing, then count fixing against ``upper``.

    Parameters
    ----------
    costs
        Layer costs of the interference-free instance.
    centre
        (M,) counts of the best known assignment (the first window's centre).
    upper
        Its objective in MILP units (ms), or ``None`` (bound only, no fixing).
    deadline
        ``time.perf_counter()`` value to stop at, or ``None``.

    Returns
    -------
    Reduction or None
        ``None`` when not even one LP could be solved in time.
    """
    inst = costs.inst
    n_es = inst.n_servers
    counts = _window(centre, costs.limit, WINDOW)
    best: DualBound | None = None
    best_lp = lp_value = -np.inf
    best_duals = None
    lp_counts = np.asarray(centre, dtype=np.int64)
    rounds, converged = 0, False
    while rounds < MAX_ROUNDS:
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            break
        model = build_layers(costs, counts)
        if model.infeasible_reason:
            # The window cannot hold the forced users or reach a target: widen it.
            counts = _window(centre, costs.limit, 4 * WINDOW + rounds * WINDOW)
            rounds += 1
            continue
        out = solve_lp(model.milp, left)
        rounds += 1
        if out is None:
            break
        lp_value, x, dual = out
        kind = model.milp.row_kind
        u = -dual[kind == ROW_ASSIGN]
        mu = dual[kind == ROW_ACCURACY]
        db = dual_bound(costs, u, mu)
        if best is None or db.bound > best.bound:
            best, best_duals = db, (u, mu)
        y = x[model.n_x:]
        weight = np.zeros((n_es, int(costs.limit.max(initial=0)) + 1))
        np.add.at(weight, (model.y_es, model.y_n), y)
        lp_counts = weight.argmax(axis=1)
        best_lp = lp_value
        if db.bound >= lp_value - 1e-9 * max(1.0, abs(lp_value)):
            converged = True
            break
        grown = False
        for j in range(n_es):
            n = int(db.best_count[j])
            if n >= 1 and n not in set(counts[j].tolist()):
                extra = np.arange(max(1, n - 1), min(int(costs.limit[j]), n + 1) + 1)
                counts[j] = np.union1d(counts[j], extra)
                grown = True
        if not grown:
            break
    if best is None or best_duals is None:
        return None
    kept = zero = None
    if upper is not None:
        fixed = dual_bound(costs, best_duals[0], best_duals[1], upper=upper)
        kept, zero = fixed.kept, fixed.zero_kept
    return Reduction(bound=best.bound, lp_value=best_lp, kept=kept, zero_kept=zero,
                     lp_counts=lp_counts, rounds=rounds, converged=converged)
