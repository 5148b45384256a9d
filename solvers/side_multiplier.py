"""Lagrangian search on the multiplier of a single side row, with exact inner solves.

An accuracy target ``mean acc(x) >= target`` (or a hallucination cap ``mean hall(x) <=
cap``) is the only row that couples the users beyond the counts. Move it into the
objective with a weight ``w >= 0``: the instance with ``cost_accuracy`` raised by ``w`` and
no target is an ordinary instance without a side row, which the exact driver proves fast
(kim2026 N = 1,000 in about a second). For every feasible ``x`` its objective is

    f(x) = f_w(x) + w (acc(x) - target) + w target >= LB_w + w target =: theta(w),

with ``LB_w`` the proven lower bound of the inner solve, so every ``theta(w)`` is a proven
bound (for a cap: ``theta(w) = LB_w - w cap``). ``theta`` is concave; its maximum is the
Lagrangian dual of the side row, which equals the LP bound of the count-indexed model.
Subgradient ascent on all multipliers at once tails off far below it (kim2026 N = 1,000
with a binding target: 0.3 % below after 20 s); this one-dimensional search gets there
in about ten inner solves.

The search keeps a bracket ``[lo, hi]``: the inner answer at ``lo`` misses the row, the one
at ``hi`` meets it. Each answer ``x`` is a line ``f(x) - w margin(x)`` under ``theta``'s
graph, and the next weight is where the bracket's two lines cross (a one-dimensional
cutting-plane step, kept inside the bracket). The answers that meet the row are feasible
incumbents; both sides of the bracket then seed ``lns`` on the constrained instance.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from mecopt.evaluate import evaluate
from mecopt.instance import Instance
from mecopt.result import SolveResult

#: Most inner solves of one search.
MAX_STEPS = 30
#: Share of the time left one inner solve may take.
INNER_SHARE = 0.3
#: A crossing point closer than this share of the bracket's width to an end is moved in.
SAFEGUARD = 0.05

InnerSolve = Callable[[Instance, float | None, float], SolveResult]


@dataclasses.dataclass
class SideSearch:
    """Outcome of :func:`search`.

    Attributes
    ----------
    bound
        Best proven bound ``theta(w)`` (mean objective, s), ``-inf`` if none.
    weight
        The weight attaining it.
    feasible
        Inner answers that meet the side row (feasible for the constrained instance).
    bracket
        The last inner answers below and above the row (either may be ``None``).
    steps
        Inner solves done.
    binds
        False when the inner answer at weight 0 already meets the row: the row does not
        bind and that answer's bound is the bound.
    """

    bound: float = -np.inf
    weight: float = 0.0
    feasible: list[np.ndarray] = dataclasses.field(default_factory=list)
    bracket: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
    steps: int = 0
    binds: bool = True


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
           report: Callable[[float], None] | None = None) -> SideSearch:
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
    """
    row = single_side_row(inst)
    if row is None:
        raise ValueError("search needs an instance with exactly one side row")
    k = float(inst.min_accuracy) if row == "accuracy" else -float(inst.max_hallucination)
    out = SideSearch()
    best_upper = upper
    lo = hi = None  # (w, objective, margin, assignment)

    def step(w: float) -> tuple[float, float, np.ndarray] | None:
        nonlocal best_upper
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            return None
        limit = None
        if left is not None:
            limit = (INNER_SHARE if out.steps else 0.5) * left
        res = inner(relaxed(inst, row, w), limit, gap / 4)
        out.steps += 1
        if res.assignment is None:
            return None
        if res.bound is not None and np.isfinite(res.bound):
            theta = res.bound + w * k
            if theta > out.bound:
                out.bound, out.weight = theta, w
                if report is not None:
                    report(theta)
        f, mg = margin(inst, row, res.assignment)
        if mg >= 0:
            out.feasible.append(res.assignment)
            best_upper = min(best_upper, f)
        return f, mg, res.assignment

    def done() -> bool:
        return best_upper - out.bound <= gap * max(abs(best_upper), 1e-12)

    w = max(float(w0), 0.0)
    first = step(w)
    if first is None:
        return out
    if first[1] >= 0:
        hi = (w, *first)
        if w == 0.0:
            out.binds = False
            out.bracket = (None, first[2])
            return out
    else:
        lo = (w, *first)
    # Bracket: scale the weight by 4 until the row flips (at w = 0 it may not bind).
    for _ in range(MAX_STEPS):
        if (lo is not None and hi is not None) or done():
            break
        if hi is None:
            w = 4.0 * w if w > 0 else 1e-3
        else:
            w = 0.0 if w < 1e-9 else w / 4.0
        got = step(w)
        if got is None:
            break
        if got[1] >= 0:
            hi = (w, *got)
            if w == 0.0:
                out.binds = False
                break
        else:
            lo = (w, *got)
    while lo is not None and hi is not None and out.steps < MAX_STEPS and not done():
        (wl, fl, ml, al), (wh, fh, mh, ah) = lo, hi
        w = (fh - fl) / (mh - ml)
        width = wh - wl
        w = min(max(w, wl + SAFEGUARD * abs(width)), wh - SAFEGUARD * abs(width)) \
            if width > 0 else w
        got = step(w)
        if got is None:
            break
        f, mg, a = got
        if np.array_equal(a, al) or np.array_equal(a, ah):
            break  # no new breakpoint: the crossing is the dual optimum
        if mg >= 0:
            hi = (w, f, mg, a)
        else:
            lo = (w, f, mg, a)
    out.bracket = (None if lo is None else lo[3], None if hi is None else hi[3])
    return out
