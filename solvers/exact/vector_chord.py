"""Closing count vectors exactly with other-cells interference: the chord model
(:mod:`mecopt.formulations.interference.chord`) in a branch and bound over interference
boxes.

A *box* is one count vector with an interference range per ES. A box is closed when no
assignment in it costs less than the cutoff (the incumbent less the requested gap):

1. bound tightening: the least and largest ``e_j`` over the LP relaxation with the
   objective below the cutoff (:func:`~mecopt.solvers.highs_matrix.column_ranges`) narrow
   the ranges, which strengthens the chords and the McCormick rows; an infeasible LP
   closes the box;
2. the chord MILP with the cutoff as HiGHS's objective bound: infeasible closes the box;
   a solution is scored by the evaluator (a better one becomes the incumbent), and when
   the MILP's bound is still below the cutoff, the box is cut at the solution's
   interference at the ES where the chord misprices it most: in the upper part, that
   solution is priced exactly there.

Every box's bound is a proven lower bound on its assignments, so the bound of a vector is
the least bound of its open boxes, and the cutoff once all are closed.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import numpy as np

from mecopt.formulations.interference.chord import ChordModel, ChordTables, build
from mecopt.solvers.highs_matrix import column_ranges, lp_bound, solve_matrix

#: Most rounds of bound tightening per box, and the share of a range a round must cut
#: off for another round to follow.
TIGHTEN_ROUNDS = 4
TIGHTEN_SHRINK = 0.9
#: Relative margin a tightened range is widened by (LP tolerances).
RANGE_MARGIN = 1e-7
#: Relative safety margin taken off a MILP's bound (floating point).
SAFETY = 1e-9
#: Relative safety margin taken off an LP's optimum (the dual simplex's tolerances).
LP_SAFETY = 1e-7
#: Share of the closing time spent closing vectors in a random order, whose rate decides
#: whether all of them can be closed in time (:func:`close_vectors`).
PROBE = 0.15
#: Seed of the probe's random order (a sample of every bound, so its rate is the
#: average's: the lowest vectors are the slowest to close, 5-10 times the others at N = 120).
PROBE_SEED = 0


@dataclasses.dataclass
class Box:
    """One count vector with interference ranges (W) and its proven bound (total ms).

    The ranges hold every assignment of the box's part of the vector that costs less
    than ``valid`` (total ms; the cutoff they were last narrowed at), so a bound proven
    over the ranges counts only up to ``valid``.
    """

    counts: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    bound: float = -np.inf
    valid: float = np.inf

    def raise_bound(self, value: float) -> None:
        """Record ``value`` (total ms), proven over the ranges, as a bound."""
        self.bound = max(self.bound, min(value, self.valid))

    def copy(self) -> Box:
        """An independent copy."""
        return Box(self.counts, self.lo.copy(), self.hi.copy(), self.bound, self.valid)


@dataclasses.dataclass
class Incumbent:
    """The best assignment known, its true total cost (ms) and the requested gap."""

    assignment: np.ndarray
    total: float
    gap: float
    improved: bool = False

    @property
    def cutoff(self) -> float:
        """Total ms a box must reach to be closed (a tenth of the gap kept as margin)."""
        return self.total * (1.0 - 0.9 * self.gap)


def tighten_ranges(t: ChordTables, box: Box, cutoff: float,
                   ceiling: float | None = None) -> bool:
    """Narrow ``box``'s ranges by LP bound tightening and raise its bound to the LP's;
    ``False`` when the box holds no assignment below ``cutoff`` (total ms).

    Each round first solves the LP relaxation (:func:`~mecopt.solvers.highs_matrix.lp_bound`,
    stopped once it passes ``ceiling``, the cutoff by default: most boxes close here, at a
    quarter of a tightening round's cost), then tightens. A ceiling above the cutoff
    records a higher bound for a box closed below it.
    """
    for _ in range(TIGHTEN_ROUNDS):
        model = build(t, box.counts, box.lo, box.hi)
        args = (model.c, model.constant, model.a, model.row_lo, model.row_hi, model.col_lo,
                model.col_hi)
        value = lp_bound(*args, cutoff if ceiling is None else max(cutoff, ceiling),
                         reset=False)
        if value is not None:
            box.raise_bound(value - LP_SAFETY * abs(value))
            if value >= cutoff:  # (the dual simplex's bound carries its own tolerance)
                box.raise_bound(cutoff)
                return False
        found = column_ranges(*args, model.e_columns(), cutoff, reset=False)
        if found is None:
            return False
        least, most = found
        margin = RANGE_MARGIN * t.total
        lo = np.maximum(box.lo, box.lo + least * t.scale - margin)
        hi = np.maximum(np.minimum(box.hi, box.lo + most * t.scale + margin), lo)
        old = box.hi - box.lo
        box.lo, box.hi, box.valid = lo, hi, min(box.valid, cutoff)
        if not np.any(hi - lo < TIGHTEN_SHRINK * old):
            break
    return True


def _split(t: ChordTables, box: Box, model: ChordModel, a: np.ndarray) -> list[Box]:
    """Cut ``box`` at the interference of ``a`` (a model solution) on the ES where the
    chord misprices ``a`` most; two boxes, or ``[]`` if ``a`` is priced exactly."""
    interference = t.interference(a)
    true = t.costs(box.counts, interference)
    n_users = a.size
    on = np.flatnonzero(a >= 0)
    w0 = model.c.size - model.counts.size - n_users * model.counts.size
    slope = model.c[w0:w0 + n_users * model.counts.size].reshape(n_users, -1)
    e = (interference - box.lo) / t.scale
    chord = model.c[: n_users * model.counts.size].reshape(n_users, -1) + slope * e[None, :]
    error = np.zeros(model.counts.size)
    np.add.at(error, a[on], true[on, a[on]] - chord[on, a[on]])
    j = int(np.argmax(error))
    at = float(np.clip(interference[j], box.lo[j], box.hi[j]))
    width = box.hi[j] - box.lo[j]
    if not error[j] > 0 or width <= 0:
        return []
    if not box.lo[j] + 0.02 * width < at < box.hi[j] - 0.02 * width:
        at = box.lo[j] + 0.5 * width
    low, high = box.copy(), box.copy()
    low.hi[j], high.lo[j] = at, at
    return [low, high]


def close_box(t: ChordTables, box: Box, inc: Incumbent,
              score: Callable[[np.ndarray], float], deadline: float | None,
              lock: threading.Lock, cutoff: float | None = None) -> list[Box]:
    """Work on one box: the boxes it leaves open (``[]`` when closed; ``[box]`` when the
    deadline stopped it, with its bound raised to what was proven). ``lock`` guards the
    incumbent; HiGHS runs on one thread without resetting its pool.

    ``cutoff`` (total ms; default the incumbent's, read once) is the level the box is
    closed at: below the incumbent's, closing proves only that no assignment in the box
    costs less, and the boxes left open are narrowed for that level alone.
    """
    cutoff = inc.cutoff if cutoff is None else cutoff
    if not tighten_ranges(t, box, cutoff, inc.cutoff):
        return []
    model = build(t, box.counts, box.lo, box.hi)
    left = None if deadline is None else deadline - time.perf_counter()
    if left is not None and left <= 0:
        return [box]
    hint = model.hint(inc.assignment, t.interference(inc.assignment))
    sol = solve_matrix(model.c, model.constant, model.a, model.row_lo, model.row_hi,
                       model.col_lo, model.col_hi, model.integer, time_limit=left,
                       threads=1, mip_rel_gap=0.25 * inc.gap, hint=hint,
                       cutoff=cutoff, reset=False)
    if sol.status == "infeasible":
        return []
    if sol.x is not None:
        a = model.assignment(sol.x)
        total = score(a)
        with lock:
            if total < inc.total:
                inc.assignment, inc.total, inc.improved = a, total, True
    if sol.bound is not None:
        box.raise_bound(sol.bound - SAFETY * abs(sol.bound))
    if box.bound >= cutoff:
        return []
    if sol.status != "optimal" or sol.x is None:
        return [box]
    return _split(t, box, model, model.assignment(sol.x)) or [box]


class _Queue:
    """Boxes waiting, lowest bound first, shared by the worker threads."""

    def __init__(self, boxes: list[Box]) -> None:
        self.waiting = boxes
        self.open: list[Box] = []
        self.busy = 0
        self.finished = 0
        self.spent = 0.0
        self.cond = threading.Condition()

    def take(self, deadline: float | None) -> Box | None:
        """The next box, or ``None`` when all are done or the deadline has passed."""
        with self.cond:
            while True:
                if deadline is not None and time.perf_counter() > deadline:
                    return None
                if self.waiting:
                    self.busy += 1
                    return self.waiting.pop(0)
                if self.busy == 0:
                    return None
                self.cond.wait(0.05)

    def done(self, box: Box, out: list[Box], seconds: float) -> None:
        """Record what working on ``box`` for ``seconds`` left open (``[box]``: stopped,
        kept open)."""
        with self.cond:
            self.busy -= 1
            if len(out) == 1 and out[0] is box:
                self.open.append(box)
            else:
                self.finished += 1
                self.spent += seconds
                self.waiting[:0] = out
            self.cond.notify_all()


def _run(queue: _Queue, work: Callable[[Box], list[Box]], deadline: float | None,
         threads: int) -> None:
    """Work through ``queue`` on ``threads`` Python threads until it is empty or the
    deadline passes; a worker's error is re-raised here."""
    errors: list[BaseException] = []

    def worker() -> None:
        while (box := queue.take(deadline)) is not None:
            out, began = [box], time.perf_counter()
            try:
                out = work(box)
            except BaseException as exc:  # re-raised in the calling thread below
                errors.append(exc)
                with queue.cond:
                    queue.waiting.clear()
            finally:
                queue.done(box, out, time.perf_counter() - began)

    # HiGHS keeps one task scheduler per calling thread, so each worker gets its own and
    # none resets another's (resetting one while another thread solves is unsafe).
    workers = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, threads))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]


