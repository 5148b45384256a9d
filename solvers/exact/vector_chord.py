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
from mecopt.solvers.highs_matrix import column_ranges, solve_matrix

#: Most rounds of bound tightening per box, and the share of a range a round must cut
#: off for another round to follow.
TIGHTEN_ROUNDS = 4
TIGHTEN_SHRINK = 0.9
#: Relative margin a tightened range is widened by (LP tolerances).
RANGE_MARGIN = 1e-7
#: Relative safety margin taken off a MILP's bound (floating point).
SAFETY = 1e-9


@dataclasses.dataclass
class Box:
    """One count vector with interference ranges (W) and its proven bound (total ms)."""

    counts: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    bound: float = -np.inf


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


def tighten_ranges(t: ChordTables, box: Box, cutoff: float) -> bool:
    """Narrow ``box``'s ranges by LP bound tightening; ``False`` when the box holds no
    assignment below ``cutoff`` (total ms)."""
    for _ in range(TIGHTEN_ROUNDS):
        model = build(t, box.counts, box.lo, box.hi)
        found = column_ranges(model.c, model.constant, model.a, model.row_lo, model.row_hi,
                              model.col_lo, model.col_hi, model.e_columns(), cutoff,
                              reset=False)
        if found is None:
            return False
        least, most = found
        margin = RANGE_MARGIN * t.total
        lo = np.maximum(box.lo, box.lo + least * t.scale - margin)
        hi = np.maximum(np.minimum(box.hi, box.lo + most * t.scale + margin), lo)
        old = box.hi - box.lo
        box.lo, box.hi = lo, hi
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
    low, high = Box(box.counts, box.lo.copy(), box.hi.copy(), box.bound), Box(
        box.counts, box.lo.copy(), box.hi.copy(), box.bound)
    low.hi[j], high.lo[j] = at, at
    return [low, high]


def close_box(t: ChordTables, box: Box, inc: Incumbent,
              score: Callable[[np.ndarray], float], deadline: float | None,
              lock: threading.Lock) -> list[Box]:
    """Work on one box: the boxes it leaves open (``[]`` when closed; ``[box]`` when the
    deadline stopped it, with its bound raised to what was proven). ``lock`` guards the
    incumbent; HiGHS runs on one thread without resetting its pool."""
    if not tighten_ranges(t, box, inc.cutoff):
        return []
    model = build(t, box.counts, box.lo, box.hi)
    left = None if deadline is None else deadline - time.perf_counter()
    if left is not None and left <= 0:
        return [box]
    hint = model.hint(inc.assignment, t.interference(inc.assignment))
    sol = solve_matrix(model.c, model.constant, model.a, model.row_lo, model.row_hi,
                       model.col_lo, model.col_hi, model.integer, time_limit=left,
                       threads=1, mip_rel_gap=0.25 * inc.gap, hint=hint,
                       cutoff=inc.cutoff, reset=False)
    if sol.status == "infeasible":
        return []
    if sol.x is not None:
        a = model.assignment(sol.x)
        total = score(a)
        with lock:
            if total < inc.total:
                inc.assignment, inc.total, inc.improved = a, total, True
    if sol.bound is not None:
        box.bound = max(box.bound, sol.bound - SAFETY * abs(sol.bound))
    if box.bound >= inc.cutoff:
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

    def done(self, box: Box, out: list[Box]) -> None:
        """Record what working on ``box`` left open."""
        with self.cond:
            self.busy -= 1
            if len(out) == 1 and out[0] is box:
                self.open.append(box)
            else:
                self.waiting[:0] = out
            self.cond.notify_all()


def close_vectors(t: ChordTables, vectors: list[tuple[float, np.ndarray]], inc: Incumbent,
                  score: Callable[[np.ndarray], float], deadline: float | None,
                  threads: int = 1,
                  ranges: list[tuple[np.ndarray, np.ndarray]] | None = None) -> float:
    """Close the listed count vectors, lowest bound first (the incumbent's first), on
    ``threads`` Python threads (HiGHS releases the interpreter while it solves).

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
        boxes.append(Box(np.asarray(c, np.int64), lo, hi, b))
    boxes.sort(key=lambda x: (not np.array_equal(x.counts, own), x.bound))
    queue = _Queue(boxes)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        while (box := queue.take(deadline)) is not None:
            out = [box]
            try:
                out = close_box(t, box, inc, score, deadline, lock)
            except BaseException as exc:  # re-raised in the calling thread below
                errors.append(exc)
                with queue.cond:
                    queue.waiting.clear()
            finally:
                queue.done(box, out)

    # HiGHS keeps one task scheduler per calling thread, so each worker gets its own and
    # none resets another's (resetting one while another thread solves is unsafe).
    workers = [threading.Thread(target=work, daemon=True) for _ in range(max(1, threads))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    bounds = [b.bound for b in queue.open + queue.waiting]
    return min([inc.cutoff, *bounds])
