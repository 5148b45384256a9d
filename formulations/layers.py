"""Count layers: the count-indexed model restricted to chosen counts per ES.

A *layer* ``(j, n)`` is "ES j holds exactly n users": its columns are the ``x_ijn`` of the
count-indexed model (:mod:`mecopt.formulations.count_indexed`) and its ``y_jn``. Every
quantity here is computed per layer, on demand, so nothing of size ``N x M x N`` is ever
stored: at N = 10,000 the full delay table would take 3.2 GB.

:class:`LayerCosts` gives, for one layer, the cost of each user relative to answering
locally (the MILP objective coefficient of ``x_ijn``, total milliseconds) and the side rows
(the accuracy target) in the same "gain per offloaded user" form.
:func:`build_layers` writes the count-indexed MILP over a chosen set of layers, with the
same rows and the same maps to assignments as the full model, so every exact backend can
solve it. With every layer kept it is the full count-indexed model.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mecopt.channel import comm_delay
from mecopt.formulations.count_indexed import (
    MS,
    ROW_ACCURACY,
    ROW_ASSIGN,
    ROW_HALLUCINATION,
    ROW_ONE_COUNT,
    CountIndexedModel,
    add_layer_rows,
    local_cost,
    must_offload,
    prunable,
)
from mecopt.formulations.milp import RowBlocks
from mecopt.instance import Instance
from mecopt.objective import cost, offload_energy, within_budget
from mecopt.queues import QUEUE_MODELS

#: Memory the layer cache of :class:`LayerCosts` may use, bytes.
CACHE_BYTES = 400_000_000


@dataclasses.dataclass(frozen=True, eq=False)
class SideRow:
    """One linear side constraint ``sum_{i offloaded} gain_i >= need``.

    The accuracy target has ``gain = acc^E - acc^L``; the hallucination cap, written the
    same way, ``gain = hal^L - hal^E``.
    """

    name: str
    gain: np.ndarray
    need: float
    kind: int


@dataclasses.dataclass(frozen=True, eq=False)
class LayerCosts:
    """Per-layer costs of the interference-free instance ``inst``.

    Attributes
    ----------
    inst
        The instance (interference is ignored: the costs are interference-free).
    local
        (N,) cost of answering locally, MILP units (ms); finite even where local is not
        allowed.
    forced
        (N,) bool: users that may not stay local (uncertainty rule, local energy budget).
    free
        (N,) bool: users whose dominated offloads may be dropped (see
        :func:`mecopt.formulations.count_indexed.prunable`).
    limit
        (M,) the largest count each ES may hold.
    side
        The side rows (accuracy target) in gain form.
    """

    inst: Instance
    local: np.ndarray
    forced: np.ndarray
    free: np.ndarray
    limit: np.ndarray
    side: tuple[SideRow, ...]
    _comm1: np.ndarray
    _cache: dict[tuple[int, int], np.ndarray] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, inst: Instance) -> LayerCosts:
        """Precompute what every layer needs (O(N M))."""
        users = np.arange(inst.n_users)[:, None]
        es = np.arange(inst.n_servers)[None, :]
        comm1 = comm_delay(inst, users, es, np.ones((1, 1)))
        side: list[SideRow] = []
        if inst.min_accuracy is not None:
            side.append(SideRow(
                "accuracy", inst.acc_edge - inst.acc_local,
                inst.n_users * inst.min_accuracy - float(inst.acc_local.sum()), ROW_ACCURACY))
        if inst.max_hallucination is not None:
            side.append(SideRow(
                "hallucination", inst.hall_local - inst.hall_edge,
                float(inst.hall_local.sum()) - inst.n_users * inst.max_hallucination,
                ROW_HALLUCINATION))
        return cls(inst=inst, local=local_cost(inst) * MS, forced=must_offload(inst),
                   free=prunable(inst), limit=inst.count_limit, side=tuple(side),
                   _comm1=comm1)

    @property
    def constant(self) -> float:
        """Objective constant: every user local."""
        return float(self.local.sum())

    def offload(self, j: int, n: int) -> np.ndarray:
        """(N,) cost (ms) of each user on ES ``j`` when it holds ``n`` users; ``inf`` if
        impossible."""
        inst = self.inst
        users = np.arange(inst.n_users)
        with np.errstate(over="ignore", invalid="ignore"):
            comm = self._comm1[:, j] * n
            d = comm + QUEUE_MODELS.get(inst.queue).edge_delay(inst, users, j, n)
            energy = offload_energy(inst, users, comm)
            out = cost(inst, users, True, d, energy) * MS
            if inst.energy_budget is not None:
                out = np.where(within_budget(inst, users, energy), out, np.inf)
        return np.where(np.isnan(out), np.inf, out)

    def relative(self, j: int, n: int) -> np.ndarray:
        """(N,) MILP coefficient of ``x_ijn`` (offload minus local cost); ``inf`` where the
        column does not exist (impossible, above the count limit, or dominated).

        Layers are cached (up to ``CACHE_BYTES``): pricing asks for the same ones again
        and again. The returned array is read-only.
        """
        key = (int(j), int(n))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if n < 1 or n > self.limit[j]:
            r = np.full(self.inst.n_users, np.inf)
        else:
            with np.errstate(invalid="ignore"):
                r = self.offload(j, n) - self.local
            r[~np.isfinite(r)] = np.inf
            r[self.free & (r >= 0)] = np.inf
        r.setflags(write=False)
        if (len(self._cache) + 1) * r.nbytes <= CACHE_BYTES:
            self._cache[key] = r
        return r

    def side_gain(self) -> np.ndarray:
        """(S, N) gains of the side rows."""
        if not self.side:
            return np.zeros((0, self.inst.n_users))
        return np.stack([s.gain for s in self.side])

    def side_need(self) -> np.ndarray:
        """(S,) right-hand sides of the side rows."""
        return np.array([s.need for s in self.side], dtype=float)


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