def _close_at(t: ChordTables, base: Box, inc: Incumbent,
              score: Callable[[np.ndarray], float], deadline: float | None,
              lock: threading.Lock, level: float) -> None:
    """Raise ``base``'s bound to ``level`` or above (or to what the deadline left proven)
    by closing a copy of it, and the boxes it splits into, at that level (or at the
    incumbent's cutoff, once a better assignment found on the way brings it lower)."""
    stack = [base.copy()]
    proven: list[float] = []
    while stack:
        box = stack.pop()
        cutoff = min(level, inc.cutoff)
        out = close_box(t, box, inc, score, deadline, lock, cutoff)
        if len(out) == 1 and out[0] is box:
            proven.append(box.bound)
            if deadline is not None and time.perf_counter() > deadline:
                break
        else:
            stack.extend(out)
            if not out:  # closed: at the cutoff, or at the LP's bound above it
                proven.append(max(box.bound, cutoff))
    base.bound = max(base.bound, min([*proven, *(b.bound for b in stack)]))


def _level(bounds: list[float], room: int, cutoff: float) -> float:
    """The next level (total ms) for open vectors with sorted ``bounds``: the bound of
    the first vector beyond the ``room`` the last pass's rate allows, and at most halfway
    from the lowest bound to the ``cutoff`` (a pass at a higher level costs more per
    vector than the last one measured)."""
    if not np.isfinite(bounds[0]):
        return cutoff
    half = 0.5 * (bounds[0] + cutoff)
    if room >= len(bounds) or room < 1:
        return half
    return min(half, bounds[room]) if bounds[room] > bounds[0] else half


