"""Count enumeration with a pool of duals: exact with side rows when few counts survive
(a step of the decomposition, :mod:`mecopt.solvers.exact.decomposition`).

With the count ``n_j`` of every ES fixed, an instance without interference is a
transportation problem (each user to one ES or local, exactly ``n_j`` users on ES j, each
costed at ``n_j``) plus the side rows (accuracy target, hallucination cap). Its LP is much
tighter than the count-indexed LP, whose gap with a side row comes mostly from mixing
counts (how much tighter: ``benchmarks/exact_scale/README.md``). This search lists the
count vectors instead.

1. The Lagrangian bound at multipliers ``(u, mu)`` (user rows, side rows) is separable over
   the ES: ``base + sum_j S_j(n_j)``, with ``S_j(n)`` the sum of the ``n`` smallest reduced
   costs of layer ``(j, n)`` (:mod:`mecopt.formulations.bounds.lagrangian`). Every count
   vector whose bound at the starting multipliers is below the incumbent is listed (numpy
   outer sums with pruning, at most ``MAX_VECTORS``).
2. The open vector with the lowest bound gets its fixed-count LP solved (HiGHS). The LP's
   own duals ``(u, mu)`` join a pool, and every vector's bound becomes the best over the
   pool. One vector's duals are close to optimal for its neighbours, so a few LPs settle
   many vectors.
3. A vector whose LP stays below the incumbent is solved as a MILP (reduced-cost fixing
   and the incumbent as cutoff, :func:`fixed_count_milp`). Its optimum is an answer with
   exactly those counts, so it may become the incumbent.

With ``passes``, a poor incumbent (too many vectors to list) is met band by band: the
vectors below a lower threshold first, then the next band up to the improved incumbent
(see :func:`search`).

When every vector is settled, the bound is the smallest of the incumbent and the settled
vectors' values: a vector's MILP optimum, or a bound at or above the pruning threshold.
Counts that were never listed had a bound at or above that threshold. Offloads that cost
at least the local answer and do not help a side row are left out, as in the count-indexed
model: a solution using one is matched by one with a user fewer on that ES, which is
covered by another vector.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from mecopt.formulations.bounds.lagrangian import dual_bound
from mecopt.formulations.option_cost import LayerCosts
from mecopt.solvers.exact.count_vector import fixed_count_lp, fixed_count_milp
from mecopt.solvers.exact.outcome import Outcome, Units
from mecopt.solvers.exact.state import SolveState

#: Most count vectors listed; above it the search does not start.
MAX_VECTORS = 2_000_000
#: Most partial sums formed in one step of the listing (memory guard: 8 bytes each).
MAX_PARTIAL = 8_000_000


@dataclasses.dataclass
class _Search:
    """The running state of :func:`search`.

    Attributes
    ----------
    started
        False when the search did not start (too many counts survive, or no multipliers).
    complete
        True when every listed count vector was settled: ``bound`` is then proven for
        the whole instance.
    bound
        Proven lower bound (MILP units); ``-inf`` when not started.
    upper
        Objective (MILP units) of ``assignment``.
    assignment
        Best assignment known (the one given, or one found here).
    vectors, lps, milps
        Count vectors listed, fixed-count LPs and MILPs solved.
    seconds
        Wall-clock seconds per phase (``list``, ``lp``, ``milp``).
    """

    started: bool = False
    complete: bool = False
    bound: float = -np.inf
    upper: float = np.inf
    assignment: np.ndarray | None = None
    vectors: int = 0
    lps: int = 0
    milps: int = 0
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)


class _Pool:
    """Count vectors and their best bound over a growing pool of multipliers."""

    def __init__(self, costs: LayerCosts, kept: list[np.ndarray]) -> None:
        self.costs, self.kept = costs, kept
        self.vectors = np.zeros((0, len(kept)), dtype=np.int64)
        self.bound = np.zeros(0)

    def tables(self, u: np.ndarray, mu: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """``base`` and, per ES, ``S_j(n)`` indexed by ``n`` (``inf`` for counts not kept)."""
        costs = self.costs
        u = np.where(costs.forced, u, np.maximum(u, 0.0))
        mu = np.maximum(np.asarray(mu, dtype=float), 0.0)
        base = costs.constant - float(u.sum()) + float(mu @ costs.side_need())
        shift = u - mu @ costs.side_gain()
        out = []
        for j, counts in enumerate(self.kept):
            tab = np.full(int(counts.max()) + 1, np.inf)
            for n in counts:
                if n == 0:
                    tab[0] = 0.0
                    continue
                r = costs.relative(j, int(n)) + shift
                r = r[np.isfinite(r)]
                if r.size >= n:
                    tab[n] = float(np.partition(r, n - 1)[:n].sum())
            out.append(tab)
        return base, out

    def list_vectors(self, u: np.ndarray, mu: np.ndarray, threshold: float,
                     limit: int, floor: float = -np.inf) -> bool:
        """List every vector with bound in ``[floor, threshold)`` at ``(u, mu)``; False if
        more than ``limit``."""
        base, tabs = self.tables(u, mu)
        vals = [t[k] for t, k in zip(tabs, self.kept, strict=True)]
        mins = [float(v.min()) for v in vals]
        partial = np.zeros((1, 0), dtype=np.int64)
        psum = np.array([base])
        for j, (counts, v) in enumerate(zip(self.kept, vals, strict=True)):
            rest = sum(mins[j + 1:])
            if psum.size * v.size > MAX_PARTIAL:
                return False
            s = psum[:, None] + v[None, :]
            keep = s + rest < threshold
            if j == len(vals) - 1:
                keep &= s >= floor
                if int(keep.sum()) > limit:
                    return False
            pi, ci = np.nonzero(keep)
            partial = np.column_stack([partial[pi], counts[ci]])
            psum = s[pi, ci]
        self.vectors, self.bound = partial, psum
        return True

    def raise_bounds(self, u: np.ndarray, mu: np.ndarray) -> None:
        """Every vector's bound becomes the best of its own and the one at ``(u, mu)``."""
        base, tabs = self.tables(u, mu)
        at = base + sum(t[self.vectors[:, j]] for j, t in enumerate(tabs))
        np.maximum(self.bound, at, out=self.bound)


