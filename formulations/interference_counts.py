"""The fixed-count interval model: exact for ``"other-cells"`` once the counts are fixed.

With other-cells interference, ES j hears every offloaded user it does not serve. Fix the
count vector ``n = (n_1, ..., n_M)`` (``T = sum_j n_j`` users offloaded, ``N - T``
local). Every user ES j does not hear is either one of its ``n_j`` own users or one of the
``N - T`` local ones, so with ``U_j`` that set (``n_j + N - T`` users),

    I_j = R_j - sum_{k in U_j} P_k g_kj,        R_j = sum_k P_k g_kj,

and ``I_j`` lies in ``[lo_j, hi_j]``: ``lo_j`` is the sum of the ``T - n_j`` smallest
received powers at ES j, ``hi_j`` the sum of the ``T - n_j`` largest
(:func:`interference_range`).

Cut ``[lo_j, hi_j]`` into intervals ``[b_jk, b_j,k+1]``. Per ES and interval (a *layer*):

- ``y_jk = 1``: the interference at ES j lies in interval k;
- ``x_ijk = 1``: user i is on ES j, priced at ``c_ij(n_j, b_jk)`` (the interval's lower
  end; every cost grows with the interference);
- ``w_ijk = 1``: user i is local while layer (j, k) is active (only when ``T < N``;
  continuous, integral once ``x`` and ``y`` are).

Rows: one layer per used ES; per user, one place (offloaded in some layer, or local in
exactly one layer of every used ES); per layer, ``n_j y_jk`` users in ``x`` and
``(N - T) y_jk`` in ``w``; per layer the power it does not hear,

    (R_j - b_j,k+1) y_jk  <=  sum_i P_i g_ij (x_ijk + w_ijk)  <=  (R_j - b_jk) y_jk,

and the side rows (accuracy target, hallucination cap). The power rows are per layer,
not aggregated over the layers as in :mod:`mecopt.formulations.interference_intervals`,
which is what fixing the counts buys: the LP cannot mix a layer of low interference with
users that do not make it.

Every assignment with counts ``n`` is feasible in the model, at a cost no larger than its
true cost, so the model's optimum is a lower bound on the best assignment with counts
``n``; when an optimal model solution's interference at every used ES is the lower end of
its interval, it is that best assignment. :mod:`mecopt.solvers.interference_counts` lists
the count vectors and refines each at the true interference of its solutions.

Reductions as in the count-indexed model: a column whose uplink energy at ``b_jk``
exceeds the budget, and one whose cost at ``b_jk`` is not below the local cost for a user
whose move home breaks no quality row (the assignment with that user home has a count
vector of its own, no larger cost, and is listed too).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from mecopt.formulations.count_indexed import MS, local_cost, must_offload, prunable
from mecopt.formulations.interference_intervals import interval_costs, received
from mecopt.formulations.layers import LayerCosts
from mecopt.instance import Instance


def interference_range(inst: Instance, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest other-cells interference (W) at each ES with these counts.

    Parameters
    ----------
    inst
        The instance.
    counts
        (M,) users on each ES.

    Returns
    -------
    lo, hi
        (M,) the sums of the ``T - n_j`` smallest and largest received powers at ES j
        (``T = sum(counts)``).
    """
    rx = np.sort(received(inst), axis=0)
    n_users = inst.n_users
    counts = np.asarray(counts, dtype=np.int64)
    m = int(counts.sum()) - counts
    lo = np.array([rx[:k, j].sum() for j, k in enumerate(m.tolist())])
    hi = np.array([rx[n_users - k:, j].sum() for j, k in enumerate(m.tolist())])
    return lo, hi


def reduced_costs(inst: Instance, j: int, lo: float) -> np.ndarray:
    """(N, L) cost (ms, relative to local) of each user on ES ``j`` holding n = 1..L
    users at interference ``lo``; ``inf`` where the budget or the dominance reduction
    removes it."""
    r = interval_costs(inst, j, lo)
    free = prunable(inst)
    r[free] = np.where(r[free] >= 0, np.inf, r[free])
    return r


def layer_costs(inst: Instance, j: int, lo: float, n: int) -> np.ndarray:
    """(N,) column ``n`` of :func:`reduced_costs`."""
    return reduced_costs(inst, j, lo)[:, n - 1]


