"""The chord model of one count vector: a MILP lower bound with ``"other-cells"``
interference that is tight once the interference ranges are narrow.

Fix the count vector ``n`` (``T = sum_j n_j`` users offloaded). Every assignment with
these counts has, at ES j, the interference

    I_j = R_j - sum_k r_kj (l_k + x_kj),     r_kj = P_k g_kj,  R_j = sum_k r_kj,

inside ``[lo_j, hi_j]`` (the sums of the ``T - n_j`` weakest and strongest received powers,
or a narrower range proven by bound tightening). With ``n_j`` fixed, the cost of user i on
ES j, relative to answering locally, is ``C_ij(I) = c_ij(n_j, I) - c^L_i``, and its uplink
part ``n_j D_i / (B_j log2(1 + r_ij / (sigma_j^2 + I)))`` is concave in ``I`` (with
``x = r / (sigma^2 + I)``, the sign of the second derivative is that of
``2 x - (2 + x) ln(1 + x) < 0``); the edge delay does not depend on ``I`` and the energy
term is a non-negative multiple of the uplink delay. A concave function lies above its
chord, so on ``[lo_j, hi_j]``

    C_ij(I) >= C_ij(lo_j) + s_ij (I - lo_j),   s_ij = (C_ij(hi_j) - C_ij(lo_j)) / (hi_j - lo_j).

The model writes ``e_j = I_j - lo_j`` (a linear row) and bounds each product
``x_ij e_j`` from below by McCormick (``w_ij >= e_j - W_j (1 - x_ij)``, ``w_ij >= 0``,
``W_j = hi_j - lo_j``), exact for binary ``x``. A second, aggregated McCormick pair on
``q_j e_j`` (``q_j = sum_i s_ij x_ij``, between the sums of the ``n_j`` smallest and largest
slopes) only strengthens the LP relaxation. Side rows (accuracy target, hallucination cap)
are linear and kept exactly.

Every assignment with counts ``n`` and interference in the ranges is feasible in the model
at a cost no larger than its true cost, so the model's optimum is a lower bound on those
assignments; its gap is the chord's distance to the concave cost, which vanishes as the
ranges narrow. Offloads of users whose move home can break no quality row are dropped
where they cost at least the local answer even at ``lo_j`` (the assignment with the user
home has another, smaller count vector and a cost no larger, so a solver that bounds every
count vector loses nothing).

Interference is written in units of ``max_j R_j`` so that every row is well scaled.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from mecopt.formulations.interference.count_intervals import Rows
from mecopt.formulations.interference.geometry import received, true_interference
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import (
    SideRow,
    local_cost,
    must_offload,
    option_cost,
    prunable,
    side_rows,
)
from mecopt.instance import Instance


@dataclasses.dataclass(frozen=True, eq=False)
class ChordTables:
    """What every count vector's model of an instance shares.

    Attributes
    ----------
    inst
        The instance (read as ``"other-cells"``; no energy budget, see :func:`applies`).
    rx
        (N, M) received powers ``r_kj`` (W).
    total
        (M,) ``R_j`` (W).
    local
        (N,) cost of answering locally, ms.
    stay
        (N,) bool: users that may stay local.
    free
        (N,) bool: users whose dominated offloads may be dropped.
    side
        The side rows in gain form.
    scale
        W per model unit of interference (``max_j R_j``).
    cum
        (N + 1, M) sums of the m weakest received powers at each ES.
    """

    inst: Instance
    rx: np.ndarray
    total: np.ndarray
    local: np.ndarray
    stay: np.ndarray
    free: np.ndarray
    side: tuple[SideRow, ...]
    scale: float
    cum: np.ndarray

    @classmethod
    def of(cls, inst: Instance) -> ChordTables:
        """The tables of ``inst``."""
        rx = received(inst)
        total = rx.sum(axis=0)
        cum = np.vstack([np.zeros((1, inst.n_servers)), np.cumsum(np.sort(rx, axis=0), axis=0)])
        return cls(inst=inst, rx=rx, total=total, local=local_cost(inst) * MS,
                   stay=~must_offload(inst), free=prunable(inst), side=side_rows(inst),
                   scale=float(total.max()) if total.max() > 0 else 1.0, cum=cum)

    def interference_range(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(M,) smallest and largest interference (W) of any assignment with ``counts``."""
        n_users, n_es = self.rx.shape
        m = int(np.sum(counts)) - np.asarray(counts, np.int64)
        es = np.arange(n_es)
        lo = self.cum[m, es]
        return lo, np.maximum(self.total - self.cum[n_users - m, es], lo)

    def interference(self, assignment: np.ndarray) -> np.ndarray:
        """(M,) other-cells interference (W) of ``assignment`` (the evaluator's model)."""
        return true_interference(self.inst, np.asarray(assignment, np.int64))

    def costs(self, counts: np.ndarray, interference: np.ndarray) -> np.ndarray:
        """(N, M) cost (ms, relative to local) of each user on each ES holding
        ``counts`` users at ``interference`` (W); ``inf`` where impossible."""
        n_users, n_es = self.rx.shape
        users = np.arange(n_users)[:, None]
        es = np.arange(n_es)[None, :]
        n = np.maximum(np.asarray(counts, np.int64), 1)[None, :]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = option_cost(self.inst, users, es, n, np.asarray(interference)[None, :])
            out = out * MS - self.local[:, None]
        return np.where(np.isfinite(out), out, np.inf)