def accepts(state: SolveState, costs: LayerCosts) -> bool:
    """Instances with side rows, with a backend the driver's HiGHS solves stand in for."""
    return bool(costs.side) and state.caps.supports_settle


def run(state: SolveState, costs: LayerCosts, u: np.ndarray | None, mu: np.ndarray | None,
        passes: bool = False) -> Outcome:
    """:func:`search` from the multipliers ``(u, mu)`` and the best answer known, to the
    run's deadline; its counters add up over calls and its bound keeps the best."""
    free_best = state.best_free()
    if free_best is None or u is None:
        return Outcome(started=False)
    units = state.units
    out = search(costs, u, mu, units.total(free_best[2].objective), free_best[1],
                 deadline=state.deadline, gap=state.options.gap, passes=passes,
                 report=lambda inc, bnd: state.report("count-enumeration", units.mean(inc),
                                                      units.mean(bnd)))
    if not out.started:
        return out
    for key in ("count_vectors", "count_lps", "count_milps"):
        out.info[key] += int(state.info.get(key, 0))
    del out.info["count_seconds"]
    if "count-enumeration" in state.bounds:
        out.bounds["count-enumeration"] = max(out.bound, state.bounds["count-enumeration"])
    state.absorb(out, quiet=True)
    return out


def search(costs: LayerCosts, u: np.ndarray, mu: np.ndarray | None, upper: float,
           assignment: np.ndarray, *, deadline: float | None, gap: float,
           report: Callable[[float | None, float | None], None] | None = None,
           max_vectors: int | None = None, passes: bool = False) -> Outcome:
    """Settle every count vector whose bound at ``(u, mu)`` is below ``upper``.

    With ``passes``, when more than ``max_vectors`` vectors would be listed (a poor
    incumbent), a pass lists those below a lower threshold ``T`` (halved towards the bound
    at ``(u, mu)``, or the last pass's threshold, until they fit) and settles them; the
    MILPs on the way usually improve the incumbent, and the next pass lists the vectors from
    ``T`` up to the new threshold.

    Parameters
    ----------
    costs
        Layer costs of the interference-free instance.
    u, mu
        Starting multipliers (user rows, side rows), e.g. the decomposition's.
    upper
        Objective (MILP units) of ``assignment``, a feasible answer.
    assignment
        The incumbent.
    deadline
        ``time.perf_counter()`` value at which to stop (the bound is then over the
        vectors settled so far and the open ones' bounds).
    gap
        Vectors whose bound is within this relative gap of the incumbent are settled.
    report
        Called with ``(incumbent, bound)`` (MILP units) when either improves.
    max_vectors
        Most vectors listed in one pass (default ``MAX_VECTORS``); not started when they
        do not fit (with ``passes``: when not even the vectors close to the bound at
        ``(u, mu)`` fit).
    passes
        Allow passes below the incumbent's threshold (worth it with multipliers close to
        the LP optimum, whose bound is close to the optimum).

    Returns
    -------
    Outcome
        ``started`` False when not started (too many counts survive, or no multipliers);
        else the best assignment (``"count-enumeration"``: the one given, or one found
        here), the proven bound (mean, s; for the whole instance when ``complete``: every
        listed vector settled); info: ``count_vectors``, ``count_lps``, ``count_milps``
        (vectors listed, fixed-count LPs and MILPs) and ``count_seconds`` per phase.
    """
    run = _search(costs, u, mu, upper, assignment, deadline=deadline, gap=gap, report=report,
                  max_vectors=MAX_VECTORS if max_vectors is None else max_vectors,
                  passes=passes)
    out = Outcome(started=run.started, complete=run.complete,
                  info={"count_vectors": run.vectors, "count_lps": run.lps,
                        "count_milps": run.milps, "count_seconds": run.seconds})
    if run.assignment is not None:
        out.assignments["count-enumeration"] = run.assignment
    if np.isfinite(run.bound):
        out.bounds["count-enumeration"] = Units.of(costs.inst).mean(run.bound)
    return out