def close_vectors(t: ChordTables, vectors: list[tuple[float, np.ndarray]], inc: Incumbent,
                  score: Callable[[np.ndarray], float], deadline: float | None,
                  threads: int = 1,
                  ranges: list[tuple[np.ndarray, np.ndarray]] | None = None) -> float:
    """Close the listed count vectors, the incumbent's first, on ``threads`` Python
    threads (HiGHS releases the interpreter while it solves).

    Without a deadline every vector is closed, lowest bound first. With one, the first
    :data:`PROBE` of the time closes vectors in a random order, which measures the rate
    at which they close (from the time each took). If that rate can close all in the
    time left, the rest follow, lowest first. Otherwise the next pass closes only the
    vectors below a *level* (the bound of the first vector beyond what the last pass's
    rate allows, at most halfway from the lowest bound to the cutoff), and only at that
    level, which is cheaper: at N = 120, 0.04 s per vector at 0.45 % below the incumbent
    against 0.11 s at the cutoff (``formulations/README.md``). Passes repeat with rising
    levels until the deadline, or until the rate can close all or a level would already
    prove the requested gap. So a time limit ends with the vectors raised to about the
    same level, instead of the lowest closed and the rest at their table bounds; a pass
    never lowers a bound already proven.

    Parameters
    ----------
    t
        The chord tables.
    vectors
        ``(bound, counts)`` pairs: each vector with a proven bound (total ms) of its own.
    inc
        The incumbent; updated in place when a better assignment is found.
    score
        The true total cost (ms) of an assignment.
    deadline
        ``time.perf_counter()`` value to stop at, or ``None``.
    threads
        Worker threads (each runs single-threaded HiGHS).
    ranges
        Per vector, interference ranges (W) that hold every assignment of the vector
        below the cutoff (e.g. from the Lagrangian tables), or ``None``.

    Returns
    -------
    float
        A proven lower bound (total ms) on every assignment with a listed count vector.
    """
    own = np.bincount(inc.assignment[inc.assignment >= 0], minlength=t.rx.shape[1])
    boxes = []
    for k, (b, c) in enumerate(vectors):
        lo, hi = t.interference_range(np.asarray(c))
        if ranges is not None:
            lo = np.maximum(lo, ranges[k][0])
            hi = np.maximum(np.minimum(hi, ranges[k][1]), lo)
        boxes.append(Box(np.asarray(c, np.int64), lo, hi, b,
                         np.inf if ranges is None else inc.cutoff))
    boxes.sort(key=lambda x: (not np.array_equal(x.counts, own), x.bound))
    if deadline is not None:  # the probe samples every bound, in a random order
        order = np.random.default_rng(PROBE_SEED).permutation(len(boxes) - 1) + 1
        boxes = boxes[:1] + [boxes[k] for k in order]
    lock = threading.Lock()
    start = time.perf_counter()
    stop = None if deadline is None else start + PROBE * (deadline - start)
    level, full_rate = inc.cutoff, 0.0
    while boxes:
        if level >= inc.cutoff:  # a full pass: the boxes left open replace their vector's
            queue = _Queue(boxes)
            _run(queue, lambda b, s=stop: close_box(t, b, inc, score, s, lock), stop, threads)
            boxes = queue.open + queue.waiting
        else:
            queue = _Queue([b for b in boxes if b.bound < level])
            _run(queue, lambda b, s=stop, c=level: _close_at(t, b, inc, score, s, lock, c) or [],
                 stop, threads)
        boxes = sorted((b for b in boxes if b.bound < inc.cutoff), key=lambda x: x.bound)
        now = time.perf_counter()
        if deadline is None or now >= deadline or not boxes:
            break
        # Vectors per second on all threads, from the time each finished one took.
        rate = max(1, threads) * queue.finished / max(queue.spent, 1e-9)
        if level >= inc.cutoff:
            full_rate = rate
        level = _level([b.bound for b in boxes], int(rate * (deadline - now)), inc.cutoff)
        if full_rate * (deadline - now) >= len(boxes) or level > inc.total * (1.0 - inc.gap):
            level = inc.cutoff  # all can close in time, or the level would prove the gap
        stop = deadline
    return min([inc.cutoff, *(b.bound for b in boxes)])
