"""The Lagrangian bound of the count-indexed model: pricing of count layers, count fixing.

Relax the assignment rows of the count-indexed model (multipliers ``u_i >= 0``, free for
users the rule forces) and the side rows (``mu_s >= 0``). What is left splits by ES: ES j
picks one count n (or none) and the n cheapest columns of layer (j, n) under the reduced
costs ``r_i(n) = c_ijn + u_i - sum_s mu_s gain_si``. With ``S_jn`` the sum of those n
smallest values,

    L(u, mu) = constant - sum_i u_i + sum_s mu_s need_s + sum_j min(0, min_n S_jn)

is a proven lower bound for every ``(u, mu)``; at the LP duals of the count-indexed model it
equals its LP bound (the per-ES problem has an integral hull).

``S_jn`` is never tabulated for all n. Every ``c_ijn`` is non-decreasing in n (bandwidth
and compute shares shrink, queues lengthen) and columns only disappear as n grows, so for
``a <= n <= b``

    S_jn >= min_{a <= k <= b} P_a(k),   P_a(k) = sum of the k smallest r_i(a),

one partial sort. Intervals of counts are refined best first, down to single counts where
the value matters.

**Count fixing.** With an upper bound ``UB`` (a feasible objective), a count n of ES j with
``L(u, mu) - min(0, min_n' S_jn') + S_jn >= UB`` cannot lead to a better solution: the
layer is dropped. Count 0 is dropped when ``L - min(0, min_n' S_jn') >= UB``.

Every multiplier vector gives a proven bound (the set-partitioning bound, at least the LP
bound); :func:`ascent` raises it by Polyak subgradient steps from any start, and
:func:`start_multipliers` gives a good start from an incumbent's congestion prices.
:func:`lagrangian_bound` runs the ascent on a built model when no incumbent is known.
"""

from __future__ import annotations

import dataclasses
import heapq
import time
from collections.abc import Callable

import numpy as np

from mecopt.formulations.count_indexed import CountIndexedModel
from mecopt.formulations.option_cost import LayerCosts

#: Counts per interval when a range is first split.
_FIRST_SPLIT = 24


@dataclasses.dataclass(frozen=True, eq=False)
class DualBound:
    """A Lagrangian bound and the counts that survive count fixing.

    Attributes
    ----------
    bound
        Proven lower bound on the interference-free optimum (MILP units, ms).
    es_min
        (M,) lower bound on ``min(0, min_n S_jn)`` per ES.
    best_count
        (M,) the count attaining ``es_min`` (0 when staying empty is best).
    kept
        Per ES, the counts n >= 1 that count fixing keeps (``None`` without an upper bound).
    zero_kept
        (M,) bool: whether count 0 is kept.
    evaluations
        Number of partial sorts done.
    """

    bound: float
    es_min: np.ndarray
    best_count: np.ndarray
    kept: list[np.ndarray] | None
    zero_kept: np.ndarray | None
    evaluations: int


