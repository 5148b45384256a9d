"""Count vectors with interference intervals: exact for ``"other-cells"`` (formulation
``"count-intervals"``).

1. **List.** For a count vector ``n`` (``T`` users offloaded), the interference at ES j is
   at least ``lo_j``, the sum of the ``T - n_j`` smallest received powers there
   (:func:`mecopt.formulations.interference_counts.interference_range`). Priced at
   ``lo_j``, the fixed-count problem without side rows is a transportation problem, an
   exact assignment problem (:func:`scipy.optimize.linear_sum_assignment`), and a lower
   bound for the vector. Every vector is first bounded separably (each ES takes its
   ``n_j`` cheapest users, numpy over all vectors), then by the assignment problem; the
   ones below the threshold ``incumbent (1 - gap / 2)`` are kept, lowest bound first.
2. **Settle.** A vector gets the LP of its fixed-count interval model
   (:mod:`mecopt.formulations.interference_counts`) on a coarse grid of
   ``LP_INTERVALS`` intervals per ES; if that is still below the threshold, the MILP on
   ``MILP_INTERVALS`` intervals with the threshold as HiGHS cutoff. A MILP solution below
   the threshold is scored by the evaluator (it may become the incumbent, which lowers
   the threshold); a breakpoint goes in at its true interference at every used ES, and the
   MILP runs again, until it finds nothing below the threshold or its solution is priced
   at its true cost (then it is the vector's optimum).

The bound is the smallest of the threshold (less the vector MILPs' relative gap), the
bounds of vectors left open and the listing bounds of vectors not reached: every vector
not listed or pruned has a bound at or above the threshold, and a settled vector's optimum
is an assignment's true objective. On kim2026 (M = 4) at N = 30 the optimum offloads
everyone, about 30-500 vectors are listed, and most are settled by one LP or one MILP.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment

from mecopt.evaluate import evaluate
from mecopt.formulations import interference_counts as ic
from mecopt.formulations.count_indexed import MS, local_cost, must_offload
from mecopt.formulations.interference_bound import min_interference
from mecopt.formulations.interference_intervals import (
    breakpoint_for,
    true_interference,
)
from mecopt.formulations.layers import LayerCosts
from mecopt.formulations.pricing import start_multipliers
from mecopt.instance import Instance
from mecopt.solvers.highs_matrix import solve_matrix

#: Intervals per ES of the LP that screens a vector.
LP_INTERVALS = 4
#: Intervals per ES of a vector's MILP (before refinement).
MILP_INTERVALS = 16
#: Share of the requested gap the pruning threshold sits below the incumbent.
THRESHOLD_SHARE = 0.5
#: Relative gap of a vector's MILP.
VECTOR_MIP_GAP = 1e-7
#: Most count vectors (all, before any bound) the listing forms; above, it does not start.
MAX_VECTORS = 2_000_000
#: Most vectors kept after the bounds; above, the search does not start.
MAX_LISTED = 100_000
#: Relative distance under which a breakpoint counts as one already there.
SAME_BREAK = 1e-9
#: Stand-in for an impossible assignment-problem entry.
_BIG = 1e12


@dataclasses.dataclass
class VectorSearch:
    """Outcome of :func:`search`.

    Attributes
    ----------
    started
        False when the listing was too large: nothing else is set.
    assignment, objective
        The best assignment found and its true objective (mean, s).
    bound
        Proven lower bound (mean, s); ``-inf`` if unknown.
    complete
        Every listed vector was settled.
    infeasible
        Complete without any feasible assignment: no count vector has one.
    info
        Vectors listed, LPs, MILPs, vectors settled.
    """

    started: bool
    assignment: np.ndarray | None = None
    objective: float = math.inf
    bound: float = -math.inf
    complete: bool = False
    infeasible: bool = False
    info: dict[str, int] = dataclasses.field(default_factory=dict)


def all_vectors(inst: Instance) -> np.ndarray | None:
    """(V, M) every count vector (``n_j <= count_limit_j``, ``sum <= N``, at least the
    users that must offload), or ``None`` if there are more than ``MAX_VECTORS``."""
    n_users, n_es = inst.n_users, inst.n_servers
    limit = np.minimum(inst.count_limit.astype(np.int64), n_users)
    if math.comb(n_users + n_es, n_es) > MAX_VECTORS:
        return None
    vecs = np.zeros((1, 0), dtype=np.int64)
    for j in range(n_es):
        k = np.arange(int(limit[j]) + 1)
        vecs = np.hstack([np.repeat(vecs, k.size, axis=0), np.tile(k, vecs.shape[0])[:, None]])
        vecs = vecs[vecs.sum(axis=1) <= n_users]
    need = int(must_offload(inst).sum())
    return vecs[vecs.sum(axis=1) >= need]


class _Costs:
    """Layer costs at the least interference, cached by (ES, interferers)."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.imin = min_interference(inst)
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    def table(self, j: int, m: int) -> np.ndarray:
        """(N, L) costs on ES ``j`` with ``m`` interferers (:func:`ic.reduced_costs`)."""
        if (j, m) not in self._cache:
            self._cache[(j, m)] = ic.reduced_costs(self.inst, j, float(self.imin[j, m]))
        return self._cache[(j, m)]

    def at(self, j: int, n: int, m: int) -> np.ndarray:
        """(N,) costs of ES ``j`` holding ``n`` users with ``m`` interferers."""
        return self.table(j, m)[:, n - 1]


