"""Lagrangian bound and exact column elimination for the hindsight MILP.

Relax the rows that couple query cells and slots (assignment, the long-term accuracy,
hallucination and energy rows, and the backlog dynamics) with multipliers ``d``. What is
left splits into one block per (ES j, slot t): choose a count n and n queries of the slot
(or none), and the backlog wait ``w[j, t]`` in ``[0, wbar]``. Its optimum is found by a
partial sort: for count n the best queries are the n smallest reduced costs of the
columns ``x[., j, n]``, plus ``min(0, (n + rc_w) wbar)`` for the wait. So for *any*
multipliers of the right signs

    L(d) = constant + sum_r d_r b_r(d) + sum_{j,t} min_n cost_jt(n)

is a proven lower bound of the MILP (``b_r`` the row's lower bound when ``d_r > 0``, its
upper bound when ``d_r < 0``). The block polytope is integral (a count times the convex
hull of n-subsets), so the best ``d`` gives exactly the LP bound; the LP duals give it.

The same pricing proves columns useless: any solution with ``y[j, t, n] = 1`` costs at
least ``L - min_n cost_jt + cost_jt(n)``, and with ``x[i, j, n] = 1`` at least that with
query i forced into the block. A column whose bound exceeds a threshold ``tau`` is in no
solution of value ``<= tau``; dropping it keeps every such solution.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mecopt.formulations.hindsight_model import ROW_NAMES, HindsightModel

#: Rows relaxed by the multipliers (the others form the per-(j, t) blocks).
RELAXED = ("assign", "accuracy", "hallucination", "energy", "backlog")


@dataclasses.dataclass(frozen=True, eq=False)
class Pricing:
    """The Lagrangian bound of one multiplier vector and each column's fixing bound.

    Attributes
    ----------
    bound
        ``L(d)``, a proven lower bound of the MILP (ms).
    column_bound
        (n_cols,) lower bound of any solution that sets the column to 1 (x and y columns;
        ``bound`` for the continuous ones, which are never eliminated).
    """

    bound: float
    column_bound: np.ndarray

    def keep(self, tau: float) -> np.ndarray:
        """Columns that may appear in a solution of value ``<= tau``."""
        slack = 1e-9 * max(1.0, abs(tau))
        return self.column_bound <= tau + slack


def valid_duals(model: HindsightModel, duals: np.ndarray) -> np.ndarray:
    """Multipliers of the relaxed rows with signs that keep ``L`` a bound (others 0)."""
    d = np.asarray(duals, dtype=float).copy()
    relaxed = np.isin(model.row_kind, [ROW_NAMES.index(k) for k in RELAXED])
    d[~relaxed] = 0.0
    d[(d > 0) & ~np.isfinite(model.row_lo)] = 0.0
    d[(d < 0) & ~np.isfinite(model.row_hi)] = 0.0
    return d


def price(model: HindsightModel, duals: np.ndarray) -> Pricing:
    """The Lagrangian bound and the column fixing bounds for the multipliers ``duals``
    (one per row; only the relaxed rows are used, signs are made valid)."""
    d = valid_duals(model, duals)
    rc = model.c - model.A.T @ d
    side = np.where(
        d > 0,
        np.where(np.isfinite(model.row_lo), model.row_lo, 0.0),
        np.where(np.isfinite(model.row_hi), model.row_hi, 0.0),
    )
    total = model.constant + float(d @ side)
    m, horizon = model.n_servers, model.horizon
    colb_extra = np.zeros(model.n_cols)  # cost above the block minimum, per column
    qt = np.array([yi.shape[1] for yi in model.y_index])
    x_start = np.concatenate([[0], np.cumsum(qt * qt * m)])
    for t in range(horizon):
        q = qt[t]
        if t > 0:
            wbar = model.col_hi[model.w_index[:, t]]
            rc_w = rc[model.w_index[:, t]]
        else:
            wbar = np.zeros(m)
            rc_w = np.zeros(m)
        n = np.arange(q + 1)
        wcost = np.minimum(0.0, (n[None, :] + rc_w[:, None]) * wbar[:, None])  # (M, q+1)
        if q == 0:
            total += float(wcost[:, 0].sum())
            continue
        cols = np.arange(x_start[t], x_start[t + 1])
        rcx = rc[cols].reshape(q, m, q)  # (cell, j, n-1)
        srt = np.sort(rcx, axis=0)
        cum = np.cumsum(srt, axis=0)  # cum[k, j, n-1]: k+1 smallest
        idx = np.arange(q)
        best_n = cum[idx, :, idx].T  # (M, q): n smallest at count n
        block = np.concatenate([np.zeros((m, 1)), best_n], axis=1) + wcost  # (M, q+1)
        bmin = block.min(axis=1)
        total += float(bmin.sum())
        extra = block - bmin[:, None]
        colb_extra[model.y_index[t]] = extra[:, 1:]
        # x forced: max(n smallest, rc_i + (n-1) smallest), plus the wait, minus bmin.
        prev = np.concatenate([np.zeros((1, m)), cum[idx[:-1], :, idx[1:]]], axis=0).T
        forced = np.maximum(best_n[None], rcx + prev[None])  # (cell, M, q)
        forced = forced + wcost[None, :, 1:] - bmin[None, :, None]
        colb_extra[cols] = forced.ravel()
    column_bound = total + colb_extra
    return Pricing(bound=total, column_bound=column_bound)


def row_prices(model: HindsightModel, duals: np.ndarray) -> dict[str, object]:
    """The LP duals of the long-term rows as per-slot weights, in the units of
    :class:`mecopt.Instance` (``cost_accuracy``, ``cost_hallucination`` in s per unit of
    probability, ``cost_energy`` in s/J per device).

    The objective is in ms and the rows in thousandths (quality) or mJ (energy), so a dual
    of ``d`` ms per row unit is ``d`` s per unit: the hindsight optimum minimises the total
    of ``delay - p_acc acc + p_hall hall + p_e,u e`` at these prices (the Lagrangian of the
    long-term rows). Rows a scenario switches off price at 0.
    """
    d = valid_duals(model, duals)
    kind = model.row_kind

    def of(name: str) -> np.ndarray:
        return d[kind == ROW_NAMES.index(name)]

    acc, hall = of("accuracy"), of("hallucination")
    energy = np.zeros(model.n_devices)
    e = of("energy")
    energy[: e.size] = -e
    return {
        "accuracy": float(acc.sum()) if acc.size else 0.0,
        "hallucination": float(-hall.sum()) if hall.size else 0.0,
        "energy": np.maximum(energy, 0.0).tolist(),
    }
