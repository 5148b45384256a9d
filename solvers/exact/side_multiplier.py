"""Lagrangian search on the multiplier of a single side row, with exact inner solves.

An accuracy target ``mean acc(x) >= target`` (or a hallucination cap ``mean hall(x) <=
cap``) is the only row that couples the users beyond the counts. Move it into the
objective with a weight ``w >= 0``: the instance with ``cost_accuracy`` raised by ``w`` and
no target is an ordinary instance without a side row, which the exact driver proves fast.
For every feasible ``x`` its objective is

    f(x) = f_w(x) + w (acc(x) - target) + w target >= LB_w + w target =: theta(w),

with ``LB_w`` the proven lower bound of the inner solve, so every ``theta(w)`` is a proven
bound (for a cap: ``theta(w) = LB_w - w cap``). ``theta`` is concave; its maximum is the
Lagrangian dual of the side row, which equals the LP bound of the count-indexed model.
Subgradient ascent on all multipliers at once tails off far below it; this
one-dimensional search gets there in about ten inner solves (figures:
``benchmarks/exact_scale/README.md``).

The search keeps a bracket ``[lo, hi]``: the inner answer at ``lo`` misses the row, the one
at ``hi`` meets it. Each answer ``x`` is a line ``f(x) - w margin(x)`` under ``theta``'s
graph, and the next weight is where the bracket's two lines cross (a one-dimensional
cutting-plane step, kept inside the bracket). The answers that meet the row are feasible
incumbents; both sides of the bracket then seed ``lns`` on the constrained instance.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from mecopt.evaluate import evaluate
from mecopt.formulations.fixed_count import fixed_count_assignment
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import LayerCosts
from mecopt.heuristics.lns import lns
from mecopt.instance import Instance
from mecopt.solvers.exact import count_enumeration
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.rounds import Multipliers, count_neighbourhood, decompose
from mecopt.solvers.exact.state import InnerSolve, SolveState

#: Most inner solves of one search.
MAX_STEPS = 30
#: Share of the time left one inner solve may take.
INNER_SHARE = 0.3
#: A crossing point closer than this share of the bracket's width to an end is moved in.
SAFEGUARD = 0.05


def single_side_row(inst: Instance) -> str | None:
    """``"accuracy"`` or ``"hallucination"`` when the instance has exactly that one side
    row, else ``None``."""
    acc = inst.min_accuracy is not None
    hal = inst.max_hallucination is not None
    if acc and not hal:
        return "accuracy"
    if hal and not acc:
        return "hallucination"
    return None


def relaxed(inst: Instance, row: str, w: float) -> Instance:
    """``inst`` with the side row ``row`` moved into the objective at weight ``w``."""
    if row == "accuracy":
        return inst.replace(min_accuracy=None, cost_accuracy=inst.cost_accuracy + w)
    return inst.replace(max_hallucination=None,
                        cost_hallucination=inst.cost_hallucination + w)


def margin(inst: Instance, row: str, a: np.ndarray) -> tuple[float, float]:
    """Objective of ``a`` on ``inst`` (without the row's check) and its margin on the row
    (``>= 0`` when met)."""
    m = evaluate(relaxed(inst, row, 0.0), a)
    if row == "accuracy":
        return m.objective, m.accuracy - float(inst.min_accuracy)
    return m.objective, float(inst.max_hallucination) - float(m.mean_hallucination)



def search(inst: Instance, inner: InnerSolve, *, w0: float, deadline: float | None,
           gap: float, upper: float = np.inf,
           report: Callable[[float], None] | None = None) -> Outcome:
    """Maximise ``theta`` (see the module docstring) from the weight ``w0``.

    Parameters
    ----------
    inst
        Interference-free instance with exactly one side row.
    inner
        ``inner(instance, time_limit, gap)`` solves an instance without side row (the exact
        driver) and returns its result with a proven bound.
    w0
        First weight (s per unit of the row), e.g. from subgradient ascent.
    deadline
        ``time.perf_counter()`` value at which to stop.
    gap
        Stop once the best bound is within this relative gap of the best feasible value
        known (``upper`` or found here).
    upper
        Objective of the best feasible assignment known.
    report
        Called with each improved bound.

    Returns
    -------
    Outcome
        The inner answers that meet the row (``side-multiplier-k``), the best bound
        ``theta(w)`` (``"side-multiplier"``); info: ``side_multiplier_steps`` (inner solves),
        ``side_multiplier_weight`` (the weight attaining the bound), ``bracket`` (the last
        inner answers below and above the row, either may be ``None``) and ``binds`` (False
        when the inner answer at weight 0 already meets the row: its bound is the bound).
    """
    row = single_side_row(inst)
    if row is None:
        raise ValueError("search needs an instance with exactly one side row")
    s = _Search(inst, row, inner, deadline, gap, upper, report)
    lo, hi = s.bracket(max(float(w0), 0.0))
    if lo is not None and hi is not None:
        lo, hi = s.cut(lo, hi)
    out = Outcome(assignments={f"side-multiplier-{k}": a for k, a in enumerate(s.feasible)},
                  info={"side_multiplier_steps": s.steps, "binds": s.binds,
                        "bracket": (None if lo is None else lo[3],
                                    None if hi is None else hi[3])})
    if np.isfinite(s.bound):
        out.bounds["side-multiplier"] = s.bound
        out.info["side_multiplier_weight"] = s.weight
    return out


#: One inner answer: (weight, objective, margin on the row, assignment).
_Point = tuple[float, float, float, np.ndarray]


class _Search:
    """The bracket search of :func:`search`."""

    def __init__(self, inst: Instance, row: str, inner: InnerSolve, deadline: float | None,
                 gap: float, upper: float, report: Callable[[float], None] | None) -> None:
        self.inst, self.row, self.inner, self.deadline = inst, row, inner, deadline
        self.gap, self.best_upper, self.report = gap, upper, report
        self.k = float(inst.min_accuracy) if row == "accuracy" \
            else -float(inst.max_hallucination)
        self.bound, self.weight, self.steps, self.binds = -np.inf, 0.0, 0, True
        self.feasible: list[np.ndarray] = []

    def step(self, w: float) -> _Point | None:
        """The inner solve at weight ``w`` (``None`` out of time or without an answer)."""
        left = None if self.deadline is None else self.deadline - time.perf_counter()
        if left is not None and left <= 0:
            return None
        limit = None if left is None else (INNER_SHARE if self.steps else 0.5) * left
        res = self.inner(relaxed(self.inst, self.row, w), limit, self.gap / 4)
        self.steps += 1
        if res.assignment is None:
            return None
        if res.bound is not None and np.isfinite(res.bound):
            theta = res.bound + w * self.k
            if theta > self.bound:
                self.bound, self.weight = theta, w
                if self.report is not None:
                    self.report(theta)
        f, mg = margin(self.inst, self.row, res.assignment)
        if mg >= 0:
            self.feasible.append(res.assignment)
            self.best_upper = min(self.best_upper, f)
        return w, f, mg, res.assignment

    def done(self) -> bool:
        """True when the bound is within the gap of the best feasible value."""
        return self.best_upper - self.bound <= self.gap * max(abs(self.best_upper), 1e-12)

    def bracket(self, w: float) -> tuple[_Point | None, _Point | None]:
        """Scale the weight by 4 from ``w`` until the row flips (at 0 it may not bind)."""
        lo = hi = None
        first = self.step(w)
        if first is None:
            return None, None
        if first[2] < 0:
            lo = first
        elif w == 0.0:
            self.binds = False
            return None, first
        else:
            hi = first
        for _ in range(MAX_STEPS):
            if (lo is not None and hi is not None) or self.done():
                break
            w = (4.0 * w if w > 0 else 1e-3) if hi is None else (0.0 if w < 1e-9 else w / 4.0)
            got = self.step(w)
            if got is None:
                break
            if got[2] < 0:
                lo = got
                continue
            hi = got
            if w == 0.0:
                self.binds = False
                break
        return lo, hi

    def cut(self, lo: _Point, hi: _Point) -> tuple[_Point, _Point]:
        """Cutting-plane steps inside the bracket until no new breakpoint appears."""
        while self.steps < MAX_STEPS and not self.done():
            (wl, fl, ml, al), (wh, fh, mh, ah) = lo, hi
            w = (fh - fl) / (mh - ml)
            width = wh - wl
            if width > 0:
                w = min(max(w, wl + SAFEGUARD * abs(width)), wh - SAFEGUARD * abs(width))
            got = self.step(w)
            if got is None or np.array_equal(got[3], al) or np.array_equal(got[3], ah):
                break  # no new breakpoint: the crossing is the dual optimum
            if got[2] >= 0:
                hi = got
            else:
                lo = got
        return lo, hi


def run(state: SolveState, costs: LayerCosts, mult: Multipliers, upper: float,
        descend: bool) -> tuple[Outcome | None, float]:
    """The search with most of the time left (inner solves by the driver), ``lns`` from
    both ends of its bracket, count enumeration from the multipliers at its best weight
    (when it may run), then the count neighbourhood of the best answer and (with
    ``descend``) a descent over count vectors by exact fixed-count MILPs.

    Returns the outcome when it ends the solve (else ``None``) and the best
    interference-free objective known.
    """
    out = search(state.free, state.inner, w0=float(mult.mu[0]) / MS,
                 deadline=state.budget.share(state.params.side_search_share),
                 gap=state.options.gap, upper=upper,
                 report=lambda b: state.report("side-multiplier", None, b))
    bracket = out.info.pop("bracket")
    out.info.pop("binds")
    free_best = state.best_free()
    starts = [a for a in (*bracket, *out.assignments.values()) if a is not None]
    left = state.budget.left()
    if starts and left > 0:
        if free_best is not None:
            starts.append(free_best[1])
        state.add("side-multiplier-lns", lns(
            state.free, np.random.default_rng(state.options.seed),
            time_budget=min(state.params.lns_budget, 0.5 * left), plan=False,
            policies=False, starts=starts), quiet=True)
    state.absorb(out, quiet=True)
    found = None
    if count_enumeration.accepts(state, costs) and np.isfinite(out.bound) \
            and state.budget.left() > 0:
        found = _settle(state, costs, out.info["side_multiplier_weight"])
    if found is None or not found.complete:
        _neighbourhood(state, costs, descend)
    for name, (_, m) in state.candidates.items():
        if name.startswith("side-multiplier") and m.feasible:
            state.report(name, m.objective, None)
    free_best = state.best_free()
    upper = min(upper, free_best[2].objective) if free_best is not None else upper
    if found is not None and found.complete:
        return Outcome(message="decomposition + side-row multiplier search + count "
                               "enumeration: every count vector settled"), upper
    return None, upper


def _settle(state: SolveState, costs: LayerCosts, weight: float) -> Outcome | None:
    """Count enumeration (in passes) from the multipliers of the user rows at the side
    row's best weight: the decomposition of the instance with the row moved into the
    objective (it has no side row, so its ascent gets close to its LP bound fast)."""
    relaxed_inst = relaxed(state.free, single_side_row(state.free), weight)
    _, mult, _ = decompose(relaxed_inst, state.starts(), deadline=state.budget.share(0.25),
                           seed=state.options.seed, report=lambda *_: None,
                           gap=state.options.gap / 4)
    found = count_enumeration.run(state, costs, mult.u, np.array([weight * MS]), passes=True)
    return found if found.started else None


def _neighbourhood(state: SolveState, costs: LayerCosts, descend: bool) -> None:
    """Count vectors next to the best answer, each re-optimised with the side row; with
    ``descend``, then a descent by the exact fixed-count MILP while a share of the time is
    left (only when count fixing will leave too many counts for the backend, which
    otherwise uses the time better; see ``benchmarks/exact_scale/README.md``)."""
    free_best = state.best_free()
    if free_best is None or state.budget.left() <= 0:
        return
    a, _ = count_neighbourhood(state.free, costs, free_best[1],
                               state.units.total(free_best[2].objective),
                               state.budget.share(0.5))
    state.add("side-multiplier-counts", a, quiet=True)
    if descend:
        _exact_count_descent(state, costs, a, state.budget.share(state.params.side_exact_share))


def _exact_count_descent(state: SolveState, costs: LayerCosts, a: np.ndarray,
                         stop: float | None) -> None:
    """Best-improvement descent over count vectors (the current one, then one user more or
    less on one ES), each re-optimised by the exact fixed-count MILP, until ``stop``."""
    n_es = state.inst.n_servers
    eye = np.eye(n_es, dtype=np.int64)
    moves = [0 * eye[0], *eye, *(-eye)]
    counts = np.bincount(a[a >= 0], minlength=n_es)
    best = evaluate(state.free, a).objective
    seen: set[bytes] = set()
    improved, k = True, 0
    while improved:
        improved = False
        step_best, step_counts = best, counts
        for move in moves:
            left = np.inf if stop is None else stop - time.perf_counter()
            cand = counts + move
            if left <= 0:
                return
            if np.any(cand < 0) or np.any(cand > costs.limit) or cand.tobytes() in seen:
                continue
            seen.add(cand.tobytes())
            b = fixed_count_assignment(costs, cand, None if stop is None else left, exact=True)
            if b is None:
                continue
            k += 1
            state.add(f"side-multiplier-exact-counts-{k}", b, quiet=True)
            value = evaluate(state.free, b).objective
            if value < step_best * (1 - 1e-12):
                step_best = value
                step_counts = np.bincount(b[b >= 0], minlength=n_es)
        if step_best < best:
            best, counts, improved = step_best, step_counts, True