def applies(inst: Instance) -> bool:
    """Whether the chord bound is valid for ``inst``: every option cost must be concave
    in the interference, which an energy budget (an option becomes impossible above some
    interference) breaks."""
    return inst.energy_budget is None


@dataclasses.dataclass(frozen=True, eq=False)
class ChordModel:
    """``min c x + constant`` s.t. ``row_lo <= A x <= row_hi``, ``col_lo <= x <= col_hi``,
    ``x`` integer where ``integer``; the optimum is a lower bound (total ms) on every
    assignment with ``counts`` whose interference lies in ``[lo, hi]``.

    Columns: ``x_ij`` (N M, user i on ES j, at ``i M + j``), ``l_i`` (N, local), ``e_j``
    (M, interference above ``lo_j`` in model units), ``w_ij`` (N M) and ``z_j`` (M).
    """

    counts: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    c: np.ndarray
    constant: float
    a: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    scale: float

    @property
    def n_users(self) -> int:
        """N."""
        return (self.c.size - 2 * self.counts.size) // (2 * self.counts.size + 1)

    def e_columns(self) -> np.ndarray:
        """(M,) the column index of every ``e_j``."""
        n, m = self.n_users, self.counts.size
        return n * m + n + np.arange(m)

    def assignment(self, x: np.ndarray) -> np.ndarray:
        """(N,) the assignment (ES index or -1) of a model solution."""
        n, m = self.n_users, self.counts.size
        xv = np.asarray(x)[: n * m].reshape(n, m)
        return np.where(xv.max(axis=1) > 0.5, xv.argmax(axis=1), -1)

    def hint(self, assignment: np.ndarray, interference: np.ndarray) -> np.ndarray | None:
        """A model solution of ``assignment``, whose interference is ``interference`` (W,
        :meth:`ChordTables.interference`), or ``None`` when it has other counts, lies
        outside the ranges or uses a dropped column."""
        a = np.asarray(assignment, np.int64)
        n, m = self.n_users, self.counts.size
        if not np.array_equal(np.bincount(a[a >= 0], minlength=m), self.counts):
            return None
        x = np.zeros(self.c.size)
        users = np.arange(n)
        on = a >= 0
        x[users[on] * m + a[on]] = 1.0
        x[n * m + users[~on]] = 1.0
        e = (np.asarray(interference) - self.lo) / self.scale
        width = (self.hi - self.lo) / self.scale
        if np.any(e < -1e-12) or np.any(e > width + 1e-12) or np.any(x > self.col_hi):
            return None
        e = np.clip(e, 0.0, width)
        x[n * m + n + np.arange(m)] = e
        w0 = n * m + n + m
        x[w0 + users[on] * m + a[on]] = e[a[on]]
        qs = self.c[w0:w0 + n * m].reshape(n, m)
        x[w0 + n * m:] = [float(qs[on & (a == j), j].sum()) * e[j] for j in range(m)]
        return x


