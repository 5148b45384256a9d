"""The count-indexed MILP of single-slot offloading (interference-free).

See ``README.md`` in this package for the derivation. In short: with interference
``"none"`` the delay of user i on ES j depends on the other users only through the count
n_j, ``d_ij(n) = n D_i / (B_j log2(1 + P_i g_ij / sigma_j^2)) + t_edge_ij(n)``, so with

- ``y_jn = 1`` when ES j holds exactly n users, and
- ``x_ijn = 1`` when user i is on ES j and ES j holds exactly n users,

the mean cost is linear. The cost of an option (:mod:`mecopt.objective`) is its delay plus
the weighted energy, accuracy and hallucination terms: ``c_i^L`` locally and
``c_ij(n) = d_ij(n) + w^E_i P_i t_comm_ij(n) - w^A acc^E_i + w^H hal^E_i`` on ES j at count n
(with no weight set, the delay itself):

    min (1/N) [ sum_i c_i^L + sum_ijn (c_ij(n) - c_i^L) x_ijn ]
    s.t. sum_n y_jn <= 1                         for every ES j          (one count)
         sum_i x_ijn = n y_jn                    for every ES j, n       (count is n)
         x_ijn <= y_jn                           for every i, j, n       (linking)
         sum_jn x_ijn <= 1  (= 1 if user i may not stay local)  for every user i
         sum_i acc^L_i + sum_ijn (acc^E_i - acc^L_i) x_ijn >= N min_accuracy
         sum_i hal^L_i + sum_ijn (hal^E_i - hal^L_i) x_ijn <= N max_hallucination
         n <= K_j, and n only where d_ij(n) is finite (stable queue, reachable ES) and the
         uplink energy P_i t_comm_ij(n) is within user i's energy budget.

A user may not stay local when the uncertainty rule forces it (alpha_i > tau) or its local
energy exceeds its budget.

Unlike a big-M model its LP relaxation is tight: for a fixed count vector the problem is
a transportation problem. Two exact reductions shrink it:

- *dominated offloads*: a user that may stay local and whose move home can break neither
  quality constraint (no accuracy target or ``acc^E_i <= acc^L_i``; no hallucination cap or
  ``hal^L_i <= hal^E_i``) is never offloaded at a count n with ``c_ij(n) >= c_i^L`` in some
  optimal solution, because moving it home does not raise its own cost and (delays and
  uplink energies being non-decreasing in n) no other user's cost or energy rises;
- *empty counts*: ``y_jn`` is dropped when fewer than n users may sit on ES j at count n.

The model is the union of **layers** ``(j, n)`` ("ES j holds exactly n users", columns
``x_ijn`` and ``y_jn``). :func:`build` writes every layer from the cost table;
:func:`build_layers` writes the same model over a chosen set of layers, costed one layer
at a time by :class:`~mecopt.formulations.option_cost.LayerCosts` (the small models of
count fixing, where the full table would not fit in memory).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mecopt.formulations.milp import (
    MS,
    QUALITY_ROWS,
    ROW_ACCURACY,
    ROW_ASSIGN,
    ROW_COUNT,
    ROW_HALLUCINATION,
    ROW_INTERFERENCE,
    ROW_LINK,
    ROW_ONE_COUNT,
    MatrixMILP,
    RowBlocks,
)
from mecopt.formulations.option_cost import (
    LayerCosts,
    cost_table,
    delay_table,
    local_cost,
    must_offload,
    prunable,
)
from mecopt.instance import Instance
from mecopt.objective import local_energy

# Names other modules import from here (the unit and row families live in ``milp``, the
# option costs in ``option_cost``).
__all__ = ["MS", "QUALITY_ROWS", "ROW_ACCURACY", "ROW_ASSIGN", "ROW_COUNT",
           "ROW_HALLUCINATION", "ROW_INTERFERENCE", "ROW_LINK", "ROW_ONE_COUNT",
           "CountIndexedModel", "LayerCosts", "add_layer_rows", "build", "build_layers",
           "cost_table", "delay_table", "local_cost", "must_offload", "prunable",
           "prune_assignment"]


@dataclasses.dataclass(frozen=True, eq=False)
class CountIndexedModel:
    """The count-indexed MILP of an instance and the maps between it and assignments.

    Attributes
    ----------
    instance
        The instance it models (its interference setting is ignored: the model is the
        interference-free one, exact for ``"none"`` and a lower bound otherwise).
    milp
        The matrix form; variables are the ``x`` columns then the ``y`` columns.
    x_user, x_es, x_n
        (K,) user, ES and count of each ``x`` column.
    y_es, y_n
        (Y,) ES and count of each ``y`` column.
    infeasible_reason
        Non-empty when the reductions already prove the instance infeasible.
    """

    instance: Instance
    milp: MatrixMILP
    x_user: np.ndarray
    x_es: np.ndarray
    x_n: np.ndarray
    y_es: np.ndarray
    y_n: np.ndarray
    infeasible_reason: str = ""

    @property
    def n_x(self) -> int:
        """Number of ``x`` columns."""
        return int(self.x_user.shape[0])

    def to_mean_delay(self, objective: float) -> float:
        """Convert a MILP objective value (total ms) to the mean objective (s).

        The mean delay when the instance sets no cost weight.
        """
        return objective / (MS * self.instance.n_users)

    def decode(self, x: np.ndarray) -> np.ndarray:
        """Assignment (-1 local, j >= 0 ES) from a 0/1 solution vector."""
        a = np.full(self.instance.n_users, -1, dtype=np.int64)
        on = np.asarray(x[: self.n_x]) > 0.5
        a[self.x_user[on]] = self.x_es[on]
        return a

    def encode(self, assignment: np.ndarray) -> np.ndarray | None:
        """0/1 vector of an assignment, or ``None`` if the model has no column for it.

        Apply :func:`prune_assignment` first: it maps any assignment to one at least as
        good that the reductions keep.
        """
        a = np.asarray(assignment)
        counts = np.bincount(a[a >= 0], minlength=self.instance.n_servers)
        x = np.zeros(self.milp.n_vars)
        key = {(u, j, n): k for k, (u, j, n) in
               enumerate(zip(self.x_user.tolist(), self.x_es.tolist(), self.x_n.tolist(),
                             strict=True))}
        for i in np.flatnonzero(a >= 0):
            k = key.get((int(i), int(a[i]), int(counts[a[i]])))
            if k is None:
                return None
            x[k] = 1.0
        ykey = {(j, n): k for k, (j, n) in enumerate(zip(self.y_es.tolist(),
                                                           self.y_n.tolist(), strict=True))}
        for j in np.flatnonzero(counts):
            k = ykey.get((int(j), int(counts[j])))
            if k is None:
                return None
            x[self.n_x + k] = 1.0
        return x


def prune_assignment(inst: Instance, assignment: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Send home prunable users whose offload is dominated, until none is left.

    ``table`` is :func:`cost_table`. The result is never worse (interference-free) and
    stays feasible when the input was.
    """
    a = np.array(assignment, dtype=np.int64)
    free = prunable(inst)
    home = local_cost(inst)
    while True:
        counts = np.bincount(a[a >= 0], minlength=inst.n_servers)
        off = np.flatnonzero((a >= 0) & free)
        if off.size == 0:
            return a
        d = table[off, a[off], counts[a[off]] - 1]
        bad = off[d >= home[off]]
        if bad.size == 0:
            return a
        a[bad[0]] = -1


