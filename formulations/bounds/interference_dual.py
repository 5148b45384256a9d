"""A Lagrangian bound for ``"other-cells"`` interference in which every ES sees its own
interference exactly: the users it serves and the users it claims are local do not
interfere, everyone else does.

With ``r_kj = P_k g_kj`` and ``R_j = sum_k r_kj``, ES j's interference is

    I_j = R_j - r(S_j) - r(Λ),

``S_j`` its own users and ``Λ`` the local users. Give every ES its own copy ``Λ_j`` of the
local set (``|Λ_j| = N - T`` when T users offload) and relax ``Λ_j = Λ`` (equal sizes,
so inclusion is equality) with prices ``pi_kj`` of any sign (ES j pays ``pi_kj`` to
treat user k as local; a user that is local collects ``sum_j pi_kj``), and the
assignment rows ``l_i + sum_j z_ij = 1`` with free ``u_i``. For a fixed number T of
offloaded users the problem splits into

- the local part: the ``N - T`` smallest ``u_k - sum_j pi_kj`` over users that may stay
  local;
- one problem per ES and count n: choose ``S`` (``|S| = n``) and ``Λ_j`` (``|Λ_j| = N - T``)
  to minimise ``sum_{i in S} (c_ij(n, I_j) - c^L_i + u_i) + sum_{k in Λ_j} pi_kj``.

The ES problem is bounded below interval by interval: cut ``[0, R_j]`` at
``0 = b_0 < b_1 < ... < R_j``; in interval a every cost is at least its value at ``b_a``
(costs grow with the interference), and ``I_j <= b_a+1`` means ``r(S) + r(Λ_j) >= R_j -
b_a+1``, a covering row relaxed with ``theta >= 0``:

    V_j(n, T) >= min_a max_theta [ sum of the n smallest (c_ij(n, b_a) - c^L_i + u_i - theta r_ij)
                                   + sum of the N - T smallest (pi_kj - theta r_kj)
                                   + theta (R_j - b_a+1) ],

an interval being skipped when even the weakest ``T - n`` interferers exceed its upper end.
The ESs are joined by a min-plus convolution over counts with ``sum_j n_j = T``, and the
bound is the minimum over T. Every ``u``, ``pi`` and ``theta >= 0`` gives a proven
lower bound; side rows (accuracy target, hallucination cap) are dropped, which only
relaxes. The multipliers are raised by a bundle method (cutting planes in a box around
the best point) from the incumbent's congestion prices; with ``pi = 0`` the bound is the
interference-aware bound of :mod:`mecopt.formulations.bounds.interference`, up to the grid.

Cost per evaluation: O(M K G N^2 log N) for K intervals and G values of theta.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor

import numpy as np
from scipy.optimize import linprog

from mecopt.formulations.interference.geometry import interval_costs, interval_ends, received
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import local_cost, must_offload
from mecopt.instance import Instance

#: Geometric intervals per ES over its whole range (besides ``[0, b_1]``).
INTERVALS = 24
#: Extra interval ends near a focus level (the incumbent's interference).
FOCUS_INTERVALS = 48
#: Values of theta tried per interval (one of them 0).
THETAS = 8
#: Largest N the bound is computed for.
MAX_USERS = 200
#: Relative safety margin taken off the bound (floating point).
SAFETY = 1e-9


@dataclasses.dataclass(frozen=True, eq=False)
class DualTables:
    """Everything of an instance the bound needs that does not depend on the multipliers.

    Attributes
    ----------
    inst
        The instance.
    rx
        (N, M) received powers ``r_kj`` (W).
    total
        (M,) ``R_j``.
    upper
        Per ES, (K,) the upper end of every interval (the last is ``R_j``).
    costs
        Per ES, (K, N, L) cost (ms, relative to local) at each interval's lower end.
    imin
        (N + 1, M) sum of the m weakest received powers at each ES.
    stay
        Indices of the users that may stay local.
    thetas
        (G,) the theta values, ms per W.
    base
        The all-local cost, ms.
    """

    inst: Instance
    rx: np.ndarray
    total: np.ndarray
    upper: tuple[np.ndarray, ...]
    costs: tuple[np.ndarray, ...]
    imin: np.ndarray
    stay: np.ndarray
    thetas: np.ndarray
    base: float

    @classmethod
    def of(
        cls,
        inst: Instance,
        intervals: int = INTERVALS,
        thetas: int = THETAS,
        focus: np.ndarray | None = None,
        focus_intervals: int = FOCUS_INTERVALS,
    ) -> DualTables:
        """Tables of ``inst`` (read as ``"other-cells"``).

        ``focus`` (M,), e.g. the incumbent's interference, adds ``focus_intervals``
        geometric interval ends within a factor ``FOCUS_SPAN`` of it at every ES, where
        the bound needs the finest grid (any ends keep it a bound).
        """
        rx = received(inst)
        total = rx.sum(axis=0)
        upper, costs = [], []
        for j, ends in enumerate(interval_ends(inst, total, focus, intervals, focus_intervals)):
            upper.append(np.append(ends[1:], total[j]))
            costs.append(np.stack([interval_costs(inst, j, float(b)) for b in ends]))
        rs = np.sort(rx, axis=0)
        imin = np.vstack([np.zeros((1, inst.n_servers)), np.cumsum(rs, axis=0)])
        positive = rx[rx > 0]
        scale = (
            float(np.mean(inst.local_delay))
            * MS
            / (float(np.median(positive)) if positive.size else 1.0)
        )
        grid = np.concatenate([[0.0], scale * np.geomspace(1e-3, 1e2, thetas - 1)])
        return cls(
            inst=inst,
            rx=rx,
            total=total,
            upper=tuple(upper),
            costs=tuple(costs),
            imin=imin,
            stay=np.flatnonzero(~must_offload(inst)),
            thetas=grid,
            base=float(local_cost(inst).sum() * MS),
        )


def _es_values(
    t: DualTables, j: int, u: np.ndarray, pi_j: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(N + 1, N + 1) lower bounds ``V_j[n, T]`` and the interval of each."""
    n_users = t.inst.n_users
    first = n_users - t.stay.size
    best = np.full((n_users + 1, n_users + 1 - first), np.inf)
    best_a = np.zeros(best.shape, np.int64)
    for a, v in interval_values(t, j, u, pi_j):
        upd = v < best
        best = np.where(upd, v, best)
        best_a = np.where(upd, a, best_a)
    out = np.full((n_users + 1, n_users + 1), np.inf)
    out_a = np.zeros(out.shape, np.int64)
    out[:, first:], out_a[:, first:] = best, best_a
    return out, out_a