def _search(costs: LayerCosts, u: np.ndarray, mu: np.ndarray | None, upper: float,
            assignment: np.ndarray, *, deadline: float | None, gap: float,
            report: Callable[[float | None, float | None], None] | None,
            max_vectors: int, passes: bool) -> _Search:
    """:func:`search` in MILP units."""
    out = _Search(upper=upper, assignment=assignment)
    mu = np.zeros(len(costs.side)) if mu is None else mu
    if not np.isfinite(upper):
        return out
    fixed = dual_bound(costs, u, mu, upper=upper)
    if fixed.kept is None:
        return out
    kept = [np.concatenate([[0] if fixed.zero_kept[j] else [], k]).astype(np.int64)
            for j, k in enumerate(fixed.kept)]
    if any(k.size == 0 for k in kept):
        out.started = out.complete = True
        out.bound = upper
        return out

    def threshold() -> float:
        # A hair inside the gap, so that a settled search reports a gap <= ``gap``.
        return out.upper - gap * (1.0 - 1e-6) * abs(out.upper)

    pool = _Pool(costs, kept)
    duals: list[tuple[np.ndarray, np.ndarray]] = []
    done_below = -np.inf  # vectors whose starting bound is below this are settled
    settled = np.inf  # the least of their settled values
    best_bound = -np.inf
    while True:
        t0 = time.perf_counter()
        top = _fit(pool, u, mu, threshold(), max(fixed.bound, done_below), done_below,
                   max_vectors, 1e-3 * gap * abs(out.upper) if passes else None)
        out.seconds["list"] = out.seconds.get("list", 0.0) + time.perf_counter() - t0
        if top <= done_below:
            break
        out.started = True
        out.vectors += len(pool.vectors)
        for du, dm in duals:
            pool.raise_bounds(du, dm)
        finished, least = _settle(costs, pool, out, threshold, top, duals, deadline, gap,
                                  report, settled, best_bound)
        settled = min(settled, least)
        best_bound = max(best_bound, out.bound)
        if not finished:
            break
        done_below = top
        if top >= threshold():
            out.complete = True
            break
        if deadline is not None and time.perf_counter() >= deadline:
            break
    out.bound = max(best_bound, min(out.upper, done_below, settled)) if out.started \
        else -np.inf
    return out


