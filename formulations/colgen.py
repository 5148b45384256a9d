"""Column generation for the set-partitioning LP over (ES, user set) columns.

A column ``(j, S)`` puts the users ``S`` on ES j; its cost is ``sum_{i in S} c_ij|S|`` (relative
to answering locally). The master LP

    min  sum_k cost_k lam_k
    s.t. sum_{k : i in S_k} lam_k <= 1  (= 1 if user i is forced)   for every user i
         sum_{k : ES j} lam_k <= 1                                 for every ES j
         sum_k (sum_{i in S_k} gain_si) lam_k >= need_s             for every side row s

has the LP bound of the count-indexed model (each ES's columns are the integer points of
its own hull). Pricing is the Lagrangian subproblem of :mod:`mecopt.formulations.pricing`:
per ES the count n and the n users of smallest reduced cost. The master is solved by HiGHS
(highspy) and re-solved warm after columns are added. Dual prices are smoothed towards the
best Lagrangian point found (Wentges stabilisation), which cuts the tailing-off of plain
column generation. Every pricing round gives a proven bound, so a stopped run still has one.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from mecopt.formulations.layers import LayerCosts
from mecopt.formulations.pricing import dual_bound

#: Smoothing weight of the best dual point.
SMOOTHING = 0.5
#: Relative distance of LP value and Lagrangian bound at which the LP counts as solved.
LP_TOL = 1e-9


@dataclasses.dataclass(frozen=True, eq=False)
class ColgenResult:
    """Outcome of :func:`column_generation`.

    Attributes
    ----------
    bound
        Best proven lower bound (MILP units, ms).
    lp_value
        Last master LP value (the LP bound when ``converged``).
    u, mu
        Multipliers of the best bound.
    lp_counts
        (M,) per ES, the count with the largest LP weight.
    iterations
        Pricing rounds.
    converged
        True when no column priced out (the bound is the LP bound).
    columns
        Columns generated.
    """

    bound: float
    lp_value: float
    u: np.ndarray
    mu: np.ndarray
    lp_counts: np.ndarray
    iterations: int
    converged: bool
    columns: int


def _column(costs: LayerCosts, j: int, n: int, shift: np.ndarray) -> np.ndarray | None:
    r = costs.relative(j, n) + shift
    ok = np.flatnonzero(np.isfinite(r))
    if ok.size < n:
        return None
    return np.sort(ok[np.argpartition(r[ok], n - 1)[:n]]) if n < ok.size else ok


def column_generation(costs: LayerCosts, starts: list[np.ndarray], *,
                      deadline: float | None = None, max_iter: int = 500,
                      target: float | None = None,
                      progress: Callable[[float], None] | None = None) -> ColgenResult | None:
    """Solve the set-partitioning LP by column generation.

    Parameters
    ----------
    costs
        Layer costs of the interference-free instance.
    starts
        Assignments whose per-ES user sets seed the master.
    deadline
        ``time.perf_counter()`` value to stop at.
    max_iter
        Largest number of pricing rounds.
    target
        Stop as soon as the bound reaches this value (MILP units), e.g. the incumbent.
    progress
        Called with every improved bound.

    Returns
    -------
    ColgenResult or None
        ``None`` when highspy is missing.
    """
    try:
        import highspy
    except ImportError:
        return None
    inst = costs.inst
    n_users, n_es, n_side = inst.n_users, inst.n_servers, len(costs.side)
    inf = highspy.kHighsInf
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    forced = inst.forced
    row_lo = np.concatenate([np.where(forced, 1.0, -inf), np.full(n_es, -inf),
                             costs.side_need() if n_side else np.zeros(0)])
    row_hi = np.concatenate([np.ones(n_users + n_es), np.full(n_side, inf)])
    h.addRows(row_lo.size, row_lo, row_hi, 0, np.zeros(row_lo.size, dtype=np.int32),
              np.zeros(0, dtype=np.int32), np.zeros(0))
    gain = costs.side_gain()
    big = 10.0 * (float(np.abs(costs.local).sum()) + 1.0)
    # Artificial columns keep the master feasible: forced users and side rows, at a high cost.
    art_rows = list(np.flatnonzero(forced))
    art_vals = [1.0] * len(art_rows)
    for s in range(n_side):
        need = max(float(costs.side[s].need), 0.0)
        if need > 0:
            art_rows.append(n_users + n_es + s)
            art_vals.append(need)
    for r, v in zip(art_rows, art_vals, strict=True):
        h.addCol(big, 0.0, inf, 1, np.array([r], dtype=np.int32), np.array([v]))
    cols: list[tuple[int, int, np.ndarray]] = []
    seen: set[tuple[int, int, bytes]] = set()

    def add(j: int, users: np.ndarray) -> bool:
        n = int(users.size)
        if n == 0:
            return False
        key = (j, n, users.tobytes())
        if key in seen:
            return False
        r = costs.relative(j, n)[users]
        if not np.all(np.isfinite(r)):
            return False
        seen.add(key)
        idx = np.concatenate([users, [n_users + j],
                              n_users + n_es + np.arange(n_side)]).astype(np.int32)
        val = np.concatenate([np.ones(n), [1.0], gain[:, users].sum(axis=1)])
        h.addCol(float(r.sum()), 0.0, inf, idx.size, idx, val)
        cols.append((j, n, users))
        return True

    for a in starts:
        for j in range(n_es):
            add(j, np.flatnonzero(np.asarray(a) == j))
    n_art = len(art_rows)
    best_bound, best_u, best_mu = -np.inf, np.zeros(n_users), np.zeros(n_side)
    lp_value = -np.inf
    it = 0
    converged = False
    lp_counts = np.zeros(n_es, dtype=np.int64)
    while it < max_iter:
        if deadline is not None and time.perf_counter() >= deadline:
            break
        h.run()
        sol = h.getSolution()
        lp_value = float(h.getInfo().objective_function_value) + costs.constant
        dual = np.asarray(sol.row_dual)
        u_lp = -dual[:n_users]
        v_lp = dual[n_users:n_users + n_es]
        mu_lp = np.maximum(dual[n_users + n_es:], 0.0)
        it += 1
        added = 0
        for alpha in ((SMOOTHING, 0.0) if np.isfinite(best_bound) else (0.0,)):
            u = alpha * best_u + (1 - alpha) * u_lp
            mu = alpha * best_mu + (1 - alpha) * mu_lp
            db = dual_bound(costs, u, mu)
            if db.bound > best_bound:
                best_bound, best_u, best_mu = db.bound, u, mu
                if progress is not None:
                    progress(best_bound)
            shift = np.where(forced, u, np.maximum(u, 0.0))
            if n_side:
                shift = shift - mu @ gain
            shift_lp = np.where(forced, u_lp, np.maximum(u_lp, 0.0))
            if n_side:
                shift_lp = shift_lp - mu_lp @ gain
            for j in range(n_es):
                n0 = int(db.best_count[j])
                for n in (n0, n0 - 1, n0 + 1):
                    if n < 1 or n > costs.limit[j]:
                        continue
                    users = _column(costs, j, n, shift)
                    if users is None:
                        continue
                    red = float((costs.relative(j, n)[users] + shift_lp[users]).sum()) - v_lp[j]
                    if red < -1e-9 * max(1.0, abs(lp_value)) and add(j, users):
                        added += 1
            if added:
                break
        gap_closed = best_bound >= lp_value - LP_TOL * max(1.0, abs(lp_value))
        if target is not None and best_bound >= target:
            break
        if not added or gap_closed:
            converged = gap_closed or not added
            break
    x = np.asarray(h.getSolution().col_value)[n_art:]
    weight = np.zeros((n_es, n_users + 1))
    for (j, n, _), v in zip(cols, x, strict=False):
        weight[j, n] += v
    lp_counts = np.where(weight.max(axis=1) > 0.5 - 1e-9, weight.argmax(axis=1), 0)
    return ColgenResult(bound=best_bound, lp_value=lp_value, u=best_u, mu=best_mu,
                        lp_counts=lp_counts.astype(np.int64), iterations=it,
                        converged=converged, columns=len(cols))
