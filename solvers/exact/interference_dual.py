"""Closing step with other-cells interference beyond the interval methods' reach: the
Lagrangian interference bound (:mod:`mecopt.formulations.bounds.interference_dual`).

The driver asks :func:`accepts` (the instance and the time left, :func:`runs_on`) and then
:func:`run`, which calls :func:`search`: a better feasible assignment (or ``None``; none
so far) and a proven lower bound; the driver re-evaluates the assignment and keeps the best.
:func:`search` starts from the incumbent's congestion prices and raises the bound over all
count vectors by the bundle method until it meets the incumbent (less the requested gap)
or its share of the budget ends; it then raises the count
vectors still below the incumbent one at a time, each on intervals cut where its bound
is attained (:mod:`mecopt.formulations.bounds.interference_vectors`).
"""

from __future__ import annotations

import time

import numpy as np

from mecopt.channel import INTERFERENCE
from mecopt.formulations.bounds.interference_dual import (
    MAX_USERS,
    SAFETY,
    DualTables,
    ascent,
)
from mecopt.formulations.bounds.interference_vectors import refine
from mecopt.formulations.bounds.lagrangian import start_multipliers
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import LayerCosts
from mecopt.instance import Instance
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import SolveState

#: Fewest users the method runs for (below, the count-intervals search is exact).
MIN_USERS = 40
#: Seconds (at most) of the bound's ascent without a time limit.
BUDGET = 60.0
#: Share of the budget the ascent over all count vectors may take; the rest raises the
#: vectors still below the incumbent one by one
#: (:func:`mecopt.formulations.bounds.interference_vectors.refine`).
ASCENT_SHARE = 0.6
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
    inst: Instance, assignment: np.ndarray, objective: float, gap: float, deadline: float | None
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
    target = objective * (1.0 - gap) * scale
    value, u, pi = ascent(tables, u0, target, deadline=now + ASCENT_SHARE * budget, max_iter=200)
    if not np.isfinite(value):
        return None, None
    if value < target:
        value = max(value, refine(tables, u, pi, target, deadline=now + budget))
    return None, value / scale - SAFETY * abs(value / scale)


def accepts(state: SolveState) -> bool:
    """Whether the step runs in this solve (:func:`runs_on` with the time left)."""
    return state.inst.interference != "none" and runs_on(state.inst, state.budget.left())


def run(state: SolveState) -> Outcome:
    """The search's assignment (``"interference-dual"``) and bound."""
    known = state.best()
    if known is None:
        return Outcome(started=False)
    a, value = search(state.inst, known[1], known[2].objective, state.options.gap,
                      state.deadline)
    out = Outcome(bounds={} if value is None else {"interference-dual": value})
    if a is not None:
        out.assignments["interference-dual"] = a
    return out
