"""Formulation ``"count-intervals"``: count vectors with interference intervals, exact for
``"other-cells"``.

1. **List.** For a count vector ``n`` (``T`` users offloaded), the interference at ES j is
   at least ``lo_j``, the sum of the ``T - n_j`` smallest received powers there
   (:func:`mecopt.formulations.interference.geometry.interference_range`). Priced at
   ``lo_j``, the fixed-count problem without side rows is a transportation problem, an
   exact assignment problem (:func:`mecopt.formulations.fixed_count.transport`), and a lower
   bound for the vector. Every vector is first bounded separably (each ES takes its
   ``n_j`` cheapest users, numpy over all vectors), then by the assignment problem; the
   ones below the threshold ``incumbent (1 - gap / 2)`` are kept, lowest bound first.
2. **Settle.** A vector gets the LP of its fixed-count interval model
   (:mod:`mecopt.formulations.interference.count_intervals`) on a coarse grid of
   ``LP_INTERVALS`` intervals per ES; if that is still below the threshold, the MILP on
   ``MILP_INTERVALS`` intervals with the threshold as HiGHS cutoff. A MILP solution below
   the threshold is scored by the evaluator (it may become the incumbent, which lowers
   the threshold); a breakpoint goes in at its true interference at every used ES, and the
   MILP runs again, until it finds nothing below the threshold or its solution is priced
   at its true cost (then it is the vector's optimum).

The bound is the smallest of the threshold (less the vector MILPs' relative gap), the
bounds of vectors left open and the listing bounds of vectors not reached: every vector
not listed or pruned has a bound at or above the threshold, and a settled vector's optimum
is an assignment's true objective. How many vectors a solve lists and settles:
``benchmarks/exact_scale/README.md``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from mecopt.evaluate import evaluate
from mecopt.formulations.bounds.lagrangian import start_multipliers
from mecopt.formulations.fixed_count import transport
from mecopt.formulations.interference import count_intervals as ic
from mecopt.formulations.interference.geometry import (
    breakpoint_for,
    min_interference,
    true_interference,
)
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import LayerCosts, local_cost, must_offload
from mecopt.instance import Instance
from mecopt.solvers.exact.checks import numeric_range_ok
from mecopt.solvers.exact.intervals import check_modelled, new_breaks, small_interval_instance
from mecopt.solvers.exact.outcome import Outcome, Units
from mecopt.solvers.exact.state import SolveState
from mecopt.solvers.highs_matrix import MatrixSolution, highs_version, solve_matrix

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
    none = np.full(inst.n_users, np.inf)
    cols = [costs.at(j, n, total - n) if n else none for j, n in enumerate(counts.tolist())]
    cols.append(np.where(stay, 0.0, np.inf))
    capacity = np.append(np.asarray(counts, dtype=np.int64), inst.n_users - total)
    return transport(np.stack(cols, axis=1), capacity, exact=True).bound


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


def accepts(state: SolveState) -> bool:
    """Asked for by name, or ``"auto"`` on a small interval-modelled instance with a
    backend the driver's own HiGHS solves may stand in for (up to
    ``count_intervals_unlimited_n`` users without a time limit)."""
    if state.asked("count-intervals"):
        return True
    return (small_interval_instance(state) and state.caps.supports_settle
            and (state.options.time_limit is not None
                 or state.inst.n_users <= state.params.count_intervals_unlimited_n))


def run(state: SolveState) -> Outcome:
    """The search with a reserve of the time left; not started (under ``"auto"``) when
    the costs are out of range or there are too many vectors to list."""
    explicit = state.asked("count-intervals")
    if explicit:
        check_modelled(state, "count-intervals")
    elif not numeric_range_ok(state.free, state.params.numeric_range_s):
        return Outcome(started=False)
    params, opts = state.params, state.options
    out = search(state.inst, state.starts(),
                 deadline=state.budget.reserve(params.intervals_reserve,
                                               params.intervals_reserve_s),
                 gap=opts.gap, threads=opts.threads, seed=opts.seed,
                 report=lambda inc, bnd: state.report("count-intervals", inc, bnd))
    if not out.started:
        if explicit:
            state.info["formulation"] = "count-intervals"
            out.message = "count-intervals: not started (too many count vectors to list)"
        return out
    state.info["formulation"] = "count-intervals"
    out.info = {**{f"count_intervals_{k}": v for k, v in out.info.items()},
                "count_intervals_highs": highs_version()}  # HiGHS whatever the backend
    out.message = (f"count vectors with interference intervals: "
                   f"{out.info['count_intervals_vectors']} listed, "
                   f"{out.info['count_intervals_settled']} settled")
    return out


class _Incumbent:
    """The best assignment known and the pruning threshold it sets."""

    def __init__(self, inst: Instance, gap: float) -> None:
        self.inst, self.gap = inst, gap
        self.scale = Units.of(inst).scale
        self.a: np.ndarray | None = None
        self.obj = math.inf

    def offer(self, a: np.ndarray) -> None:
        """Keep ``a`` when it is feasible and better."""
        m = evaluate(self.inst, a)
        if m.feasible and m.objective < self.obj:
            self.a, self.obj = np.asarray(a), m.objective

    def cut(self) -> float:
        """The pruning threshold, total ms (``inf`` until an answer is known)."""
        return self.obj * (1.0 - THRESHOLD_SHARE * self.gap) * self.scale

    def prices(self) -> np.ndarray | None:
        """User multipliers of the listing screen: the incumbent's congestion prices."""
        if self.a is None:
            return None
        free = LayerCosts.of(self.inst.replace(interference="none"))
        u = start_multipliers(free, self.a)
        return np.where(free.forced, u, np.maximum(u, 0.0))

    def breaks_for(self, counts: np.ndarray) -> list[list[float]]:
        """Breakpoints at the incumbent's interference when it has ``counts``."""
        a, n_es = self.a, self.inst.n_servers
        if a is None or not np.array_equal(np.bincount(a[a >= 0], minlength=n_es), counts):
            return [[] for _ in range(n_es)]
        level = true_interference(self.inst, a)
        return [[breakpoint_for(self.inst, j, level[j])] for j in range(n_es)]