def _separable(inst: Instance, costs: _Costs, vecs: np.ndarray,
               u: np.ndarray | None = None) -> np.ndarray:
    """(V,) Lagrangian bound (ms, relative) at user multipliers ``u`` (``u_i >= 0`` unless
    user i must offload; default 0): each ES takes its ``n_j`` cheapest users at ``lo_j``,
    each user priced up by ``u_i``, and ``sum_i u_i`` is taken off."""
    n_users = inst.n_users
    total = vecs.sum(axis=1)
    shift = np.zeros(n_users) if u is None else np.asarray(u, dtype=float)
    out = np.full(vecs.shape[0], -float(shift.sum()))
    for j in range(inst.n_servers):
        top = int(vecs[:, j].max(initial=0))
        table = np.full((top + 1, n_users + 1), np.inf)
        table[0, :] = 0.0
        for m in range(n_users + 1):
            n = np.arange(1, min(top, n_users - m) + 1)
            if n.size == 0:
                continue
            with np.errstate(invalid="ignore"):
                prefix = np.cumsum(np.sort(costs.table(j, m)[:, n - 1] + shift[:, None],
                                           axis=0), axis=0)
            table[n, m] = np.where(np.isfinite(prefix[n - 1, n - 1]), prefix[n - 1, n - 1],
                                   np.inf)
        out += table[vecs[:, j], total - vecs[:, j]]
    return out


def _transport(inst: Instance, costs: _Costs, counts: np.ndarray, stay: np.ndarray) -> float:
    """Exact fixed-count bound at ``lo_j`` without side rows (ms, relative; ``inf`` if
    no assignment has these counts)."""
    total = int(counts.sum())
    cols = []
    for j, n in enumerate(counts.tolist()):
        if n:
            cols += [costs.at(j, n, total - n)] * n
    if total < inst.n_users:
        cols += [np.where(stay, 0.0, np.inf)] * (inst.n_users - total)
    if not cols:
        return 0.0
    mat = np.stack(cols, axis=1)
    mat = np.where(np.isfinite(mat), mat, _BIG)
    r, c = linear_sum_assignment(mat)
    value = float(mat[r, c].sum())
    return math.inf if value >= _BIG / 2 else value


def listing(inst: Instance, threshold: float, deadline: float | None = None,
            u: np.ndarray | None = None) -> tuple[list[tuple[float, np.ndarray]], bool]:
    """Count vectors whose bound (ms, relative to all local) is below ``threshold``.

    Parameters
    ----------
    u
        User multipliers of the separable screen (see :func:`_separable`; any valid
        ones keep it a bound, good ones make it tight).

    Returns
    -------
    vectors, started
        ``(bound, counts)`` sorted by bound, and False when there are too many vectors (or
        the deadline passed) to list them.
    """
    vecs = all_vectors(inst)
    if vecs is None:
        return [], False
    costs = _Costs(inst)
    sep = _separable(inst, costs, vecs, u)
    keep = np.flatnonzero(sep < threshold)
    if keep.size > MAX_LISTED:
        return [], False
    stay = ~must_offload(inst)
    out = []
    for v in keep[np.argsort(sep[keep], kind="stable")]:
        if deadline is not None and time.perf_counter() > deadline:
            return [], False
        value = _transport(inst, costs, vecs[v], stay)
        if value < threshold:
            out.append((value, vecs[v]))
    out.sort(key=lambda t: t[0])
    return out, True


