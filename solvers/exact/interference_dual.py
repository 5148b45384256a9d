"""Closing step with other-cells interference beyond the interval methods' reach: the
Lagrangian interference bound (:mod:`mecopt.formulations.bounds.interference_dual`) lists
the count vectors that may still beat the incumbent, and the chord model closes them
(:mod:`mecopt.solvers.exact.vector_chord`).

The driver asks :func:`accepts` (the instance and the time left, :func:`runs_on`) and then
:func:`run`, which calls :func:`search`: a better feasible assignment (or ``None``; none
so far) and a proven lower bound; the driver re-evaluates the assignment and keeps the best.
:func:`search` starts from the incumbent's congestion prices and raises the bound over all
count vectors by the bundle method until it meets the incumbent (less the requested gap)
or its share of the budget ends. It then lists the count vectors whose bound is still
below the incumbent, lowest first, with the interference ranges their table bounds allow
(:func:`~mecopt.formulations.bounds.interference_vectors.vector_ranges`), and closes them
one by one with the chord model in a branch and bound over interference ranges, on
``threads`` threads (the ascent's ES tables use them too); a better assignment
found there becomes the incumbent. The bound is the least of the open vectors' bounds.
Without the chord model (an energy budget makes the costs non-concave) or with too many
vectors to list, the listed vectors are raised by the per-vector Lagrangian
(:mod:`mecopt.formulations.bounds.interference_vectors`) instead.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from mecopt.channel import INTERFERENCE
from mecopt.evaluate import evaluate
from mecopt.formulations.bounds.interference_dual import (
    MAX_USERS,
    SAFETY,
    DualTables,
    ascent,
)
from mecopt.formulations.bounds.interference_vectors import (
    interval_stacks,
    listed,
    refine,
    vector_ranges,
)
from mecopt.formulations.bounds.lagrangian import start_multipliers
from mecopt.formulations.interference.chord import ChordTables, applies
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import LayerCosts
from mecopt.instance import Instance
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import SolveState
from mecopt.solvers.exact.vector_chord import Incumbent, close_vectors

#: Fewest users the method runs for (below, the count-intervals search is exact and fast).
MIN_USERS = 30
#: Seconds (at most) of the bound's ascent without a time limit.
BUDGET = 60.0
#: Share of the budget the ascent over all count vectors may take; the rest closes the
#: vectors still below the incumbent (measured at N = 120: 0.3-0.45 beat 0.6, see
#: ``benchmarks/exact_scale/README.md``).
ASCENT_SHARE = 0.4
#: Most count vectors closed by the chord model (above, the rest keep their table bound).
MOST_VECTORS = 2000
#: Seconds of the time left kept for the local search and the report after the ascent.
RESERVE = 4.0
#: The ascent does not start with fewer seconds left (a short limit keeps the driver's
#: earlier figures: the replay's 10 s solves are unchanged).
MIN_LEFT = 8.0


def runs_on(inst: Instance, left_seconds: float) -> bool:
    """Whether :func:`search` runs on ``inst`` with ``left_seconds`` left.

    Parameters
    ----------
    inst
        The instance.
    left_seconds
        Seconds left before the driver's deadline (``inf`` without a limit).
    """
    return (
        INTERFERENCE.get(inst.interference).from_other_servers
        and MIN_USERS <= inst.n_users <= MAX_USERS
        and left_seconds >= MIN_LEFT
    )


def search(
    inst: Instance, assignment: np.ndarray, objective: float, gap: float, deadline: float | None,
    threads: int = 1,
) -> tuple[np.ndarray | None, float | None]:
    """A better feasible assignment (or ``None``) and a proven lower bound (mean
    objective, s; or ``None``).

    Parameters
    ----------
    inst
        An ``"other-cells"`` instance :func:`runs_on` accepts.
    assignment
        The driver's incumbent (feasible).
    objective
        Its true objective (mean, s).
    gap
        The requested relative gap.
    deadline
        ``time.perf_counter()`` value the driver must stop at, or ``None``.
    threads
        Threads that close count vectors in parallel.
    """
    model = INTERFERENCE.get(inst.interference)
    if not model.from_other_servers or inst.n_users > MAX_USERS:
        return None, None
    now = time.perf_counter()
    left = np.inf if deadline is None else deadline - now
    if left < MIN_LEFT:
        return None, None
    budget = min(BUDGET, left - RESERVE)
    u0 = start_multipliers(LayerCosts.of(inst.replace(interference="none")), assignment)
    focus = model.interference(inst, np.asarray(assignment))
    tables = DualTables.of(inst, focus=focus)
    scale = MS * inst.n_users
    # A tenth of the gap is kept as margin (as the chord closing's cutoff).
    target = objective * (1.0 - 0.9 * gap) * scale
    with ThreadPoolExecutor(max(1, threads)) as pool:
        value, u, pi = ascent(tables, u0, target, deadline=now + ASCENT_SHARE * budget,
                              max_iter=200, pool=pool if threads > 1 else None)
        if not np.isfinite(value):
            return None, None
        if value >= target:
            return None, value / scale - SAFETY * abs(value / scale)
        stacks = interval_stacks(tables, u, pi, pool) if applies(inst) else None
    found = None if stacks is None else listed(tables, u, pi, target, MOST_VECTORS, stacks)
    if found is None:
        value = max(value, refine(tables, u, pi, target, deadline=now + budget))
        return None, value / scale - SAFETY * abs(value / scale)
    vectors, rest = found
    ranges = vector_ranges(tables, stacks, vectors, target)
    inc = Incumbent(np.asarray(assignment, np.int64), objective * scale, gap)

    def score(a: np.ndarray) -> float:
        m = evaluate(inst, a)
        return m.objective * scale if m.feasible else np.inf

    closed = close_vectors(ChordTables.of(inst), [(b, np.array(k)) for b, k in vectors], inc,
                           score, now + budget, threads, ranges)
    value = max(value, min(closed, rest, target))
    return (inc.assignment if inc.improved else None), value / scale - SAFETY * abs(value / scale)


def accepts(state: SolveState) -> bool:
    """Whether the step runs in this solve (:func:`runs_on` with the time left)."""
    return state.inst.interference != "none" and runs_on(state.inst, state.budget.left())


def run(state: SolveState) -> Outcome:
    """The search's assignment (``"interference-dual"``) and bound."""
    known = state.best()
    if known is None:
        return Outcome(started=False)
    a, value = search(state.inst, known[1], known[2].objective, state.options.gap,
                      state.deadline, state.options.threads)
    out = Outcome(bounds={} if value is None else {"interference-dual": value})
    if a is not None:
        out.assignments["interference-dual"] = a
    return out