def search(inst: Instance, starts: list[np.ndarray], *, deadline: float | None, gap: float,
           threads: int = 1, seed: int = 0,
           report: Callable[[float | None, float | None], None] | None = None,
           ) -> Outcome:
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

    Returns
    -------
    Outcome
        Not started when the listing was too large; else the best assignment
        (``"count-intervals"``), the proven bound, ``complete`` when every listed vector
        was settled, the reason when that proves infeasibility; info: vectors listed,
        LPs, MILPs, vectors settled.
    """
    base = float(local_cost(inst).sum() * MS)
    inc = _Incumbent(inst, gap)
    for a in starts:
        inc.offer(a)
    vectors, started = listing(inst, inc.cut() - base, deadline, inc.prices())
    if not started:
        return Outcome(started=False)
    info = {"vectors": len(vectors), "lps": 0, "milps": 0, "settled": 0}
    left_open: list[float] = []

    def bound(nxt: int) -> float:
        """The proven bound (mean, s) with vectors ``nxt`` on not reached. A vector a MILP
        pruned is proven only to ``cut (1 - VECTOR_MIP_GAP)``; the rest of the list is
        sorted, so its first vector has the smallest listing bound."""
        rest = [vectors[nxt][0] + base] if nxt < len(vectors) else []
        return min([inc.cut() * (1.0 - VECTOR_MIP_GAP), *left_open, *rest]) / inc.scale

    proven = bound(len(vectors))
    for idx, (value, counts) in enumerate(vectors):
        if value + base >= inc.cut():
            continue
        if deadline is not None and time.perf_counter() >= deadline:
            proven = bound(idx)
            break
        v = _settle(inst, counts, value + base, inc, inc.breaks_for(counts),
                    _Run(deadline, threads, seed, info))
        if v is None:
            info["settled"] += 1
        elif v < inc.cut():
            left_open.append(v)
        proven = bound(idx + 1)
        if report is not None:
            report(inc.obj, proven)
    out = Outcome(info=info, complete=not left_open
                  and proven >= inc.cut() * (1.0 - VECTOR_MIP_GAP) / inc.scale)
    if inc.a is not None:
        out.assignments["count-intervals"] = inc.a
    elif out.complete:
        out.infeasible = "count-intervals: no count vector has a feasible assignment"
    if np.isfinite(proven) and out.infeasible is None:
        out.bounds["count-intervals"] = proven
    if report is not None:
        report(inc.obj, proven)
    return out


class _Run:
    """The HiGHS settings and counters of one search."""

    def __init__(self, deadline: float | None, threads: int, seed: int,
                 info: dict[str, int]) -> None:
        self.deadline, self.threads, self.seed, self.info = deadline, threads, seed, info

    def left(self) -> float | None:
        """Seconds left (at least 1 ms), ``None`` without a deadline."""
        return None if self.deadline is None else max(self.deadline - time.perf_counter(),
                                                      1e-3)

    def running(self) -> bool:
        """True before the deadline."""
        return self.deadline is None or time.perf_counter() < self.deadline

    def solve(self, model: ic.VectorModel, kind: str, cut: float = math.inf) -> MatrixSolution:
        """HiGHS on ``model``: its LP (``kind="lps"``) or its MILP (``"milps"``) with
        ``cut`` as cutoff."""
        self.info[kind] += 1
        n = model.c.size
        if kind == "lps":
            return solve_matrix(model.c, model.constant, model.a, model.row_lo, model.row_hi,
                                np.zeros(n), np.ones(n), None, time_limit=self.left(),
                                threads=self.threads, seed=self.seed)
        return solve_matrix(model.c, model.constant, model.a, model.row_lo, model.row_hi,
                            np.zeros(n), np.ones(n), model.integer, time_limit=self.left(),
                            threads=self.threads, seed=self.seed, mip_rel_gap=VECTOR_MIP_GAP,
                            cutoff=cut, presolve=False)


def _settle(inst: Instance, counts: np.ndarray, value: float, inc: _Incumbent,
            extra: list[list[float]], run: _Run) -> float | None:
    """Settle one vector: ``None`` when its optimum is at or above the threshold (or
    offered as an answer), else its best bound (total ms) when the deadline came."""
    if not counts.any():
        inc.offer(np.full(inst.n_users, -1, dtype=np.int64))  # the one all-local answer
        return None
    model = ic.build(inst, counts, ic.grid(inst, counts, LP_INTERVALS, extra))
    if model.infeasible_reason:
        return None
    s = run.solve(model, "lps")
    if s.status == "infeasible":
        return None
    if s.status == "optimal" and s.objective is not None:
        value = max(value, s.objective)
    while value < inc.cut() and run.running():
        model = ic.build(inst, counts, ic.grid(inst, counts, MILP_INTERVALS, extra))
        s = run.solve(model, "milps", inc.cut())
        if s.status == "infeasible":
            return None
        below = s.x is not None and s.objective is not None and s.objective < inc.cut()
        if s.status == "optimal":
            if not below:
                return None
            value = max(value, s.objective * (1.0 - VECTOR_MIP_GAP))
        elif s.bound is not None:
            value = max(value, s.bound)
        if not below:
            return value
        # Refine at the answer's true interference (the step "intervals" takes too).
        a = model.decode(s.x)
        inc.offer(a)
        added = new_breaks(inst, a, [[*extra[j], *model.breaks[j]] for j in
                                     range(inst.n_servers)], np.flatnonzero(counts > 0),
                           positive=False)
        for j, b in added.items():
            extra[j].append(b)
        if s.status == "optimal" and not added:
            return None
    return None if value >= inc.cut() else value