def search(inst: Instance, starts: list[np.ndarray], *, deadline: float | None, gap: float,
           threads: int = 1, seed: int = 0,
           report: Callable[[float | None, float | None], None] | None = None,
           ) -> VectorSearch:
    """List and settle count vectors (see the module docstring).

    Parameters
    ----------
    inst
        An ``"other-cells"`` instance.
    starts
        Known assignments; the best feasible one is the first incumbent. Without one,
        every vector with a finite listing bound is listed (infeasibility is then proven
        when none has an answer).
    deadline
        ``time.perf_counter()`` value to stop at, or ``None``.
    gap
        Relative gap the search closes (the threshold sits ``THRESHOLD_SHARE gap`` below
        the incumbent).
    threads, seed
        Passed to HiGHS.
    report
        Called with (incumbent, bound), mean objective in s.
    """
    scale = MS * inst.n_users
    base = float(local_cost(inst).sum() * MS)
    state = {"a": None, "obj": math.inf}

    def offer(a: np.ndarray) -> None:
        m = evaluate(inst, a)
        if m.feasible and m.objective < state["obj"]:
            state["a"], state["obj"] = np.asarray(a), m.objective

    for a in starts:
        offer(a)

    def cut() -> float:
        """The pruning threshold, total ms (``inf`` until an answer is known)."""
        return state["obj"] * (1.0 - THRESHOLD_SHARE * gap) * scale

    u = None
    if state["a"] is not None:
        free = LayerCosts.of(inst.replace(interference="none"))
        u = start_multipliers(free, state["a"])
        u = np.where(free.forced, u, np.maximum(u, 0.0))
    vectors, started = listing(inst, cut() - base, deadline, u)
    if not started:
        return VectorSearch(started=False)
    out = VectorSearch(started=True, info={"vectors": len(vectors), "lps": 0, "milps": 0,
                                           "settled": 0})
    left_open: list[float] = []

    def bound(nxt: int) -> float:
        """The proven bound (mean, s) with vectors ``nxt`` on not reached. A vector a MILP
        pruned is proven only to ``cut (1 - VECTOR_MIP_GAP)``; the rest of the list is
        sorted, so its first vector has the smallest listing bound."""
        rest = [vectors[nxt][0] + base] if nxt < len(vectors) else []
        return min([cut() * (1.0 - VECTOR_MIP_GAP), *left_open, *rest]) / scale

    out.bound = bound(len(vectors))
    for idx, (value, counts) in enumerate(vectors):
        if value + base >= cut():
            continue
        if deadline is not None and time.perf_counter() >= deadline:
            out.bound = bound(idx)
            break
        extra: list[list[float]] = [[] for _ in range(inst.n_servers)]
        a0 = state["a"]
        if a0 is not None and np.array_equal(
                np.bincount(a0[a0 >= 0], minlength=inst.n_servers), counts):
            level = true_interference(inst, a0)
            extra = [[breakpoint_for(inst, j, level[j])] for j in range(inst.n_servers)]
        v = _settle(inst, counts, value + base, cut, extra, deadline, threads, seed, out,
                    offer)
        if v is None:
            out.info["settled"] += 1
        elif v < cut():
            left_open.append(v)
        out.bound = bound(idx + 1)
        if report is not None:
            report(state["obj"], out.bound)
    out.assignment, out.objective = state["a"], state["obj"]
    out.complete = not left_open and out.bound >= cut() * (1.0 - VECTOR_MIP_GAP) / scale
    out.infeasible = out.complete and state["a"] is None
    if report is not None:
        report(out.objective, out.bound)
    return out


def _settle(inst: Instance, counts: np.ndarray, value: float, cut: Callable[[], float],
            extra: list[list[float]], deadline: float | None, threads: int, seed: int,
            out: VectorSearch, offer: Callable[[np.ndarray], None]) -> float | None:
    """Settle one vector: ``None`` when its optimum is at or above the threshold (or
    offered as an answer), else its best bound (total ms) when the deadline came."""

    def left() -> float | None:
        return None if deadline is None else max(deadline - time.perf_counter(), 1e-3)

    if not counts.any():
        offer(np.full(inst.n_users, -1, dtype=np.int64))  # the one all-local answer
        return None
    model = ic.build(inst, counts, ic.grid(inst, counts, LP_INTERVALS, extra))
    if model.infeasible_reason:
        return None
    n = model.c.size
    out.info["lps"] += 1
    s = solve_matrix(model.c, model.constant, model.a, model.row_lo, model.row_hi,
                     np.zeros(n), np.ones(n), None, time_limit=left(), threads=threads,
                     seed=seed)
    if s.status == "infeasible":
        return None
    if s.status == "optimal" and s.objective is not None:
        value = max(value, s.objective)
    if value >= cut():
        return None
    while deadline is None or time.perf_counter() < deadline:
        model = ic.build(inst, counts, ic.grid(inst, counts, MILP_INTERVALS, extra))
        n = model.c.size
        out.info["milps"] += 1
        s = solve_matrix(model.c, model.constant, model.a, model.row_lo, model.row_hi,
                         np.zeros(n), np.ones(n), model.integer, time_limit=left(),
                         threads=threads, seed=seed, mip_rel_gap=VECTOR_MIP_GAP,
                         cutoff=cut(), presolve=False)
        if s.status == "infeasible":
            return None
        below = s.x is not None and s.objective is not None and s.objective < cut()
        if s.status == "optimal":
            if not below:
                return None
            value = max(value, s.objective * (1.0 - VECTOR_MIP_GAP))
        elif s.bound is not None:
            value = max(value, s.bound)
        if not below:
            return value
        a = model.decode(s.x)
        offer(a)
        level = true_interference(inst, a)
        added = 0
        for j in np.flatnonzero(counts > 0):
            b = breakpoint_for(inst, int(j), float(level[j]))
            if not any(abs(b - o) <= SAME_BREAK * max(o, 1e-300) for o in
                       [*extra[j], *model.breaks[j]]):
                extra[j].append(b)
                added += 1
        if s.status == "optimal" and added == 0:
            return None
        if value >= cut():
            return None
    return value