def interval_values(
    t: DualTables, j: int, u: np.ndarray, pi_j: np.ndarray
) -> Iterator[tuple[int, np.ndarray]]:
    """Per interval ``a`` of ES ``j`` (those some cell may use), the lower bounds
    ``V_j[n, T]`` of the assignments whose interference at ES j lies in interval ``a``:
    ``(a, (N + 1, N + 1 - first))`` for ``T = first..N`` (``first`` the fewest users that
    can offload), ``inf`` where impossible."""
    n_users = t.inst.n_users
    th = t.thetas
    r = t.rx[:, j]
    big = np.inf
    first = n_users - t.stay.size  # fewer offloaded users is impossible
    total = np.arange(first, n_users + 1)
    counts = np.arange(n_users + 1)
    # Claimed-local part: g_l[g, m] = sum of the m smallest pi_kj - theta_g r_kj.
    base_claim = pi_j[None, :] - th[:, None] * r[None, :]  # (G, N)
    g_l = np.concatenate(
        [np.zeros((th.size, 1)), np.cumsum(np.sort(base_claim, axis=1), axis=1)], axis=1
    )
    claim = g_l[:, n_users - total]  # (G, T)
    m = total[None, :] - counts[:, None]
    valid = m >= 0
    weakest = np.where(valid, t.imin[np.clip(m, 0, n_users), j], big)
    for a in range(t.costs[j].shape[0]):
        ok = valid & (t.upper[j][a] >= weakest * (1 - 1e-12))
        if not ok.any():
            continue
        table = t.costs[j][a] + u[:, None]  # (N, L)
        top = table.shape[1]
        diag = np.arange(top)
        own = table[None, :, :] - th[:, None, None] * r[None, :, None]  # (G, N, L)
        with np.errstate(invalid="ignore"):
            ranked = np.sort(own, axis=1)
            prefix = np.cumsum(ranked, axis=1)
        g_s = np.full((th.size, n_users + 1), big)
        g_s[:, 0] = 0.0
        g_s[:, 1 : top + 1] = prefix[:, diag, diag]
        # Claimed locals disjoint from the own users: with nu_n the n-th smallest own
        # value, claiming user k costs pi_kj - theta r_kj - min(own_k - nu_n, 0) (an own
        # user gives up its surplus); any nu keeps this a bound of the disjoint choice.
        nu = np.where(np.isfinite(ranked[:, diag, diag]), ranked[:, diag, diag], 0.0)
        with np.errstate(invalid="ignore"):
            surplus = np.minimum(own - nu[:, None, :], 0.0)
            surplus = np.where(np.isnan(surplus), 0.0, surplus)
            extra = np.cumsum(np.sort(base_claim[:, :, None] - surplus, axis=1), axis=1)
        claim_n = np.full((th.size, n_users + 1, total.size), big)  # [g, n, T]
        claim_n[:, 0, :] = claim
        m_of_t = n_users - total
        has = m_of_t > 0
        claim_n[:, 1 : top + 1, :] = np.where(
            has[None, None, :],
            np.transpose(extra[:, np.clip(m_of_t - 1, 0, n_users - 1), :], (0, 2, 1)),
            0.0,
        )
        with np.errstate(invalid="ignore"):
            val = g_s[:, :, None] + claim_n + (th * (t.total[j] - t.upper[j][a]))[:, None, None]
        # A theta whose value is undefined gives no bound: -inf, never +inf.
        v = np.where(np.isnan(val), -big, val).max(axis=0)
        yield a, np.where(ok, v, big)


