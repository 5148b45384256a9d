"""The per-ES Lagrangian interference bound of one count vector, cell by cell.

:func:`mecopt.formulations.bounds.interference_dual.evaluate_dual` fills, for every ES, the table
``V_j[n, T]`` over all counts and totals, and the bound over all vectors is its min-plus
convolution. Once that bound has converged, the vectors whose bound lies below the
incumbent are few (tens at N = 60 on kim2026-published), and each may be bounded at
multipliers of its own: the bound of a vector ``(n_1, ..., n_M)`` (``T = sum_j n_j``) is

    base - sum_i u_i + L(N - T) + sum_j V_j[n_j, T],

``L(m)`` the m smallest local values, and it needs one cell of each table only, so one
evaluation costs ``O(M K G N log N)`` instead of ``O(M K G N^2 log N)`` (K intervals, G
values of theta). Every cell is computed as in ``evaluate_dual`` (same intervals, thetas,
claimed-local surplus rule), so for any multipliers it is a proven lower bound on every
assignment with these counts. :func:`refine` raises the listed vectors one by one from
the converged multipliers; the bound over all vectors is then the smallest of the refined
vectors' bounds and the table bounds of the vectors not refined.
"""

from __future__ import annotations

import dataclasses
import heapq
import time
from concurrent.futures import Executor

import numpy as np

from mecopt.formulations.bounds.interference_dual import (
    DualTables,
    _es_values,
    ascent,
    interval_values,
)
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import local_cost, option_cost

#: Most partial count vectors the listing holds; above, it gives up.
MAX_PARTIAL = 200_000
#: Parts an interval that attains a vector's bound is cut into after each round.
SPLIT = 8
#: Most evaluations of a vector's ascent per round, and most rounds of one vector.
MAX_ITER = 30
MAX_ROUNDS = 40


class CellTables:
    """The tables of :class:`~mecopt.formulations.bounds.interference_dual.DualTables` on
    another interval grid, with the cost columns computed per (ES, count) on demand (a
    fine grid over all counts would not fit in memory at N = 120).

    Parameters
    ----------
    t
        The tables whose instance, received powers, thetas and local part are shared.
    upper
        Per ES, (K,) the upper end of every interval (the last is ``R_j``); the lower ends
        are 0 and the upper ends but the last.
    """

    def __init__(self, t: DualTables, upper: tuple[np.ndarray, ...]) -> None:
        self.inst = t.inst
        self.rx, self.total, self.imin = t.rx, t.total, t.imin
        self.stay, self.thetas, self.base = t.stay, t.thetas, t.base
        self.upper = upper
        self._columns: dict[tuple[int, int], np.ndarray] = {}

    @classmethod
    def same_grid(cls, t: DualTables) -> CellTables:
        """Tables on the grid of ``t`` itself (their cells are ``t``'s)."""
        return cls(t, t.upper)

    def split(self, where: dict[int, int], parts: int) -> CellTables:
        """The tables with interval ``where[j]`` of every ES ``j`` in it cut into
        ``parts`` (columns of the other ESs are kept)."""
        upper = list(self.upper)
        for j, a in where.items():
            lo = 0.0 if a == 0 else float(self.upper[j][a - 1])
            hi = float(self.upper[j][a])
            inner = np.linspace(lo, hi, parts + 1)[1:-1]
            upper[j] = np.unique(np.concatenate([self.upper[j], inner]))
        out = CellTables.__new__(CellTables)
        out.__dict__.update(self.__dict__)
        out.upper = tuple(upper)
        out._columns = {k: v for k, v in self._columns.items() if k[0] not in where}
        return out

    def column(self, j: int, n: int) -> np.ndarray:
        """(K, N) cost (ms, relative to local) of every user on ES ``j`` holding ``n``
        users, at every interval's lower end (:func:`interval_costs`' column ``n``)."""
        key = (j, n)
        if key not in self._columns:
            inst = self.inst
            lower = np.concatenate([[0.0], self.upper[j][:-1]])
            if n > int(inst.count_limit[j]):
                out = np.full((lower.size, inst.n_users), np.inf)
            else:
                users = np.arange(inst.n_users)[None, :]
                c = option_cost(inst, users, j, n, lower[:, None])
                out = (c - local_cost(inst)[None, :]) * MS
                out = np.where(np.isfinite(out), out, np.inf)
            self._columns[key] = out
        return self._columns[key]


