"""Single-move local search under the instance's full model (interference included).

Used by the exact driver on ``"other-cells"`` instances, where the interference-free
optimum is only a starting point: every single-user move (to local or to another ES) is
scored by the evaluator, and improving feasible moves are applied until none is left or
the time budget is spent.
"""

from __future__ import annotations

import time

import numpy as np

from mecopt.evaluate import evaluate
from mecopt.instance import Instance


def improve(inst: Instance, assignment: np.ndarray, *, time_budget: float = 2.0,
            max_passes: int = 100) -> np.ndarray:
    """Apply first-improvement single-user moves while they lower the objective.

    Parameters
    ----------
    inst
        The instance (its own interference and queue models are used).
    assignment
        A feasible starting assignment; an infeasible one is returned unchanged.
    time_budget
        Wall-clock seconds after which the search stops (the result is still feasible).
    max_passes
        Upper bound on full passes over the users.

    Returns
    -------
    numpy.ndarray
        A feasible assignment no worse than the start.
    """
    a = np.array(assignment, dtype=np.int64)
    best = evaluate(inst, a)
    if not best.feasible:
        return a
    deadline = time.perf_counter() + time_budget
    targets = np.arange(-1, inst.n_servers)
    for _ in range(max_passes):
        improved = False
        for i in range(inst.n_users):
            current = a[i]
            for t in targets:
                if t == current:
                    continue
                a[i] = t
                m = evaluate(inst, a)
                if m.feasible and m.objective < best.objective - 1e-12 * abs(best.objective):
                    best, current, improved = m, t, True
                else:
                    a[i] = current
            if time.perf_counter() > deadline:
                return a
        if not improved:
            break
    return a