class _EsPricer:
    """Interval refinement of ``n -> S_jn`` for one ES."""

    def __init__(self, costs: LayerCosts, j: int, shift: np.ndarray) -> None:
        self.costs, self.j, self.shift = costs, j, shift
        self.top = int(min(costs.limit[j], costs.inst.n_users))
        self.evaluations = 0
        self.exact: dict[int, float] = {}

    def prefix(self, a: int, b: int) -> np.ndarray:
        """Prefix sums of the ``b`` smallest reduced costs at count ``a`` (inf-padded)."""
        self.evaluations += 1
        r = self.costs.relative(self.j, a) + self.shift
        r = r[np.isfinite(r)]
        k = min(b, r.size)
        if k == 0:
            return np.full(b, np.inf)
        part = np.partition(r, k - 1)[:k] if k < r.size else r
        p = np.cumsum(np.sort(part))
        return np.concatenate([p, np.full(b - k, np.inf)]) if k < b else p

    def lower(self, a: int, b: int) -> tuple[float, int]:
        """Lower bound on ``min_{a<=n<=b} S_jn`` and the count attaining it at ``a``."""
        if a == b and a in self.exact:
            return self.exact[a], a
        p = self.prefix(a, b)[a - 1:]
        k = int(np.argmin(p))
        if a == b:
            self.exact[a] = float(p[0])
        return float(p[k]), a + k

    def refine(self, threshold: float | None, hint: int = 0,
               max_kept: int | None = None) -> tuple[float, int, list[int] | None]:
        """Best first over intervals of [1, top].

        Returns the exact ``min(0, min_n S_jn)`` with its count and, if ``threshold`` is
        given, every count with ``S_jn < threshold``. ``hint`` (a count likely to be best,
        e.g. the previous call's) is evaluated first, so that fewer intervals are refined.
        With ``max_kept``, the search stops and returns ``None`` for the counts as soon as
        more than that many are kept.
        """
        if self.top < 1:
            return 0.0, 0, []
        best, best_n = 0.0, 0
        if 1 <= hint <= self.top:
            value = self.lower(hint, hint)[0]
            if value < best:
                best, best_n = value, hint
        heap: list[tuple[float, int, int]] = []
        step = max(1, -(-self.top // _FIRST_SPLIT))
        for a in range(1, self.top + 1, step):
            b = min(a + step - 1, self.top)
            heapq.heappush(heap, (self.lower(a, b)[0], a, b))
        kept: list[int] = []
        limit = best if threshold is None else max(best, threshold)
        while heap:
            lb, a, b = heapq.heappop(heap)
            if lb >= limit:
                break
            if a == b:
                if lb < best:
                    best, best_n = lb, a
                if threshold is not None and lb < threshold:
                    kept.append(a)
                    if max_kept is not None and len(kept) > max_kept:
                        return best, best_n, None
                limit = best if threshold is None else max(best, threshold)
                continue
            mid = (a + b) // 2
            for lo_, hi_ in ((a, mid), (mid + 1, b)):
                heapq.heappush(heap, (self.lower(lo_, hi_)[0], lo_, hi_))
        return best, best_n, sorted(kept)


def _shift(costs: LayerCosts, u: np.ndarray, mu: np.ndarray) -> np.ndarray:
    shift = np.asarray(u, dtype=float).copy()
    if costs.side:
        shift -= np.asarray(mu, dtype=float) @ costs.side_gain()
    return shift


def dual_bound(costs: LayerCosts, u: np.ndarray, mu: np.ndarray | None = None,
               upper: float | None = None, hint: np.ndarray | None = None,
               max_kept: int | None = None) -> DualBound:
    """Lagrangian bound at ``(u, mu)`` and, given ``upper``, the counts that survive.

    Parameters
    ----------
    costs
        Layer costs of the interference-free instance.
    u
        (N,) assignment-row multipliers (``>= 0`` for users not forced; others free).
    mu
        (S,) side-row multipliers ``>= 0``; default zeros.
    upper
        Objective (MILP units) of a feasible assignment, for count fixing.
    hint
        (M,) counts likely to be best per ES (speeds the search up, changes no value).
    max_kept
        Give up count fixing (``kept = None``) once an ES keeps more counts than this.

    Returns
    -------
    DualBound
    """
    inst = costs.inst
    u = np.where(costs.forced, u, np.maximum(u, 0.0))
    mu = np.zeros(len(costs.side)) if mu is None else np.maximum(np.asarray(mu, float), 0.0)
    shift = _shift(costs, u, mu)
    base = costs.constant - float(u.sum()) + float(mu @ costs.side_need())
    pricers = [_EsPricer(costs, j, shift) for j in range(inst.n_servers)]
    es_min = np.zeros(inst.n_servers)
    best_n = np.zeros(inst.n_servers, dtype=np.int64)
    for j, p in enumerate(pricers):
        es_min[j], best_n[j], _ = p.refine(None, 0 if hint is None else int(hint[j]))
    bound = base + float(es_min.sum())
    kept = zero = None
    if upper is not None and np.isfinite(upper):
        kept, zero = [], np.zeros(inst.n_servers, dtype=bool)
        for j, p in enumerate(pricers):
            rest = bound - es_min[j]
            threshold = upper - rest
            zero[j] = 0.0 < threshold
            counts = p.refine(threshold, max_kept=max_kept)[2]
            if counts is None:
                kept = None
                break
            kept.append(np.asarray(counts, dtype=np.int64))
    return DualBound(bound=bound, es_min=es_min, best_count=best_n, kept=kept, zero_kept=zero,
                     evaluations=sum(p.evaluations for p in pricers))


def layer_values(costs: LayerCosts, u: np.ndarray, mu: np.ndarray | None,
                 j: int, counts: np.ndarray) -> np.ndarray:
    """Exact ``S_jn`` for the given counts of ES ``j`` (``inf`` where the layer is empty)."""
    u = np.where(costs.forced, u, np.maximum(u, 0.0))
    mu = np.zeros(len(costs.side)) if mu is None else np.maximum(np.asarray(mu, float), 0.0)
    p = _EsPricer(costs, j, _shift(costs, u, mu))
    return np.array([p.lower(int(n), int(n))[0] for n in counts])


def chosen_users(costs: LayerCosts, u: np.ndarray, mu: np.ndarray | None,
                 db: DualBound) -> list[np.ndarray]:
    """Per ES, the users of the relaxation's solution at ``(u, mu)`` (empty if count 0)."""
    inst = costs.inst
    u = np.where(costs.forced, u, np.maximum(u, 0.0))
    mu = np.zeros(len(costs.side)) if mu is None else np.maximum(np.asarray(mu, float), 0.0)
    shift = _shift(costs, u, mu)
    out = []
    for j in range(inst.n_servers):
        n = int(db.best_count[j])
        if n < 1 or db.es_min[j] >= 0:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        r = costs.relative(j, n) + shift
        ok = np.flatnonzero(np.isfinite(r))
        out.append(ok[np.argpartition(r[ok], n - 1)[:n]] if n < ok.size else ok)
    return out


def start_multipliers(costs: LayerCosts, assignment: np.ndarray,
                      mu: np.ndarray | None = None) -> np.ndarray:
    """Multipliers ``u`` from a good assignment: each user pays its best option at the
    assignment's counts plus the congestion it causes there.

    With ``n_j`` the counts and ``E_j = sum_{i on j} (c_ij(n_j + 1) - c_ij(n_j))`` the extra
    cost one more user puts on ES j's users, ``pi_i = min(local_i, min_j c_ij(n_j) + E_j -
    sum_s mu_s gain_si)`` and ``u_i = local_i - pi_i``.
    """
    inst = costs.inst
    a = np.asarray(assignment)
    counts = np.bincount(a[a >= 0], minlength=inst.n_servers)
    best = np.where(costs.forced, np.inf, costs.local)
    for j in range(inst.n_servers):
        n = max(int(counts[j]), 1)
        if n > costs.limit[j]:
            continue
        here = costs.offload(j, n)
        nxt = costs.offload(j, n + 1) if n + 1 <= costs.limit[j] else here
        on = a == j
        with np.errstate(invalid="ignore"):
            ext = float((nxt - here)[on].sum()) if on.any() else 0.0
        cand = here + (ext if np.isfinite(ext) else 0.0)
        best = np.minimum(best, np.where(np.isfinite(cand), cand, np.inf))
    if mu is not None and costs.side:
        best = best - np.asarray(mu, float) @ costs.side_gain()
    pi = np.minimum(np.where(np.isfinite(best), best, costs.local),
                    np.where(costs.forced, np.inf, costs.local))
    return costs.local - pi


def ascent(costs: LayerCosts, u: np.ndarray, mu: np.ndarray | None, upper: float, *,
           deadline: float | None = None, max_iter: int = 300,
           progress: Callable[[float], None] | None = None,
           stats: dict[str, int] | None = None,
           steps: tuple[float, int, float] = (1.0, 8, 1e-5),
           ) -> tuple[DualBound, np.ndarray, np.ndarray]:
    """Subgradient ascent (Polyak steps towards ``upper``) on the Lagrangian dual.

    ``steps`` is ``(theta, patience, smallest theta)``: the step factor starts at
    ``theta``, halves after ``patience`` iterations without a better bound, and the ascent
    stops below the smallest. Returns the best :class:`DualBound` and its multipliers
    ``(u, mu)``; ``stats``, when given, receives the number of ``iterations`` run.
    """
    inst = costs.inst
    forced = costs.forced
    gain = costs.side_gain()
    need = costs.side_need()
    mu = np.zeros(len(costs.side)) if mu is None else np.asarray(mu, float)
    u = np.where(forced, u, np.maximum(u, 0.0))
    best = dual_bound(costs, u, mu)
    best_u, best_mu = u, mu
    (theta, patience, min_theta), stall = steps, 0
    for it in range(max_iter):
        if stats is not None:
            stats["iterations"] = it + 1
        if deadline is not None and time.perf_counter() >= deadline:
            break
        if best.bound >= upper - 1e-9 * max(1.0, abs(upper)):
            break  # the bound meets the incumbent: nothing left to prove
        db = dual_bound(costs, u, mu, hint=best.best_count)
        if db.bound > best.bound + 1e-12 * max(1.0, abs(best.bound)):
            best, best_u, best_mu, stall = db, u, mu, 0
            if progress is not None:
                progress(best.bound)
        else:
            stall += 1
            if stall >= patience:
                theta, stall = theta / 2.0, 0
                if theta < min_theta:
                    break
        sets = chosen_users(costs, u, mu, db)
        times = np.zeros(inst.n_users)
        for users in sets:
            times[users] += 1.0
        g_u = times - 1.0
        g_u = np.where(~forced & (u <= 0) & (g_u < 0), 0.0, g_u)
        g_mu = need - gain @ times if gain.size else np.zeros(0)
        g_mu = np.where((mu <= 0) & (g_mu < 0), 0.0, g_mu)
        norm = float(g_u @ g_u + g_mu @ g_mu)
        if norm == 0.0:
            break
        step = theta * max(upper - db.bound, 1e-9 * max(1.0, abs(upper))) / norm
        u = u + step * g_u
        u = np.where(forced, u, np.maximum(u, 0.0))
        mu = np.maximum(mu + step * g_mu, 0.0)
    return best, best_u, best_mu


@dataclasses.dataclass(frozen=True)
class LagrangianResult:
    """Outcome of :func:`lagrangian_bound`.

    Attributes
    ----------
    bound
        Best proven lower bound on the total cost (MILP units, ms).
    counts
        (M,) the count vector chosen by the relaxation at the best multipliers.
    iterations
        Subgradient iterations run.
    """

    bound: float
    counts: np.ndarray
    iterations: int


def lagrangian_bound(model: CountIndexedModel, upper: float, *, time_budget: float = 5.0,
                     max_iter: int = 500) -> LagrangianResult:
    """Subgradient ascent on the Lagrangian dual of ``model``'s instance from zero
    multipliers (for when no incumbent gives :func:`start_multipliers`).

    Parameters
    ----------
    model
        The count-indexed model (its instance is priced; the columns are the same).
    upper
        An upper bound on the optimum (a feasible objective, MILP units), for the steps.
    time_budget
        Wall-clock seconds.
    max_iter
        Largest number of iterations.

    Returns
    -------
    LagrangianResult
    """
    costs = LayerCosts.of(model.instance)
    stats: dict[str, int] = {"iterations": 0}
    # From zero multipliers the ascent has further to go: larger, more patient steps.
    best, _, _ = ascent(costs, np.zeros(model.instance.n_users), None, upper,
                        deadline=time.perf_counter() + time_budget, max_iter=max_iter,
                        stats=stats, steps=(2.0, 15, 1e-4))
    return LagrangianResult(bound=best.bound, counts=best.best_count.astype(np.int64),
                            iterations=stats["iterations"])