def _statuses(k: int) -> np.ndarray:
    """(3^k, k) every status of k users: 0 interferer, 1 own user, 2 claimed local."""
    if k == 0:
        return np.zeros((1, 0), np.int64)
    grids = np.meshgrid(*[np.arange(3)] * k, indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def _cell(
    t: CellTables,
    j: int,
    n: int,
    total: int,
    u: np.ndarray,
    pi_j: np.ndarray,
    fixed: int = 0,
) -> tuple[float, int, int, np.ndarray]:
    """``V_j[n, total]`` with the ``fixed`` users of largest received power at ES ``j``
    given each of their statuses in turn (the minimum over the statuses is a bound, and
    with ``fixed = 0`` it is the table's cell).

    Returns
    -------
    value, interval, theta, status
        The bound (``inf`` if impossible), the interval and theta indices that attain
        it, and the fixed users' status there ((fixed,) 0 interferer, 1 own, 2 claimed).
    """
    n_users = t.inst.n_users
    th = t.thetas
    r = t.rx[:, j]
    m = n_users - total
    none = (np.inf, 0, 0, np.zeros(0, np.int64))
    if total - n < 0 or m < 0:
        return none
    ok = np.flatnonzero(t.upper[j] >= t.imin[total - n, j] * (1 - 1e-12))
    if ok.size == 0:
        return none
    k = min(fixed, n_users)
    big = np.argsort(-r, kind="stable")[:k]
    rest = np.setdiff1d(np.arange(n_users), big)
    status = _statuses(k)
    n_own = (status == 1).sum(axis=1)
    n_claim = (status == 2).sum(axis=1)
    keep = (n_own <= n) & (n_claim <= m)
    status, n_own, n_claim = status[keep], n_own[keep], n_claim[keep]
    rr = r[rest]
    cols = t.column(j, n)[ok] + u[None, :] if n > 0 else None  # (K, N)
    # Fixed users: own ones pay their column, claimed ones their price, both less theta r.
    fixed_cost = np.zeros((status.shape[0], ok.size, th.size))
    for c, user in enumerate(big):
        own_c = (cols[:, user][None, :, None] if n > 0 else 0.0) - th * r[user]
        claim_c = pi_j[user] - th * r[user]
        fixed_cost += np.where(
            (status[:, c] == 1)[:, None, None],
            own_c,
            np.where((status[:, c] == 2)[:, None, None], claim_c, 0.0),
        )
    base = th[None, :] * (t.total[j] - t.upper[j][ok][:, None])  # (K, G)
    value = fixed_cost + base[None, :, :]  # (C, K, G)
    claim = pi_j[rest][None, :] - th[:, None] * rr[None, :]  # (G, N')
    claims = np.broadcast_to(claim, value.shape + claim.shape[1:])  # (C, K, G, N')
    with np.errstate(invalid="ignore"):
        if n > 0:
            own = cols[:, rest][:, None, :] - th[None, :, None] * rr[None, None, :]  # (K,G,N')
            ranked = np.sort(own, axis=2)
            prefix = np.concatenate(
                [np.zeros(ranked.shape[:2] + (1,)), np.cumsum(ranked, axis=2)], axis=2
            )
            need = n - n_own  # (C,)
            short = need > rest.size
            need = np.minimum(need, rest.size)
            value = value + np.moveaxis(prefix[:, :, need], 2, 0)
            value = np.where(short[:, None, None], np.inf, value)
            # The surplus rule on the rest, nu its need-th smallest own value.
            nu = np.moveaxis(ranked[:, :, np.clip(need - 1, 0, None)], 2, 0)  # (C, K, G)
            nu = np.where(np.isfinite(nu), nu, 0.0)
            nu = np.where((need > 0)[:, None, None], nu, -np.inf)
            surplus = np.minimum(own[None] - nu[..., None], 0.0)
            claims = claims - np.where(np.isnan(surplus), 0.0, surplus)
        if m > 0:
            cum = np.cumsum(np.sort(claims, axis=3), axis=3)
            cum = np.concatenate([np.zeros(value.shape + (1,)), cum], axis=3)
            left = np.broadcast_to((m - n_claim)[:, None, None, None], value.shape + (1,))
            value = value + np.take_along_axis(cum, left, axis=3)[..., 0]
    value = np.where(np.isnan(value), -np.inf, value)
    g = value.argmax(axis=2)  # (C, K)
    per = np.take_along_axis(value, g[..., None], axis=2)[..., 0]  # (C, K)
    c, kk = np.unravel_index(int(np.argmin(per)), per.shape)
    return float(per[c, kk]), int(ok[kk]), int(g[c, kk]), status[c]


def vector_dual(
    t: CellTables,
    u: np.ndarray,
    pi: np.ndarray,
    counts: np.ndarray,
    fixed: int = 0,
    winners: dict[int, int] | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """The bound (total ms) of the assignments with ``counts`` at ``(u, pi)`` and a
    subgradient; with ``fixed = 0`` equal to ``evaluate_dual(t, u, pi, counts)``, and at
    least that with the ``fixed`` strongest users of each ES given each status in turn.

    Parameters
    ----------
    t
        The tables.
    u, pi
        Multipliers as for :func:`~mecopt.formulations.bounds.interference_dual.evaluate_dual`.
    counts
        (M,) the count vector.
    fixed
        Users per ES whose status is enumerated (:func:`_cell`; cost grows as ``3^fixed``).
    winners
        If given, filled with the interval of every ES (of a count above 0) that attains
        the bound.
    """
    inst = t.inst
    n_users, n_es = inst.n_users, inst.n_servers
    counts = np.asarray(counts, np.int64)
    total = int(counts.sum())
    m = n_users - total
    grad_u = -np.ones(n_users)
    grad_pi = np.zeros((n_users, n_es))
    if m < 0 or m > t.stay.size:
        return np.inf, grad_u, grad_pi
    local_val = u[t.stay] - pi[t.stay].sum(axis=1)
    order = np.argsort(local_val, kind="stable")
    value = t.base - float(u.sum()) + float(local_val[order[:m]].sum())
    home = t.stay[order[:m]]
    grad_u[home] += 1.0
    grad_pi[home, :] -= 1.0
    for j in range(n_es):
        n = int(counts[j])
        v, a, g, status = _cell(t, j, n, total, u, pi[:, j], fixed)
        if not np.isfinite(v):
            return np.inf, grad_u, grad_pi
        if winners is not None:
            winners[j] = a
        value += v
        th = t.thetas[g]
        r = t.rx[:, j]
        big = np.argsort(-r, kind="stable")[: status.size]
        grad_u[big[status == 1]] += 1.0
        grad_pi[big[status == 2], j] += 1.0
        rest = np.setdiff1d(np.arange(n_users), big)
        need = n - int((status == 1).sum())
        left = m - int((status == 2).sum())
        claim = pi[rest, j] - th * r[rest]
        if need > 0:
            col = t.column(j, n)[a, rest] + u[rest] - th * r[rest]
            ranked = np.argsort(col, kind="stable")
            grad_u[rest[ranked[:need]]] += 1.0
            with np.errstate(invalid="ignore"):
                surplus = np.minimum(col - col[ranked[need - 1]], 0.0)
            claim = claim - np.where(np.isnan(surplus), 0.0, surplus)
        if left > 0:
            grad_pi[rest[np.argsort(claim, kind="stable")[:left]], j] += 1.0
    return value, grad_u, grad_pi


def listed(
    t: DualTables, u: np.ndarray, pi: np.ndarray, threshold: float, most: int,
    stacks: list[np.ndarray] | None = None,
) -> tuple[list[tuple[float, tuple[int, ...]]], float] | None:
    """Count vectors whose table bound at ``(u, pi)`` is below ``threshold`` (total ms).

    Parameters
    ----------
    stacks
        The per-interval tables of :func:`interval_stacks` at ``(u, pi)``, if computed
        already (the ES tables are their least over the intervals).

    Returns
    -------
    tuple or None
        Up to ``most`` ``(bound, counts)`` pairs, lowest first, and the smallest bound of
        the vectors below the threshold left out (``inf`` if none); ``None`` when more
        than ``MAX_PARTIAL`` partial vectors would have to be held.
    """
    inst = t.inst
    n_users, n_es = inst.n_users, inst.n_servers
    if stacks is None:
        per = [_es_values(t, j, u, pi[:, j])[0] for j in range(n_es)]
    else:
        first = n_users - t.stay.size
        per = [np.full((n_users + 1, n_users + 1), np.inf) for _ in range(n_es)]
        for j in range(n_es):
            per[j][:, first:] = stacks[j].min(axis=0)
    local_val = np.sort(u[t.stay] - pi[t.stay].sum(axis=1))
    loc = np.concatenate([[0.0], np.cumsum(local_val)])
    const = t.base - float(u.sum())
    found: list[tuple[float, tuple[int, ...]]] = []
    for total in range(n_users + 1):
        m = n_users - total
        if m > t.stay.size:
            continue
        # acc[s]: every partial vector of the first ESs summing to s, with its value.
        acc: list[list[tuple[float, tuple[int, ...]]]] = [[] for _ in range(total + 1)]
        for n in range(total + 1):
            if np.isfinite(per[0][n, total]):
                acc[n].append((float(per[0][n, total]), (n,)))
        for j in range(1, n_es):
            col = per[j][: total + 1, total]
            nxt: list[list[tuple[float, tuple[int, ...]]]] = [[] for _ in range(total + 1)]
            # The cheapest completion of the ESs after j bounds what a prefix may cost.
            rest = sum(float(np.min(per[k][: total + 1, total])) for k in range(j + 1, n_es))
            room = threshold - const - loc[m] - rest
            for s in range(total + 1):
                for v, key in acc[s]:
                    for n in np.flatnonzero(col[: total + 1 - s] + v < room):
                        nxt[s + n].append((v + float(col[n]), (*key, int(n))))
            if sum(len(x) for x in nxt) > MAX_PARTIAL:
                return None
            acc = nxt
        for v, key in acc[total]:
            b = const + loc[m] + v
            if b < threshold:
                found.append((b, key))
    found.sort()
    left_out = found[most:]
    return found[:most], (left_out[0][0] if left_out else np.inf)


def interval_stacks(
    t: DualTables, u: np.ndarray, pi: np.ndarray, pool: Executor | None = None
) -> list[np.ndarray]:
    """Per ES j, the (K, N + 1, N + 1 - first) bounds ``V_j[n, T]`` of every interval
    (:func:`~mecopt.formulations.bounds.interference_dual.interval_values`; ``first`` the
    fewest users that can offload), on the threads of ``pool`` if given."""
    n_users = t.inst.n_users
    first = n_users - t.stay.size

    def stack(j: int) -> np.ndarray:
        out = np.full((t.costs[j].shape[0], n_users + 1, n_users + 1 - first), np.inf)
        for a, v in interval_values(t, j, u, pi[:, j]):
            out[a] = v
        return out

    js = range(t.inst.n_servers)
    return list(pool.map(stack, js)) if pool is not None else [stack(j) for j in js]


def vector_ranges(
    t: DualTables,
    stacks: list[np.ndarray],
    vectors: list[tuple[float, tuple[int, ...]]],
    threshold: float,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per listed vector, interference ranges (W, per ES) outside which no assignment of
    the vector has a bound below ``threshold`` (total ms).

    The table bound of a vector is ``base - sum u + L(N - T) + sum_j V_j[n_j, T]`` with
    ``V_j`` the least over ES j's intervals; with ES j held to interval ``a`` it is the same
    sum with ``V_j`` replaced by that interval's cell, a bound on the vector's assignments
    whose interference at ES j lies in interval ``a``. Intervals whose bound reaches the
    threshold are cut off, and the range is the hull of the rest.

    Parameters
    ----------
    t
        The tables the vectors were listed at (:func:`listed`).
    stacks
        :func:`interval_stacks` at the multipliers the vectors were listed at.
    vectors
        ``(bound, counts)`` pairs of :func:`listed`.
    threshold
        Total ms.
    """
    n_es = t.inst.n_servers
    first = t.inst.n_users - t.stay.size
    lower = [np.concatenate([[0.0], up[:-1]]) for up in t.upper]
    out = []
    for bound, key in vectors:
        total = int(sum(key)) - first
        lo, hi = np.zeros(n_es), t.total.copy()
        for j in range(n_es):
            cells = stacks[j][:, key[j], total]
            keep = np.flatnonzero(bound - cells.min() + cells < threshold)
            if keep.size:
                lo[j], hi[j] = lower[j][keep.min()], t.upper[j][keep.max()]
        out.append((lo, hi))
    return out


@dataclasses.dataclass
class _Vector:
    """One count vector being raised: its grid and multipliers where it stopped."""

    key: tuple[int, ...]
    grid: CellTables
    u: np.ndarray
    pi: np.ndarray
    rounds: int = 0


def _round(t: DualTables, v: _Vector, target: float, deadline: float | None) -> float:
    """One round on vector ``v``: the ascent from where it stopped, then a cut (into
    ``SPLIT`` parts) of the interval of every ES that attains the bound. Returns the
    ascent's bound (total ms)."""
    counts = np.array(v.key)
    value, v.u, v.pi = ascent(
        t,
        v.u,
        target,
        deadline=deadline,
        max_iter=MAX_ITER,
        pi0=v.pi,
        pi_floor=-np.inf,
        evaluate=lambda uu, pp, g=v.grid: vector_dual(g, uu, pp, counts),
    )
    won: dict[int, int] = {}
    vector_dual(v.grid, v.u, v.pi, counts, winners=won)
    v.grid = v.grid.split(won, SPLIT)
    v.rounds += 1
    return value


def tighten(
    t: DualTables,
    u: np.ndarray,
    pi: np.ndarray,
    counts: np.ndarray,
    target: float,
    *,
    deadline: float | None,
    rounds: int = 6,
) -> float:
    """The bound (total ms) of one count vector after ``rounds`` rounds (:func:`_round`)
    from ``(u, pi)`` on the grid of ``t``, or fewer if it reaches ``target``."""
    v = _Vector(tuple(int(c) for c in counts), CellTables.same_grid(t), u, pi)
    best = -np.inf
    while v.rounds < rounds and best < target:
        if deadline is not None and time.perf_counter() > deadline:
            break
        best = max(best, _round(t, v, target, deadline))
    return best


def refine(
    t: DualTables,
    u: np.ndarray,
    pi: np.ndarray,
    target: float,
    *,
    deadline: float | None,
    most: int = 500,
    max_rounds: int = MAX_ROUNDS,
) -> float:
    """The bound over all vectors (total ms) after raising the vectors whose bound at
    ``(u, pi)`` is below ``target``, always the lowest next, one round at a time.

    Parameters
    ----------
    t
        The tables of the bound over all vectors.
    u, pi
        Converged multipliers of the bound over all vectors; every vector starts there.
    target
        Total ms (e.g. the incumbent less the requested gap): a vector whose bound reaches
        it is closed.
    deadline
        ``time.perf_counter()`` value to stop at, or ``None``.
    most
        Most vectors listed; the rest keep their table bound.
    max_rounds
        Most rounds of one vector; the search stops when the lowest vector has had them.

    Returns
    -------
    float
        A proven lower bound (total ms) on every assignment, ``-inf`` when the vectors
        are too many to list.
    """
    found = listed(t, u, pi, target, most)
    if found is None:
        return -np.inf
    vectors, rest = found
    grid = CellTables.same_grid(t)
    heap = [(b, i, _Vector(key, grid, u, pi)) for i, (b, key) in enumerate(vectors)]
    heapq.heapify(heap)
    while heap and heap[0][0] < target and heap[0][2].rounds < max_rounds:
        if deadline is not None and time.perf_counter() > deadline:
            break
        b, i, v = heapq.heappop(heap)
        heapq.heappush(heap, (max(b, _round(t, v, target, deadline)), i, v))
    return min([target, rest, *(h[0] for h in heap)])
