"""The interval model (formulation ``"intervals"``): exact for ``"other-cells"``.

The interference ``I_j`` of ES j is linear in the assignment and every cost grows with it
(:mod:`~mecopt.formulations.interference.geometry`). Cut the range ``[0, I^max_j]``
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
(:mod:`mecopt.solvers.exact.intervals`) refines adaptively at the true interference of the
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

from mecopt.formulations.count_indexed import CountIndexedModel, add_layer_rows
from mecopt.formulations.interference.geometry import interval_costs, received, true_interference
from mecopt.formulations.milp import MS, ROW_ASSIGN, ROW_INTERFERENCE, ROW_ONE_COUNT, RowBlocks
from mecopt.formulations.option_cost import local_cost, must_offload, prunable, side_rows
from mecopt.instance import Instance

#: Row kind of the ``z`` definitions (``z_ij - sum_nk x_ijnk = 0``).
ROW_ZDEF = 7


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
    p_user: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    p_layer: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))

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
        n_y, n_es = self.y_es.size, inst.n_servers
        e0 = self.n_x + n_y
        z0 = e0 + n_es
        v0 = z0 + self.z_user.size
        f0 = v0 + n_y
        w0 = f0 + n_es
        layer = np.full(n_es, -1)
        for j in range(n_es):
            if counts[j]:
                c = ykey.get((j, int(counts[j]), k_of[j]))
                if c is None:
                    return None
                layer[j] = c
                x[self.n_x + c] = 1.0
                x[v0 + c] = (level[j] - self.breaks[j][k_of[j]]) / float(inst.noise[j])
            else:
                x[e0 + j] = 1.0
                x[f0 + j] = level[j] / float(inst.noise[j])
        zkey = {t: c for c, t in enumerate(zip(self.z_user.tolist(), self.z_es.tolist(),
                                               strict=True))}
        for i in np.flatnonzero(a >= 0):
            x[z0 + zkey[(int(i), int(a[i]))]] = 1.0
        on = np.flatnonzero(x[:self.n_x] > 0.5)
        x[w0 + on] = x[v0 + layer[self.x_es[on]]]
        p0 = w0 + self.n_x
        x[p0:] = (a[self.p_user] >= 0) & (x[self.n_x + self.p_layer] > 0.5)
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
        # Costs without the budget give the chords (a budget only removes columns).
        at = [interval_costs(inst, j, float(v), budget=False) for v in ends]
        for k in range(b.size):
            r = interval_costs(inst, j, float(b[k])) if inst.energy_budget is not None \
                else at[k].copy()
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
    # Per layer l = (j, n, k): the excess v_l = I_j - b_jk while the layer is active
    # (0 otherwise); e_j = 1 when ES j is empty, with its interference f_j.
    span = np.array([((np.append(clean[j], imax[j])[k + 1] - clean[j][k]) / inst.noise[j])
                     for j, k in zip(yj.tolist(), yk.tolist(), strict=True)])
    e0 = n_x + n_y
    z0 = e0 + n_es
    v0 = z0 + n_z
    f0 = v0 + n_y
    w0 = f0 + n_es
    n_cols = w0 + n_x
    c = np.concatenate([cat(c_l, float), np.zeros(n_y + n_es + n_z + n_y + n_es), slope_x])
    col_hi = np.concatenate([np.ones(n_x + n_y + n_es + n_z), span, imax / inst.noise,
                             span[layer_of_x]])
    continuous = np.zeros(n_cols, dtype=bool)
    continuous[v0:] = True

    blocks = RowBlocks()
    add = blocks.add
    # Each ES holds exactly one layer (count n and interval k), or is empty.
    add(np.concatenate([yj, np.arange(n_es)]), np.concatenate([n_x + np.arange(n_y),
                                                               e0 + np.arange(n_es)]),
        np.ones(n_y + n_es), np.ones(n_es), np.ones(n_es), ROW_ONE_COUNT)
    add_layer_rows(blocks, layer_of_x, y_n)
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
    # Interference, in units of sigma_j^2, disaggregated over the layers:
    #   I_j(z) = sum_l (b_l y_l + v_l) + f_j,  v_l <= span_l y_l,  f_j <= I^max_j e_j.
    for j in range(n_es):
        scale = float(inst.noise[j])
        other = zj != j
        mine = np.flatnonzero(yj == j)
        cols = np.concatenate([z0 + np.flatnonzero(other), n_x + mine, v0 + mine, [f0 + j]])
        vals = np.concatenate([rx[zi[other], j] / scale, -clean[j][yk[mine]] / scale,
                               -np.ones(mine.size), [-1.0]])
        add(np.zeros(cols.size, np.int64), cols, vals, np.zeros(1), np.zeros(1),
            ROW_INTERFERENCE)
    add(np.tile(np.arange(n_y + n_es), 2),
        np.concatenate([v0 + np.arange(n_y), f0 + np.arange(n_es), n_x + np.arange(n_y),
                        e0 + np.arange(n_es)]),
        np.concatenate([np.ones(n_y + n_es), -span, -imax / inst.noise]),
        np.full(n_y + n_es, -np.inf), np.zeros(n_y + n_es), ROW_INTERFERENCE)
    # w_c >= v_l - span_l (y_l - x_c) for column c of layer l: the excess cost of c is
    # slope_c w_c, exact when x_c = 1, no restriction when x_c = 0.
    add(np.repeat(np.arange(n_x), 4),
        np.column_stack([w0 + np.arange(n_x), v0 + layer_of_x, n_x + layer_of_x,
                         np.arange(n_x)]).ravel(),
        np.column_stack([np.ones(n_x), -np.ones(n_x), span[layer_of_x],
                         -span[layer_of_x]]).ravel(),
        np.zeros(n_x), np.full(n_x, np.inf), ROW_INTERFERENCE)
    # Products with the active layer (reformulation-linearisation of the interference
    # row times y_l): if layer l of ES j is active, every offloaded user not in it
    # interferes, v_l + b_l y_l = sum_k rx_kj (p_kl - x_kl) with p_kl = z_k y_l; for a
    # user that must offload p_kl = y_l, for the others the McCormick rows of z_k y_l.
    # Without these rows the relaxation mixes a busy layer at low interference with a
    # light one at high interference.
    can = np.isin(np.arange(n_users), zi)
    loose = np.flatnonzero(can & ~forced)
    p_user = np.tile(loose, n_y)
    p_layer = np.repeat(np.arange(n_y), loose.size)
    n_p = p_user.size
    p0 = n_cols
    c = np.concatenate([c, np.zeros(n_p)])
    col_hi = np.concatenate([col_hi, np.ones(n_p)])
    continuous = np.concatenate([continuous, np.ones(n_p, dtype=bool)])
    rx_n = rx / inst.noise[None, :]
    sure = rx_n[forced & can].sum(axis=0)  # (M,) received from users that must offload
    b_layer = np.array([clean[j][k] for j, k in zip(yj.tolist(), yk.tolist(),
                                                    strict=True)]) / inst.noise[yj]
    add(np.concatenate([np.arange(n_y), np.arange(n_y), p_layer, layer_of_x]),
        np.concatenate([v0 + np.arange(n_y), n_x + np.arange(n_y), p0 + np.arange(n_p),
                        np.arange(n_x)]),
        np.concatenate([np.ones(n_y), b_layer - sure[yj], -rx_n[p_user, yj[p_layer]],
                        rx_n[xi, xj]]),
        np.zeros(n_y), np.zeros(n_y), ROW_INTERFERENCE)
    # p_kl - sum_j z_kj - y_l >= -1,  p_kl <= sum_j z_kj,  p_kl <= y_l.
    zc_of_user = [np.flatnonzero(zi == k) for k in range(n_users)]
    counts_z = np.array([zc_of_user[k].size for k in p_user], dtype=np.int64)
    add(np.concatenate([np.arange(n_p), np.repeat(np.arange(n_p), counts_z),
                        np.arange(n_p)]),
        np.concatenate([p0 + np.arange(n_p),
                        z0 + np.concatenate([zc_of_user[k] for k in p_user])
                        if n_p else np.zeros(0, np.int64),
                        n_x + p_layer]),
        np.concatenate([np.ones(n_p), -np.ones(int(counts_z.sum())), -np.ones(n_p)]),
        np.full(n_p, -1.0), np.full(n_p, np.inf), ROW_INTERFERENCE)
    add(np.concatenate([np.arange(n_p), np.repeat(np.arange(n_p), counts_z)]),
        np.concatenate([p0 + np.arange(n_p),
                        z0 + np.concatenate([zc_of_user[k] for k in p_user])
                        if n_p else np.zeros(0, np.int64)]),
        np.concatenate([np.ones(n_p), -np.ones(int(counts_z.sum()))]),
        np.full(n_p, -np.inf), np.zeros(n_p), ROW_INTERFERENCE)
    add(np.tile(np.arange(n_p), 2), np.concatenate([p0 + np.arange(n_p), n_x + p_layer]),
        np.concatenate([np.ones(n_p), -np.ones(n_p)]), np.full(n_p, -np.inf),
        np.zeros(n_p), ROW_INTERFERENCE)
    has = can
    for s in side_rows(inst):
        add(np.zeros(n_z, np.int64), z0 + np.arange(n_z), s.gain[zi], np.array([s.need]),
            np.array([np.inf]), s.kind)
        if s.need > float(np.maximum(s.gain, 0.0)[has].sum()) + 1e-9 and not reason:
            reason = f"the {s.name} target cannot be reached"
    milp = blocks.milp(c, float(local_cost(inst).sum() * MS), col_hi=col_hi,
                       continuous=continuous)
    return IntervalModel(instance=inst, milp=milp, x_user=xi, x_es=xj, x_n=xn, y_es=yj,
                         y_n=y_n, infeasible_reason=reason, x_k=xk, y_k=yk,
                         breaks=tuple(clean), z_user=zi, z_es=zj, p_user=p_user,
                         p_layer=p_layer)