def _theta_index(
    t: DualTables, j: int, a: int, n: int, total: int, u: np.ndarray, pi_j: np.ndarray
) -> int:
    """The theta that attains ``V_j[n, total]`` in interval ``a`` (for the subgradient)."""
    n_users = t.inst.n_users
    th = t.thetas
    r = t.rx[:, j]
    m = n_users - total
    claim = pi_j[None, :] - th[:, None] * r[None, :]  # (G, N)
    value = th * (t.total[j] - t.upper[j][a])
    with np.errstate(invalid="ignore"):
        if n > 0:
            own = t.costs[j][a][:, n - 1][None, :] + u[None, :] - th[:, None] * r[None, :]
            ranked = np.sort(own, axis=1)
            value = value + ranked[:, :n].sum(axis=1)
            nu = np.where(np.isfinite(ranked[:, n - 1]), ranked[:, n - 1], 0.0)
            surplus = np.minimum(own - nu[:, None], 0.0)
            claim = claim - np.where(np.isnan(surplus), 0.0, surplus)
        if m > 0:
            value = value + np.sort(claim, axis=1)[:, :m].sum(axis=1)
    return int(np.argmax(np.where(np.isnan(value), -np.inf, value)))


def evaluate_dual(
    t: DualTables, u: np.ndarray, pi: np.ndarray, counts: np.ndarray | None = None,
    pool: Executor | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """The bound (total ms, absolute) at ``(u, pi)`` and a subgradient.

    Parameters
    ----------
    t
        The tables.
    u
        (N,) multipliers of the assignment rows (free).
    pi
        (N, M) prices of claiming a user local at an ES (any sign).
    counts
        (M,) a count vector: the bound of the assignments with these counts only
        (default: of all assignments).
    pool
        Threads to compute the ESs' tables on (numpy releases the interpreter in its
        sorts and sums), or ``None``.

    Returns
    -------
    value, grad_u, grad_pi
        ``value`` is ``inf`` when no count vector is possible.
    """
    inst = t.inst
    n_users, n_es = inst.n_users, inst.n_servers
    big = np.inf
    local_val = u[t.stay] - pi[t.stay].sum(axis=1)
    order = np.argsort(local_val, kind="stable")
    loc = np.concatenate([[0.0], np.cumsum(local_val[order])])
    if pool is None:
        per = [_es_values(t, j, u, pi[:, j]) for j in range(n_es)]
    else:
        per = list(pool.map(lambda j: _es_values(t, j, u, pi[:, j]), range(n_es)))
    best, choice = big, None
    if counts is not None:
        counts = np.asarray(counts, np.int64)
        total = int(counts.sum())
        m = n_users - total
        if 0 <= m <= t.stay.size:
            value = loc[m] + sum(float(per[j][0][counts[j], total]) for j in range(n_es))
            if value < big:
                best, choice = value, (total, counts)
    for total in range(n_users + 1 if counts is None else 0):
        m = n_users - total
        if m > t.stay.size:
            continue
        acc = per[0][0][: total + 1, total].copy()
        picks = []
        for j in range(1, n_es):
            vj = per[j][0][: total + 1, total]
            out = np.full(total + 1, big)
            pick = np.zeros(total + 1, np.int64)
            for b in np.flatnonzero(np.isfinite(vj)):
                cand = acc[: total + 1 - b] + vj[b]
                upd = cand < out[b:]
                out[b:] = np.where(upd, cand, out[b:])
                pick[b:] = np.where(upd, b, pick[b:])
            acc = out
            picks.append(pick)
        value = loc[m] + acc[total]
        if value < best:
            best = value
            counts = np.zeros(n_es, np.int64)
            rest = total
            for j in range(n_es - 1, 0, -1):
                counts[j] = picks[j - 1][rest]
                rest -= counts[j]
            counts[0] = rest
            choice = (total, counts)
    grad_u = -np.ones(n_users)
    grad_pi = np.zeros((n_users, n_es))
    if choice is None:
        return big, grad_u, grad_pi
    total, counts = choice
    m = n_users - total
    home = t.stay[order[:m]]
    grad_u[home] += 1.0
    grad_pi[home, :] -= 1.0
    for j in range(n_es):
        a = int(per[j][1][counts[j], total])
        th = t.thetas[_theta_index(t, j, a, int(counts[j]), total, u, pi[:, j])]
        r = t.rx[:, j]
        claim = pi[:, j] - th * r
        if counts[j] > 0:
            col = t.costs[j][a][:, counts[j] - 1] + u - th * r
            ranked = np.argsort(col, kind="stable")
            grad_u[ranked[: counts[j]]] += 1.0
            with np.errstate(invalid="ignore"):
                surplus = np.minimum(col - col[ranked[counts[j] - 1]], 0.0)
            claim = claim - np.where(np.isnan(surplus), 0.0, surplus)
        if m > 0:
            grad_pi[np.argsort(claim, kind="stable")[:m], j] += 1.0
    return t.base - float(u.sum()) + best, grad_u, grad_pi


def ascent(
    t: DualTables,
    u0: np.ndarray,
    target: float,
    *,
    deadline: float | None,
    max_iter: int = 60,
    box: float = 1.0,
    counts: np.ndarray | None = None,
    pi0: np.ndarray | None = None,
    pi_floor: float = 0.0,
    evaluate: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray, np.ndarray]]
    | None = None,
    pool: Executor | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Raise the bound by a bundle method: cutting planes of the evaluated points,
    maximised in a box around the best point (grown on good steps, shrunk on poor ones).

    Parameters
    ----------
    t
        The tables.
    u0
        (N,) starting ``u`` (for example congestion prices of the incumbent); ``pi``
        starts at 0.
    target
        An upper bound on the optimum (total ms), e.g. the incumbent: the search stops
        when the bound reaches it.
    deadline
        ``time.perf_counter()`` value to stop at, or ``None``.
    max_iter
        Most evaluations.
    box
        Starting half-width of the box (ms).
    counts
        (M,) bound only the assignments with these counts (see :func:`evaluate_dual`).
    pi0
        (N, M) starting ``pi`` (default 0).
    pi_floor
        Least ``pi`` the search tries (any ``pi`` gives a bound; 0 keeps the search
        space of the claims' inclusion rows, ``-inf`` that of their equality rows).
    evaluate
        ``(u, pi) -> (value, grad_u, grad_pi)`` in place of :func:`evaluate_dual` (any
        function whose every value is a bound, e.g. one vector's cells).
    pool
        Threads for :func:`evaluate_dual` (unused with ``evaluate``).

    Returns
    -------
    value, u, pi
        The best bound (total ms) and its multipliers.
    """
    n_users, n_es = t.inst.n_users, t.inst.n_servers
    dim = n_users * (1 + n_es)
    start_pi = np.zeros(n_users * n_es) if pi0 is None else np.ravel(pi0).astype(float)
    x = np.concatenate([np.asarray(u0, float), start_pi])
    if evaluate is None:

        def evaluate(uu: np.ndarray, pp: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            return evaluate_dual(t, uu, pp, counts, pool)

    lower = np.concatenate([np.full(n_users, -np.inf), np.full(n_users * n_es, pi_floor)])
    rows, rhs = [], []
    best, x_best, predicted = -np.inf, x.copy(), np.inf
    for _ in range(max_iter):
        if deadline is not None and time.perf_counter() > deadline:
            break
        value, gu, gp = evaluate(x[:n_users], x[n_users:].reshape(n_users, n_es))
        if not np.isfinite(value):
            return value, x[:n_users], x[n_users:].reshape(n_users, n_es)
        g = np.concatenate([gu, gp.ravel()])
        rows.append(np.append(-g, 1.0))
        rhs.append(value - g @ x)
        if value > best:
            if np.isfinite(best) and value - best < 0.1 * (predicted - best):
                box *= 0.5
            elif np.isfinite(best):
                box *= 1.5
            best, x_best = value, x.copy()
        else:
            box *= 0.5
        if best >= target or box < 1e-6:
            break
        lo = np.maximum(lower, x_best - box)
        hi = x_best + box
        c = np.zeros(dim + 1)
        c[-1] = -1.0
        res = linprog(
            c,
            A_ub=np.array(rows),
            b_ub=np.array(rhs),
            bounds=np.column_stack([np.append(lo, -np.inf), np.append(hi, np.inf)]),
            method="highs",
        )
        if res.status != 0 or res.x is None:
            break
        x, predicted = res.x[:dim], -float(res.fun)
    return best, x_best[:n_users], x_best[n_users:].reshape(n_users, n_es)


def dual_bound(
    inst: Instance,
    u0: np.ndarray,
    target: float,
    *,
    deadline: float | None,
    max_iter: int = 60,
    focus: np.ndarray | None = None,
) -> float | None:
    """Proven lower bound (mean objective, s) of an ``"other-cells"`` instance, or ``None``
    above ``MAX_USERS`` users.

    Parameters
    ----------
    inst
        The instance.
    u0
        (N,) starting multipliers of the assignment rows, MILP units (ms).
    target
        The incumbent's objective (mean, s); the ascent stops when the bound reaches it.
    deadline, max_iter
        As for :func:`ascent`.
    focus
        (M,) interference levels (W) to grid finely (:meth:`DualTables.of`), e.g. the
        incumbent's.
    """
    if inst.n_users > MAX_USERS:
        return None
    t = DualTables.of(inst, focus=focus)
    scale = MS * inst.n_users
    value, _, _ = ascent(t, u0, target * scale, deadline=deadline, max_iter=max_iter)
    if not np.isfinite(value):
        return None
    return value / scale - SAFETY * abs(value / scale)