@dataclasses.dataclass(frozen=True, eq=False)
class VectorModel:
    """The fixed-count interval model of one count vector.

    Attributes
    ----------
    counts
        (M,) the count vector.
    breaks
        Per ES, the interval ends ``lo_j = b_j0 < ... < b_jK = hi_j`` (empty for an
        unused ES).
    c, constant
        Column costs (ms) and the constant (the all-local cost, ms): the objective is the
        total cost in ms.
    a, row_lo, row_hi
        Rows.
    integer
        (C,) bool, the integer columns.
    x_user, x_es
        User and ES of the ``x`` columns (the first ``x_user.size`` columns).
    n_users
        Users of the instance.
    infeasible_reason
        Non-empty when no assignment has these counts.
    """

    counts: np.ndarray
    breaks: tuple[np.ndarray, ...]
    c: np.ndarray
    constant: float
    a: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    integer: np.ndarray
    x_user: np.ndarray
    x_es: np.ndarray
    n_users: int
    infeasible_reason: str = ""

    def decode(self, x: np.ndarray) -> np.ndarray:
        """The assignment of a model solution (-1 local)."""
        a = np.full(self.n_users, -1, dtype=np.int64)
        on = np.flatnonzero(np.asarray(x)[:self.x_user.size] > 0.5)
        a[self.x_user[on]] = self.x_es[on]
        return a


def grid(inst: Instance, counts: np.ndarray, intervals: int,
         extra: list[list[float]] | None = None) -> list[np.ndarray]:
    """Interval ends per ES: ``intervals`` geometric intervals over ``[lo_j, hi_j]``,
    plus the ``extra`` breakpoints that fall inside."""
    lo, hi = interference_range(inst, counts)
    out = []
    for j in range(inst.n_servers):
        if counts[j] == 0:
            out.append(np.zeros(0))
            continue
        pts = [lo[j], hi[j]]
        if intervals > 1 and lo[j] > 0 and hi[j] > lo[j]:
            pts += list(np.geomspace(lo[j], hi[j], intervals + 1)[1:-1])
        elif intervals > 1 and hi[j] > lo[j]:
            pts += list(np.linspace(lo[j], hi[j], intervals + 1)[1:-1])
        if extra is not None:
            pts += [e for e in extra[j] if lo[j] < e < hi[j]]
        out.append(np.unique(np.asarray(pts, dtype=float)))
    return out