def add_layer_rows(blocks: RowBlocks, layer_of_x: np.ndarray, y_n: np.ndarray,
                   link: bool = True) -> None:
    """Rows tying the ``x`` columns (first) to their layer's ``y`` column (right after them).

    Count rows ``sum_i x_ijn - n y_jn = 0`` (row index = ``y`` index) and, with ``link``,
    ``x_ijn <= y_jn``. ``layer_of_x`` is the ``y`` index of each ``x`` column, ``y_n`` the
    count of each layer.
    """
    n_x, n_y = layer_of_x.size, y_n.size
    blocks.add(np.concatenate([layer_of_x, np.arange(n_y)]),
               np.concatenate([np.arange(n_x), n_x + np.arange(n_y)]),
               np.concatenate([np.ones(n_x), -y_n.astype(float)]), np.zeros(n_y),
               np.zeros(n_y), ROW_COUNT)
    if link:
        blocks.add(np.repeat(np.arange(n_x), 2),
                   np.column_stack([np.arange(n_x), n_x + layer_of_x]).ravel(),
                   np.tile([1.0, -1.0], n_x), np.full(n_x, -np.inf), np.zeros(n_x), ROW_LINK)


def build(inst: Instance, *, link_rows: bool = True) -> CountIndexedModel:
    """Build the count-indexed MILP of ``inst``.

    Parameters
    ----------
    inst
        The instance.
    link_rows
        Keep the ``x_ijn <= y_jn`` rows (default). Without them the model stays exact but
        its relaxation is much weaker; the switch exists for experiments.

    Returns
    -------
    CountIndexedModel
    """
    n_users, n_es = inst.n_users, inst.n_servers
    limit = inst.count_limit
    n_max = int(limit.max(initial=0))
    table = cost_table(inst, max(n_max, 1))
    home = local_cost(inst)
    allowed = np.isfinite(table)
    allowed &= (np.arange(1, table.shape[2] + 1)[None, None, :] <= limit[None, :, None])
    free = prunable(inst)
    allowed[free] &= table[free] < home[free, None, None]
    # Drop counts n that fewer than n users can fill, and their x columns.
    fillable = allowed.sum(axis=0) >= np.arange(1, table.shape[2] + 1)[None, :]
    allowed &= fillable[None, :, :]

    xi, xj, xn0 = np.nonzero(allowed)
    x_n = xn0 + 1
    yj, yn0 = np.nonzero(fillable)
    y_n = yn0 + 1
    n_x, n_y = xi.size, yj.size
    y_index = np.full((n_es, table.shape[2]), -1, dtype=np.int64)
    y_index[yj, yn0] = np.arange(n_y)
    x_to_y = n_x + y_index[xj, xn0]

    c = np.concatenate([(table[xi, xj, xn0] - home[xi]) * MS, np.zeros(n_y)])
    constant = float(home.sum() * MS)

    blocks = RowBlocks()
    add = blocks.add

    # One count per ES: sum_n y_jn <= 1.
    es_with_y, es_row = np.unique(yj, return_inverse=True)
    add(es_row, n_x + np.arange(n_y), np.ones(n_y), np.full(es_with_y.size, -np.inf),
        np.ones(es_with_y.size), ROW_ONE_COUNT)
    add_layer_rows(blocks, x_to_y - n_x, y_n, link=link_rows)
    # Assignment rows.
    forced = must_offload(inst)
    users_with_x, user_row = np.unique(xi, return_inverse=True)
    reason = ""
    stranded = np.setdiff1d(np.flatnonzero(forced), users_with_x)
    if stranded.size:
        i = stranded[0]
        why = (f"alpha={inst.alpha[i]:.4g} > tau={inst.tau:g}" if inst.forced[i] else
               f"local energy {local_energy(inst)[i]:.6g} J > energy_budget "
               f"{inst.energy_budget[i]:.6g} J")
        reason = (f"user {i} must be offloaded ({why}) but no ES can serve it"
                  + (" within its energy budget" if inst.energy_budget is not None else ""))
    add(user_row, np.arange(n_x), np.ones(n_x),
        np.where(forced[users_with_x], 1.0, -np.inf), np.ones(users_with_x.size), ROW_ASSIGN)
    if inst.min_accuracy is not None:
        need = n_users * inst.min_accuracy - float(inst.acc_local.sum())
        gain = inst.acc_edge[xi] - inst.acc_local[xi]
        best = float(np.maximum(inst.acc_edge - inst.acc_local, 0.0)
                     [np.isin(np.arange(n_users), users_with_x)].sum())
        if need > best + 1e-9 and not reason:
            reason = (f"min_accuracy {inst.min_accuracy:g} cannot be reached: at most "
                      f"{(inst.acc_local.sum() + best) / n_users:.6f}")
        add(np.zeros(n_x, dtype=np.int64), np.arange(n_x), gain, np.array([need]),
            np.array([np.inf]), ROW_ACCURACY)
    if inst.max_hallucination is not None:
        cap = n_users * inst.max_hallucination - float(inst.hall_local.sum())
        change = inst.hall_edge[xi] - inst.hall_local[xi]
        lowest = float(np.minimum(inst.hall_edge - inst.hall_local, 0.0)
                       [np.isin(np.arange(n_users), users_with_x)].sum())
        if cap < lowest - 1e-9 and not reason:
            reason = (f"max_hallucination {inst.max_hallucination:g} cannot be met: at least "
                      f"{(inst.hall_local.sum() + lowest) / n_users:.6f}")
        add(np.zeros(n_x, dtype=np.int64), np.arange(n_x), change, np.array([-np.inf]),
            np.array([cap]), ROW_HALLUCINATION)

    milp = blocks.milp(c, constant)
    return CountIndexedModel(instance=inst, milp=milp, x_user=xi.astype(np.int64),
                             x_es=xj.astype(np.int64), x_n=x_n.astype(np.int64),
                             y_es=yj.astype(np.int64), y_n=y_n.astype(np.int64),
                             infeasible_reason=reason)


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def build_layers(costs: LayerCosts, counts: list[np.ndarray],
                 must_use: np.ndarray | None = None) -> CountIndexedModel:
    """The count-indexed MILP over the layers ``(j, n)`` with ``n`` in ``counts[j]``.

    Parameters
    ----------
    costs
        The instance's layer costs.
    counts
        Per ES, the counts ``n >= 1`` it may hold; a count whose layer has fewer than ``n``
        columns is dropped.
    must_use
        (M,) bool: ES that may not stay empty (count 0 proven worse); default none.

    Returns
    -------
    CountIndexedModel
        Same variables, rows and maps as :func:`mecopt.formulations.count_indexed.build`.
    """
    inst = costs.inst
    n_es = inst.n_servers
    must = np.zeros(n_es, dtype=bool) if must_use is None else np.asarray(must_use, bool)
    xi_l, xj_l, xn_l, c_l = [], [], [], []
    yj_l, yn_l = [], []
    for j in range(n_es):
        for n in np.unique(np.asarray(counts[j], dtype=np.int64)):
            if n < 1:
                continue
            r = costs.relative(j, int(n))
            ok = np.flatnonzero(np.isfinite(r))
            if ok.size < n:
                continue
            xi_l.append(ok)
            xj_l.append(np.full(ok.size, j))
            xn_l.append(np.full(ok.size, n))
            c_l.append(r[ok])
            yj_l.append(j)
            yn_l.append(int(n))
    xi, xj, xn = _cat(xi_l, np.int64), _cat(xj_l, np.int64), _cat(xn_l, np.int64)
    c_x = _cat(c_l, float)
    yj = np.asarray(yj_l, dtype=np.int64)
    y_n = np.asarray(yn_l, dtype=np.int64)
    n_x, n_y = xi.size, yj.size
    # x columns come layer by layer, in the order of the y columns.
    layer_of_x = np.repeat(np.arange(n_y), [p.size for p in xi_l]) if n_y else np.zeros(
        0, dtype=np.int64)
    c = np.concatenate([c_x, np.zeros(n_y)])

    blocks = RowBlocks()
    add = blocks.add

    reason = ""
    es_rows = np.arange(n_es)
    add(yj, n_x + np.arange(n_y), np.ones(n_y), np.where(must, 1.0, -np.inf),
        np.ones(n_es), ROW_ONE_COUNT)
    if np.any(must & ~np.isin(es_rows, yj)):
        reason = "no count left for an ES that must be used"
    add_layer_rows(blocks, layer_of_x, y_n)
    forced = costs.forced
    n_users = inst.n_users
    # One assignment row per user (rows of users without a column stay empty).
    add(xi, np.arange(n_x), np.ones(n_x), np.where(forced, 1.0, -np.inf), np.ones(n_users),
        ROW_ASSIGN)
    stranded = np.setdiff1d(np.flatnonzero(forced), xi)
    if stranded.size and not reason:
        reason = (f"user {stranded[0]} may not stay local but no kept count of any ES can "
                  "serve it")
    for s in costs.side:
        add(np.zeros(n_x, dtype=np.int64), np.arange(n_x), s.gain[xi], np.array([s.need]),
            np.array([np.inf]), s.kind)
        has = np.isin(np.arange(n_users), xi)
        if s.need > float(np.maximum(s.gain, 0.0)[has].sum()) + 1e-9 and not reason:
            reason = f"the {s.name} target cannot be reached with the kept counts"
    milp = blocks.milp(c, costs.constant)
    return CountIndexedModel(instance=inst, milp=milp, x_user=xi, x_es=xj, x_n=xn,
                             y_es=yj, y_n=y_n, infeasible_reason=reason)