def build(t: ChordTables, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> ChordModel:
    """The chord model of ``counts`` with interference in ``[lo, hi]`` (W, per ES)."""
    n_users, n_es = t.rx.shape
    counts = np.asarray(counts, np.int64)
    lo, hi = np.asarray(lo, float), np.maximum(np.asarray(hi, float), lo)
    c_lo, c_hi = t.costs(counts, lo), t.costs(counts, hi)
    width = (hi - lo) / t.scale
    ok = np.isfinite(c_lo) & ((counts > 0) & (counts <= t.inst.count_limit))[None, :]
    ok &= ~(t.free[:, None] & (c_lo >= 0.0))
    safe = np.where(width > 0, width, 1.0)[None, :]
    slope = np.where(ok & np.isfinite(c_hi) & (width > 0)[None, :],
                     (c_hi - np.where(ok, c_lo, 0.0)) / safe, 0.0)
    slope = np.maximum(slope, 0.0)
    nx = n_users * n_es
    l0, e0 = nx, nx + n_users
    w0 = e0 + n_es
    z0 = w0 + nx
    n_col = z0 + n_es
    rows = Rows(np.arange(n_col))
    users = np.arange(n_users)
    # One place per user; the counts.
    for i in range(n_users):
        rows.add(np.append(i * n_es + np.arange(n_es), l0 + i), np.ones(n_es + 1), 1.0, 1.0)
    for j in range(n_es):
        rows.add(users * n_es + j, np.ones(n_users), counts[j], counts[j])
    # e_j = I_j - lo_j: e_j + sum_k r_kj (l_k + x_kj) = R_j - lo_j (model units).
    rx, total, los = t.rx / t.scale, t.total / t.scale, lo / t.scale
    for j in range(n_es):
        rows.add(np.concatenate([users * n_es + j, l0 + users, [e0 + j]]),
                 np.concatenate([rx[:, j], rx[:, j], [1.0]]), total[j] - los[j], total[j] - los[j])
    # McCormick per user: w_ij - e_j - W_j x_ij >= -W_j.
    for i, j in np.argwhere(ok & (slope > 0)):
        rows.add(np.array([w0 + i * n_es + j, e0 + j, i * n_es + j]),
                 np.array([1.0, -1.0, -width[j]]), -width[j], np.inf)
    # Aggregated McCormick on q_j e_j, and sum_i s_ij w_ij >= sum_j z_j.
    for j in range(n_es):
        own = np.flatnonzero(ok[:, j])
        if counts[j] == 0 or width[j] <= 0 or own.size < counts[j]:
            continue
        ranked = np.sort(slope[own, j])
        q_lo, q_hi = ranked[: counts[j]].sum(), ranked[::-1][: counts[j]].sum()
        rows.add(np.array([z0 + j, e0 + j]), np.array([1.0, -q_lo]), 0.0, np.inf)
        rows.add(np.concatenate([[z0 + j, e0 + j], own * n_es + j]),
                 np.concatenate([[1.0, -q_hi], -width[j] * slope[own, j]]),
                 -width[j] * q_hi, np.inf)
    rows.add(np.concatenate([w0 + np.arange(nx), z0 + np.arange(n_es)]),
             np.concatenate([slope.ravel(), -np.ones(n_es)]), 0.0, np.inf)
    for row in t.side:
        gain = np.repeat(row.gain, n_es)
        rows.add(np.arange(nx), gain, row.need, np.inf)
    c = np.zeros(n_col)
    c[:nx] = np.where(ok, c_lo, 0.0).ravel()
    c[w0:z0] = slope.ravel()
    col_hi = np.concatenate([ok.ravel().astype(float), t.stay.astype(float), width,
                             np.full(nx + n_es, np.inf)])
    integer = np.zeros(n_col, bool)
    integer[:e0] = True
    return ChordModel(counts=counts, lo=lo, hi=hi, c=c, constant=float(t.local.sum()),
                      a=rows.matrix(n_col), row_lo=np.array(rows.lo), row_hi=np.array(rows.hi),
                      col_lo=np.zeros(n_col), col_hi=col_hi, integer=integer, scale=t.scale)