def _fit(pool: _Pool, u: np.ndarray, mu: np.ndarray, top: float, floor: float,
         done_below: float, max_vectors: int, halving: float | None) -> float:
    """List the vectors with bounds in ``[done_below, top)``; with ``halving`` (a
    thousandth of the gap in MILP units), halve ``top`` towards ``floor`` until they fit.
    Returns the threshold listed below (``-inf`` when nothing fits)."""
    while top > done_below and not pool.list_vectors(u, mu, top, max_vectors,
                                                     floor=done_below):
        top = floor + 0.5 * (top - floor)
        if halving is None or top - floor < halving:
            top = -np.inf
    return top


def _settle(costs: LayerCosts, pool: _Pool, out: _Search,
            threshold: Callable[[], float], top: float,
            duals: list[tuple[np.ndarray, np.ndarray]], deadline: float | None, gap: float,
            report: Callable[[float | None, float | None], None] | None, settled: float,
            best_bound: float) -> tuple[bool, float]:
    """One pass: settle the listed vectors (every vector not listed has a bound of at least
    ``top``; earlier passes' vectors have values of at least ``settled``). Sets
    ``out.bound`` to the pass's best proven bound; returns whether every listed vector was
    settled and the least of their settled values."""
    # Per vector: 0 open, 1 settled by its bound, 2 settled by its MILP value.
    state = np.zeros(len(pool.vectors), dtype=np.int8)
    value = np.full(len(pool.vectors), np.inf)

    def least() -> float:
        # The least settled value of this pass.
        parts = [np.inf]
        for mask, arr in ((state == 1, pool.bound), (state == 2, value)):
            if mask.any():
                parts.append(float(arr[mask].min()))
        return min(parts)

    def lower() -> float:
        open_ = state == 0
        least_open = float(pool.bound[open_].min()) if open_.any() else np.inf
        return min(out.upper, top, settled, least_open, least())

    finished = False
    while True:
        thr = threshold()
        state[(state == 0) & (pool.bound >= thr)] = 1
        open_ = np.flatnonzero(state == 0)
        b = lower()
        if b > best_bound:
            best_bound = b
            if report is not None:
                report(None, b)
        if open_.size == 0:
            finished = True
            break
        if deadline is not None and time.perf_counter() >= deadline:
            break
        k = int(open_[np.argmin(pool.bound[open_])])
        step, bnd = _settle_one(costs, pool, out, k, thr, duals, deadline, gap, report)
        if step == "limit":
            break
        if step == "solved":
            state[k], value[k] = 2, bnd
    out.bound = max(best_bound, lower())
    return finished, least()


def _settle_one(costs: LayerCosts, pool: _Pool, out: _Search, k: int, thr: float,
                duals: list[tuple[np.ndarray, np.ndarray]], deadline: float | None,
                gap: float, report: Callable[[float | None, float | None], None] | None,
                ) -> tuple[str, float]:
    """Vector ``k``'s LP (its duals join the pool), then its MILP if the LP stays below
    ``thr``: ``"solved"`` with the MILP's bound, ``"limit"`` (out of time) or
    ``"open"``."""
    t0 = time.perf_counter()
    lp = fixed_count_lp(costs, pool.vectors[k])
    out.lps += 1
    t1 = time.perf_counter()
    out.seconds["lp"] = out.seconds.get("lp", 0.0) + t1 - t0
    if lp.u is None or lp.mu is None:
        pool.bound[k] = np.inf
        return "open", np.inf
    duals.append((lp.u, lp.mu))
    pool.raise_bounds(lp.u, lp.mu)
    pool.bound[k] = max(pool.bound[k], lp.value)
    out.seconds["pool"] = out.seconds.get("pool", 0.0) + time.perf_counter() - t1
    if pool.bound[k] >= thr:
        return "open", np.inf
    left = None if deadline is None else deadline - time.perf_counter()
    if left is not None and left <= 0:
        return "limit", np.inf
    t0 = time.perf_counter()
    status, val, bnd, a = fixed_count_milp(costs, lp, thr, left, 0.25 * gap)
    out.milps += 1
    out.seconds["milp"] = out.seconds.get("milp", 0.0) + time.perf_counter() - t0
    if a is not None and val < out.upper:
        out.upper, out.assignment = val, a
        if report is not None:
            report(val, None)
    pool.bound[k] = max(pool.bound[k], bnd)
    return ("solved" if status == "solved" else "limit" if status == "limit" else "open"), bnd