def build(inst: Instance, counts: np.ndarray, breaks: list[np.ndarray]) -> VectorModel:
    """The fixed-count interval model of ``inst`` with counts ``counts``.

    Parameters
    ----------
    inst
        The instance (read as ``"other-cells"``).
    counts
        (M,) users on each ES, at most ``count_limit``.
    breaks
        Per ES, sorted interval ends from :func:`grid` (first ``lo_j``, last ``hi_j``).

    Returns
    -------
    VectorModel
    """
    n_users, n_es = inst.n_users, inst.n_servers
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    lam = n_users - total
    rx = received(inst)
    r_all = rx.sum(axis=0)
    forced = must_offload(inst)
    can_stay = np.flatnonzero(~forced)
    reason = ""
    if lam > can_stay.size:
        reason = f"{n_users - can_stay.size} users must offload, more than {total}"
    # Column layout: per layer (j, k): x columns (users with a finite cost), y, w columns.
    cost_l, xu_l, xe_l, kind_l = [], [], [], []  # kind: 0 x, 1 y, 2 w
    layers = []  # (j, k, x_cols, y_col, w_cols, x_users)
    col = 0
    for j in range(n_es):
        if counts[j] == 0:
            continue
        b = breaks[j]
        for k in range(max(b.size - 1, 1)):
            r = layer_costs(inst, j, float(b[k]), int(counts[j]))
            users = np.flatnonzero(np.isfinite(r))
            xc = col + np.arange(users.size)
            col += users.size
            yc = col
            col += 1
            wc = col + np.arange(can_stay.size if lam else 0)
            col += wc.size
            cost_l += [r[users], np.zeros(1 + wc.size)]
            xu_l.append(users)
            xe_l.append(np.full(users.size, j))
            kind_l += [np.zeros(users.size, np.int8), np.ones(1, np.int8),
                       np.full(wc.size, 2, np.int8)]
            layers.append((j, k, xc, yc, wc, users))
    c = np.concatenate(cost_l) if cost_l else np.zeros(0)
    kind = np.concatenate(kind_l) if kind_l else np.zeros(0, np.int8)
    x_cols = np.flatnonzero(kind == 0)
    x_user = np.concatenate(xu_l).astype(np.int64) if xu_l else np.zeros(0, np.int64)
    x_es = np.concatenate(xe_l).astype(np.int64) if xe_l else np.zeros(0, np.int64)
    # The x columns come first in every layer; renumber so that all x columns lead.
    order = np.concatenate([x_cols, np.flatnonzero(kind != 0)])
    new_of = np.empty(col, np.int64)
    new_of[order] = np.arange(col)

    rows_i, rows_j, rows_v, lo_l, hi_l = [], [], [], [], []
    n_rows = 0

    def add(cols: np.ndarray, vals: np.ndarray, lo: float, hi: float) -> None:
        nonlocal n_rows
        rows_i.append(np.full(cols.size, n_rows))
        rows_j.append(new_of[np.asarray(cols, np.int64)])
        rows_v.append(np.asarray(vals, dtype=float))
        lo_l.append(lo)
        hi_l.append(hi)
        n_rows += 1

    by_es: dict[int, list] = {}
    for lay in layers:
        by_es.setdefault(lay[0], []).append(lay)
    for lays in by_es.values():
        ys = np.array([lay[3] for lay in lays])
        add(ys, np.ones(ys.size), 1.0, 1.0)
    x_of_user = [x_cols[x_user == i] for i in range(n_users)]
    for i in range(n_users):
        if x_of_user[i].size == 0 and forced[i]:
            reason = reason or f"user {i} must be offloaded but no ES can serve it " \
                               f"with counts {counts.tolist()}"
        if lam == 0 or forced[i]:
            add(x_of_user[i], np.ones(x_of_user[i].size), 1.0, 1.0)
            continue
        slot = int(np.searchsorted(can_stay, i))
        for lays in by_es.values():
            w = np.array([lay[4][slot] for lay in lays], dtype=np.int64)
            cols = np.concatenate([x_of_user[i], w])
            add(cols, np.ones(cols.size), 1.0, 1.0)
    for j, k, xc, yc, wc, users in layers:
        add(np.append(xc, yc), np.append(np.ones(xc.size), -float(counts[j])), 0.0, 0.0)
        if wc.size:
            add(np.append(wc, yc), np.append(np.ones(wc.size), -float(lam)), 0.0, 0.0)
        s = float(inst.noise[j])
        b = breaks[j]
        b_lo = float(b[k])
        b_hi = float(b[k + 1]) if b.size > 1 else b_lo
        cols = np.concatenate([xc, wc, [yc]])
        power = np.concatenate([rx[users, j], rx[can_stay, j] if wc.size else []]) / s
        add(cols, np.append(power, -(r_all[j] - b_hi) / s), 0.0, np.inf)
        add(cols, np.append(power, -(r_all[j] - b_lo) / s), -np.inf, 0.0)
    for side in LayerCosts.of(inst).side:
        add(x_cols, side.gain[x_user], side.need, np.inf)
        if side.need > float(np.maximum(side.gain, 0.0).sum()) + 1e-9:
            reason = reason or f"the {side.name} target cannot be reached"
    a = sp.csr_matrix((np.concatenate(rows_v) if rows_v else np.zeros(0),
                       (np.concatenate(rows_i) if rows_i else np.zeros(0, np.int64),
                        np.concatenate(rows_j) if rows_j else np.zeros(0, np.int64))),
                      shape=(n_rows, col))
    integer = np.zeros(col, dtype=bool)
    integer[new_of[np.flatnonzero(kind != 2)]] = True
    return VectorModel(counts=counts, breaks=tuple(breaks), c=c[order],
                       constant=float(local_cost(inst).sum() * MS), a=a,
                       row_lo=np.array(lo_l, dtype=float), row_hi=np.array(hi_l, dtype=float),
                       integer=integer, x_user=x_user, x_es=x_es, n_users=n_users,
                       infeasible_reason=reason)
