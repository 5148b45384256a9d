"""The count-indexed MILP with interference intervals: exact for ``"other-cells"``.

With other-cells interference, ES j hears every user offloaded to another ES,

    I_j = sum_k P_k g_kj (z_k - z_kj),   z_kj = [user k on ES j],  z_k = sum_j z_kj,

which is **linear** in the assignment, and every cost (uplink delay, uplink energy, so the
weighted cost) is non-decreasing in ``I_j``. Cut the range ``[0, I^max_j]``
(``I^max_j = sum_k P_k g_kj``) of each ES into intervals ``[b_jk, b_j,k+1]``. The model
indexes the count layers of :mod:`mecopt.formulations.count_indexed` by interval as well:

- ``y_jnk = 1``: ES j holds exactly n users and its interference lies in interval k;
- ``x_ijnk = 1``: user i is on ES j, which holds n users with interference in interval k;
  its cost is ``c_ij(n, b_jk)``, priced at the interval's **lower end**;
- ``z_ij = sum_nk x_ijnk``: user i on ES j (a helper column that keeps the interference
  rows short).

Rows: those of the count-indexed model per (j, n, k) layer (one layer per ES, count rows,
linking rows, one place per user, accuracy and hallucination rows), the ``z`` definitions,
and per ES the interval rows (both big-M free: ``I^max_j`` is a true bound on ``I_j``)

    sum_nk b_jk y_jnk  <=  I_j(z)  <=  sum_nk b_j,k+1 y_jnk + I^max_j (1 - sum_nk y_jnk).

An ES that holds nobody may have any interference (it costs nothing). Every assignment is
feasible in the model with a cost no larger than its true cost (its interference lies in
some interval, priced at the lower end), so **the model's optimum (and any proven bound of
it) is a lower bound** on the true optimum. With one interval ``[0, I^max_j]`` per ES it
is the interference-free model; refining intervals only raises the bound, and when an
optimal solution's interference at every used ES is the lower end of its interval, its
model cost is its true cost, so it is optimal. The driver
(:mod:`mecopt.solvers.interference`) refines adaptively at the true interference of the
solutions it finds.

Interference rows are written in units of the ES's noise power ``sigma_j^2`` (row kind
``ROW_INTERFERENCE``); a breakpoint is placed a relative ``BREAK_MARGIN`` below the
interference it is meant for, so the assignment with that interference lies strictly inside
the upper interval (beyond the solvers' feasibility tolerance) and is priced within
``BREAK_MARGIN`` of its true cost.

Reductions (exact, as in the count-indexed model): columns whose uplink energy at the
interval's lower end exceeds the budget, or whose cost there is not below the local cost
for a user whose move home can break no quality row (moving such a user home lowers its
own cost, the count of its ES and the interference at every other ES), and layers that
fewer than n users can fill.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mecopt.channel import INTERFERENCE, comm_delay
from mecopt.formulations.count_indexed import (
    MS,
    ROW_ASSIGN,
    ROW_COUNT,
    ROW_INTERFERENCE,
    ROW_LINK,
    ROW_ONE_COUNT,
    CountIndexedModel,
    local_cost,
    must_offload,
    prunable,
)
from mecopt.formulations.layers import LayerCosts
from mecopt.formulations.milp import RowBlocks
from mecopt.instance import Instance
from mecopt.objective import cost, offload_energy, within_budget
from mecopt.queues import QUEUE_MODELS

#: A breakpoint for interference I is placed at ``I - BREAK_MARGIN (I + sigma^2)``.
BREAK_MARGIN = 1e-6
#: Row kind of the ``z`` definitions (``z_ij - sum_nk x_ijnk = 0``).
ROW_ZDEF = 7


def received(inst: Instance) -> np.ndarray:
    """(N, M) received power ``P_k g_kj`` (W)."""
    return inst.tx_power[:, None] * inst.gain


def max_interference(inst: Instance) -> np.ndarray:
    """(M,) ``I^max_j``: every user's received power at ES j."""
    return received(inst).sum(axis=0)


def true_interference(inst: Instance, assignment: np.ndarray) -> np.ndarray:
    """(M,) other-cells interference (W) of ``assignment`` (the evaluator's model)."""
    return INTERFERENCE.get("other-cells").interference(inst, np.asarray(assignment))


