"""The fixed-count interval model (formulation ``"count-intervals"``): exact for
``"other-cells"`` once the counts are fixed.

With other-cells interference, ES j hears every offloaded user it does not serve. Fix the
count vector ``n = (n_1, ..., n_M)`` (``T = sum_j n_j`` users offloaded, ``N - T``
local). Every user ES j does not hear is either one of its ``n_j`` own users or one of the
``N - T`` local ones, so with ``U_j`` that set (``n_j + N - T`` users),

    I_j = R_j - sum_{k in U_j} P_k g_kj,        R_j = sum_k P_k g_kj,

and ``I_j`` lies in ``[lo_j, hi_j]``: ``lo_j`` is the sum of the ``T - n_j`` smallest
received powers at ES j, ``hi_j`` the sum of the ``T - n_j`` largest
(:func:`~mecopt.formulations.interference.geometry.interference_range`).

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
not aggregated over the layers as in :mod:`~mecopt.formulations.interference.intervals`,
which is what fixing the counts buys: the LP cannot mix a layer of low interference with
users that do not make it.

Every assignment with counts ``n`` is feasible in the model, at a cost no larger than its
true cost, so the model's optimum is a lower bound on the best assignment with counts
``n``; when an optimal model solution's interference at every used ES is the lower end of
its interval, it is that best assignment. :mod:`mecopt.solvers.exact.count_intervals` lists
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

from mecopt.formulations.interference.geometry import interference_range, interval_costs, received
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import local_cost, must_offload, prunable, side_rows
from mecopt.instance import Instance


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


@dataclasses.dataclass(frozen=True)
class _Layer:
    """Columns of one layer (j, k): its x columns (users ``users``), y column, w columns."""

    j: int
    k: int
    x: np.ndarray
    y: int
    w: np.ndarray
    users: np.ndarray


def _columns(inst: Instance, counts: np.ndarray, breaks: list[np.ndarray],
             n_stay: int) -> tuple[list[_Layer], np.ndarray, np.ndarray]:
    """The layers with their columns (x, y, w per layer in turn), the column costs and
    the column kinds (0 x, 1 y, 2 w)."""
    cost_l, kind_l, layers = [], [], []
    col = 0
    for j in np.flatnonzero(counts).tolist():
        b = breaks[j]
        for k in range(max(b.size - 1, 1)):
            r = layer_costs(inst, j, float(b[k]), int(counts[j]))
            users = np.flatnonzero(np.isfinite(r))
            xc = col + np.arange(users.size)
            yc = col + users.size
            wc = yc + 1 + np.arange(n_stay)
            col = yc + 1 + n_stay
            cost_l += [r[users], np.zeros(1 + n_stay)]
            kind_l += [np.zeros(users.size, np.int8), np.ones(1, np.int8),
                       np.full(n_stay, 2, np.int8)]
            layers.append(_Layer(j, k, xc, yc, wc, users))
    c = np.concatenate(cost_l) if cost_l else np.zeros(0)
    kind = np.concatenate(kind_l) if kind_l else np.zeros(0, np.int8)
    return layers, c, kind


class Rows:
    """Sparse rows collected one at a time, columns renumbered by ``new_of`` (the
    identity ``numpy.arange(n_cols)`` keeps them)."""

    def __init__(self, new_of: np.ndarray) -> None:
        self.new_of = new_of
        self.i: list[np.ndarray] = []
        self.j: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, cols: np.ndarray, vals: np.ndarray, lo: float, hi: float) -> None:
        cols = np.asarray(cols, np.int64)
        self.i.append(np.full(cols.size, len(self.lo)))
        self.j.append(self.new_of[cols])
        self.v.append(np.asarray(vals, dtype=float))
        self.lo.append(lo)
        self.hi.append(hi)

    def matrix(self, n_cols: int) -> sp.csr_matrix:
        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        return sp.csr_matrix((cat(self.v, float), (cat(self.i, np.int64),
                                                   cat(self.j, np.int64))),
                             shape=(len(self.lo), n_cols))


def _place_rows(rows: Rows, by_es: dict[int, list[_Layer]], x_of_user: list[np.ndarray],
                forced: np.ndarray, can_stay: np.ndarray, lam: int) -> int:
    """One place per user: offloaded in some layer, or local in exactly one layer of every
    used ES. Returns the first user that must offload and has no column (-1: none)."""
    stranded = -1
    for i, xs in enumerate(x_of_user):
        if xs.size == 0 and forced[i] and stranded < 0:
            stranded = i
        if lam == 0 or forced[i]:
            rows.add(xs, np.ones(xs.size), 1.0, 1.0)
            continue
        slot = int(np.searchsorted(can_stay, i))
        for lays in by_es.values():
            cols = np.concatenate([xs, np.array([lay.w[slot] for lay in lays], np.int64)])
            rows.add(cols, np.ones(cols.size), 1.0, 1.0)
    return stranded


def _layer_rows(rows: Rows, inst: Instance, lay: _Layer, n: int, lam: int,
                breaks: np.ndarray, can_stay: np.ndarray, rx: np.ndarray,
                r_all: float) -> None:
    """Count rows of layer ``lay`` (``n`` users in x, ``lam`` in w) and its power rows
    (``rx`` the received powers, ``r_all`` their sum at the layer's ES)."""
    rows.add(np.append(lay.x, lay.y), np.append(np.ones(lay.x.size), -float(n)), 0.0, 0.0)
    if lay.w.size:
        rows.add(np.append(lay.w, lay.y), np.append(np.ones(lay.w.size), -float(lam)),
                 0.0, 0.0)
    s = float(inst.noise[lay.j])
    b_lo = float(breaks[lay.k])
    b_hi = float(breaks[lay.k + 1]) if breaks.size > 1 else b_lo
    cols = np.concatenate([lay.x, lay.w, [lay.y]])
    power = np.concatenate([rx[lay.users, lay.j],
                            rx[can_stay, lay.j] if lay.w.size else []]) / s
    rows.add(cols, np.append(power, -(r_all - b_hi) / s), 0.0, np.inf)
    rows.add(cols, np.append(power, -(r_all - b_lo) / s), -np.inf, 0.0)


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
    n_users = inst.n_users
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    lam = n_users - total
    forced = must_offload(inst)
    can_stay = np.flatnonzero(~forced)
    reason = ""
    if lam > can_stay.size:
        reason = f"{n_users - can_stay.size} users must offload, more than {total}"
    layers, c, kind = _columns(inst, counts, breaks, can_stay.size if lam else 0)
    n_cols = kind.size
    x_cols = np.flatnonzero(kind == 0)
    x_user = (np.concatenate([lay.users for lay in layers]).astype(np.int64) if layers
              else np.zeros(0, np.int64))
    x_es = (np.concatenate([np.full(lay.users.size, lay.j) for lay in layers]).astype(
        np.int64) if layers else np.zeros(0, np.int64))
    # The x columns come first in every layer; renumber so that all x columns lead.
    order = np.concatenate([x_cols, np.flatnonzero(kind != 0)])
    new_of = np.empty(n_cols, np.int64)
    new_of[order] = np.arange(n_cols)
    rows = Rows(new_of)
    by_es: dict[int, list[_Layer]] = {}
    for lay in layers:
        by_es.setdefault(lay.j, []).append(lay)
    for lays in by_es.values():  # one layer per used ES
        rows.add(np.array([lay.y for lay in lays]), np.ones(len(lays)), 1.0, 1.0)
    stranded = _place_rows(rows, by_es, [x_cols[x_user == i] for i in range(n_users)],
                           forced, can_stay, lam)
    if stranded >= 0 and not reason:
        reason = (f"user {stranded} must be offloaded but no ES can serve it "
                  f"with counts {counts.tolist()}")
    rx = received(inst)
    r_all = rx.sum(axis=0)
    for lay in layers:
        _layer_rows(rows, inst, lay, int(counts[lay.j]), lam, breaks[lay.j], can_stay, rx,
                    float(r_all[lay.j]))
    for side in side_rows(inst):
        rows.add(x_cols, side.gain[x_user], side.need, np.inf)
        if side.need > float(np.maximum(side.gain, 0.0).sum()) + 1e-9:
            reason = reason or f"the {side.name} target cannot be reached"
    integer = np.zeros(n_cols, dtype=bool)
    integer[new_of[np.flatnonzero(kind != 2)]] = True
    return VectorModel(counts=counts, breaks=tuple(breaks), c=c[order],
                       constant=float(local_cost(inst).sum() * MS), a=rows.matrix(n_cols),
                       row_lo=np.array(rows.lo, dtype=float),
                       row_hi=np.array(rows.hi, dtype=float), integer=integer,
                       x_user=x_user, x_es=x_es, n_users=n_users, infeasible_reason=reason)