def breakpoint_for(inst: Instance, j: int, interference: float) -> float:
    """The breakpoint that puts ``interference`` at ES ``j`` just inside an interval."""
    return max(0.0, float(interference) - BREAK_MARGIN * (float(interference)
                                                          + float(inst.noise[j])))


def interval_costs(inst: Instance, j: int, lo: float) -> np.ndarray:
    """(N, L) cost (ms) of user i on ES ``j`` at count n = 1..L, interference ``lo``,
    relative to answering locally; ``inf`` where impossible (``L = count_limit[j]``)."""
    top = int(inst.count_limit[j])
    users = np.arange(inst.n_users)[:, None]
    n = np.arange(1, top + 1)[None, :]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        comm = comm_delay(inst, users, j, n, lo)
        d = comm + QUEUE_MODELS.get(inst.queue).edge_delay(inst, users, j, n)
        energy = offload_energy(inst, users, comm)
        out = cost(inst, users, True, d, energy)
        if inst.energy_budget is not None:
            out = np.where(within_budget(inst, users, energy), out, np.inf)
        r = (out - local_cost(inst)[:, None]) * MS
    return np.where(np.isfinite(r), r, np.inf)


@dataclasses.dataclass(frozen=True, eq=False)
class IntervalModel(CountIndexedModel):
    """The interval model; the ``x`` and ``y`` maps of :class:`CountIndexedModel` plus the
    interval of every layer.

    Attributes
    ----------
    x_k, y_k
        Interval index of each ``x`` and ``y`` column.
    breaks
        Per ES, the sorted lower ends ``b_jk`` (the first is 0).
    n_z
        Number of ``z`` columns (after the ``y`` columns).
    """

    x_k: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    y_k: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    breaks: tuple[np.ndarray, ...] = ()
    z_user: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    z_es: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))

    def interval_of(self, j: int, interference: float) -> int:
        """Index of the interval of ES ``j`` holding ``interference`` (the last lower end
        at or below it)."""
        return max(int(np.searchsorted(self.breaks[j], interference, side="right")) - 1, 0)

    def encode(self, assignment: np.ndarray) -> np.ndarray | None:
        """0/1 vector of an assignment (at its true interference), or ``None`` if a column
        it needs was reduced away."""
        inst = self.instance
        a = np.asarray(assignment)
        counts = np.bincount(a[a >= 0], minlength=inst.n_servers)
        level = true_interference(inst, a)
        k_of = [self.interval_of(j, level[j]) for j in range(inst.n_servers)]
        x = np.zeros(self.milp.n_vars)
        key = {t: c for c, t in enumerate(zip(self.x_user.tolist(), self.x_es.tolist(),
                                              self.x_n.tolist(), self.x_k.tolist(),
                                              strict=True))}
        for i in np.flatnonzero(a >= 0):
            j = int(a[i])
            c = key.get((int(i), j, int(counts[j]), k_of[j]))
            if c is None:
                return None
            x[c] = 1.0
        ykey = {t: c for c, t in enumerate(zip(self.y_es.tolist(), self.y_n.tolist(),
                                               self.y_k.tolist(), strict=True))}
        for j in np.flatnonzero(counts):
            c = ykey.get((int(j), int(counts[j]), k_of[j]))
            if c is None:
                return None
            x[self.n_x + c] = 1.0
        zkey = {t: c for c, t in enumerate(zip(self.z_user.tolist(), self.z_es.tolist(),
                                               strict=True))}
        z0 = self.n_x + self.y_es.size
        for i in np.flatnonzero(a >= 0):
            x[z0 + zkey[(int(i), int(a[i]))]] = 1.0
        # Continuous columns: the excess over the interval's lower end (noise units).
        offsets = np.concatenate([[0], np.cumsum([b.size for b in self.breaks])])
        s0 = z0 + self.z_user.size
        v0 = s0 + int(offsets[-1])
        w0 = v0 + int(offsets[-1])
        for j in range(inst.n_servers):
            x[s0 + offsets[j] + k_of[j]] = 1.0
            x[v0 + offsets[j] + k_of[j]] = (level[j] - self.breaks[j][k_of[j]]) / float(
                inst.noise[j])
        on = np.flatnonzero(x[:self.n_x] > 0.5)
        x[w0 + on] = x[v0 + offsets[self.x_es[on]] + self.x_k[on]]
        return x


def build_intervals(inst: Instance, breaks: list[np.ndarray]) -> IntervalModel:
    """The interval model of ``inst`` with lower ends ``breaks[j]`` per ES.

    Parameters
    ----------
    inst
        The instance (its interference setting is not read: the model is that of
        ``"other-cells"``).
    breaks
        Per ES, interval lower ends in W; 0 is added, duplicates and values at or above
        ``I^max_j`` are dropped.

    Returns
    -------
    IntervalModel
    """
    n_users, n_es = inst.n_users, inst.n_servers
    rx = received(inst)
    imax = rx.sum(axis=0)
    free = prunable(inst)
    clean: list[np.ndarray] = []
    xi_l, xj_l, xn_l, xk_l, c_l, m_l = [], [], [], [], [], []
    yj_l, yn_l, yk_l = [], [], []
    for j in range(n_es):
        b = np.asarray(breaks[j], dtype=float)
        b = np.unique(np.concatenate([[0.0], b[(b > 0) & (b < imax[j])]]))
        clean.append(b)
        ends = np.append(b, imax[j])
        at = [interval_costs(inst, j, float(v)) for v in ends]
        for k in range(b.size):
            r = at[k].copy()
            r[free] = np.where(r[free] >= 0, np.inf, r[free])
            ok = np.isfinite(r)
            with np.errstate(invalid="ignore"):
                # Chord slope (ms per noise unit): costs are concave in I.
                slope = (at[k + 1] - at[k]) / ((ends[k + 1] - ends[k]) / inst.noise[j])
            slope = np.where(np.isfinite(slope), np.maximum(slope, 0.0), 0.0)
            for n in np.flatnonzero(ok.sum(axis=0) >= np.arange(1, r.shape[1] + 1)) + 1:
                users = np.flatnonzero(ok[:, n - 1])
                xi_l.append(users)
                xj_l.append(np.full(users.size, j))
                xn_l.append(np.full(users.size, n))
                xk_l.append(np.full(users.size, k))
                c_l.append(r[users, n - 1])
                m_l.append(slope[users, n - 1])
                yj_l.append(j)
                yn_l.append(int(n))
                yk_l.append(k)

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    xi, xj = cat(xi_l, np.int64), cat(xj_l, np.int64)
    xn, xk = cat(xn_l, np.int64), cat(xk_l, np.int64)
    slope_x = cat(m_l, float)
    yj, y_n = np.asarray(yj_l, np.int64), np.asarray(yn_l, np.int64)
    yk = np.asarray(yk_l, np.int64)
    n_x, n_y = xi.size, yj.size
    layer_of_x = (np.repeat(np.arange(n_y), [p.size for p in xi_l]) if n_y
                  else np.zeros(0, np.int64))
    pairs = np.unique(xi * n_es + xj)
    zi, zj = pairs // n_es, pairs % n_es
    n_z = pairs.size
    z_of_x = np.searchsorted(pairs, xi * n_es + xj)
    # Interval excess v_jk (one per ES and interval) and the free excess of an empty ES.
    offsets = np.concatenate([[0], np.cumsum([b.size for b in clean])])
    n_v = int(offsets[-1])
    v_es = np.repeat(np.arange(n_es), [b.size for b in clean])
    span = np.concatenate([np.diff(np.append(b, imax[j])) / inst.noise[j]
                           for j, b in enumerate(clean)])
    v_of_x = offsets[xj] + xk
    y0, z0 = n_x, n_x + n_y
    s0 = z0 + n_z
    v0 = s0 + n_v
    w0 = v0 + n_v
    n_cols = w0 + n_x
    c = np.concatenate([cat(c_l, float), np.zeros(n_y + n_z + 2 * n_v), slope_x])
    col_hi = np.concatenate([np.ones(n_x + n_y + n_z + n_v), span, span[v_of_x]])
    continuous = np.zeros(n_cols, dtype=bool)
    continuous[v0:] = True

    blocks = RowBlocks()
    add = blocks.add
    # Each ES's interference lies in one interval (s_jk = 1), whether it is used or not;
    # its count layer, if any, is one of that interval's: sum_n y_jnk <= s_jk.
    add(v_es, s0 + np.arange(n_v), np.ones(n_v), np.ones(n_es), np.ones(n_es),
        ROW_ONE_COUNT)
    y_v = offsets[yj] + yk
    add(np.concatenate([y_v, np.arange(n_v)]),
        np.concatenate([y0 + np.arange(n_y), s0 + np.arange(n_v)]),
        np.concatenate([np.ones(n_y), -np.ones(n_v)]), np.full(n_v, -np.inf),
        np.zeros(n_v), ROW_ONE_COUNT)
    add(np.concatenate([layer_of_x, np.arange(n_y)]),
        np.concatenate([np.arange(n_x), y0 + np.arange(n_y)]),
        np.concatenate([np.ones(n_x), -y_n.astype(float)]), np.zeros(n_y), np.zeros(n_y),
        ROW_COUNT)
    add(np.repeat(np.arange(n_x), 2),
        np.column_stack([np.arange(n_x), y0 + layer_of_x]).ravel(),
        np.tile([1.0, -1.0], n_x), np.full(n_x, -np.inf), np.zeros(n_x), ROW_LINK)
    # z_ij = sum_nk x_ijnk.
    add(np.concatenate([z_of_x, np.arange(n_z)]),
        np.concatenate([np.arange(n_x), z0 + np.arange(n_z)]),
        np.concatenate([-np.ones(n_x), np.ones(n_z)]), np.zeros(n_z), np.zeros(n_z),
        ROW_ZDEF)
    forced = must_offload(inst)
    add(zi, z0 + np.arange(n_z), np.ones(n_z), np.where(forced, 1.0, -np.inf),
        np.ones(n_users), ROW_ASSIGN)
    reason = ""
    stranded = np.setdiff1d(np.flatnonzero(forced), zi)
    if stranded.size:
        reason = (f"user {stranded[0]} must be offloaded but no ES can serve it"
                  + (" within its energy budget" if inst.energy_budget is not None else ""))
    # Interference, in units of sigma_j^2 (disaggregated over the intervals):
    #   I_j(z) = sum_k (b_jk s_jk + v_jk),  0 <= v_jk <= span_jk s_jk.
    for j in range(n_es):
        scale = float(inst.noise[j])
        other = zj != j
        vs = np.arange(offsets[j], offsets[j + 1])
        cols = np.concatenate([z0 + np.flatnonzero(other), s0 + vs, v0 + vs])
        vals = np.concatenate([rx[zi[other], j] / scale, -clean[j] / scale,
                               -np.ones(vs.size)])
        add(np.zeros(cols.size, np.int64), cols, vals, np.zeros(1), np.zeros(1),
            ROW_INTERFERENCE)
    add(np.tile(np.arange(n_v), 2), np.concatenate([v0 + np.arange(n_v),
                                                     s0 + np.arange(n_v)]),
        np.concatenate([np.ones(n_v), -span]), np.full(n_v, -np.inf), np.zeros(n_v),
        ROW_INTERFERENCE)
    # w_c >= v_jk - span_jk (s_jk - x_c) (x_c <= s_jk): the excess cost of column c is
    # slope_c w_c, exact when x_c = 1 and no restriction otherwise.
    add(np.repeat(np.arange(n_x), 4),
        np.column_stack([w0 + np.arange(n_x), v0 + v_of_x, s0 + v_of_x,
                         np.arange(n_x)]).ravel(),
        np.column_stack([np.ones(n_x), -np.ones(n_x), span[v_of_x],
                         -span[v_of_x]]).ravel(),
        np.zeros(n_x), np.full(n_x, np.inf), ROW_INTERFERENCE)
    has = np.isin(np.arange(n_users), zi)
    for s in LayerCosts.of(inst).side:
        add(np.zeros(n_z, np.int64), z0 + np.arange(n_z), s.gain[zi], np.array([s.need]),
            np.array([np.inf]), s.kind)
        if s.need > float(np.maximum(s.gain, 0.0)[has].sum()) + 1e-9 and not reason:
            reason = f"the {s.name} target cannot be reached"
    milp = blocks.milp(c, float(local_cost(inst).sum() * MS), col_hi=col_hi,
                       continuous=continuous)
    return IntervalModel(instance=inst, milp=milp, x_user=xi, x_es=xj, x_n=xn, y_es=yj,
                         y_n=y_n, infeasible_reason=reason, x_k=xk, y_k=yk,
                         breaks=tuple(clean), z_user=zi, z_es=zj)
