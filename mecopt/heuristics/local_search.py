"""Local search under the instance's full model (interference included).

Used by the exact driver on ``"other-cells"`` instances, where the interference-free
optimum is only a starting point: every single-user move (to local or to another ES) is
scored by the evaluator, and improving feasible moves are applied until none is left;
then swaps of two users' places (which keep every count, so a single move cannot make
them), and single moves again after an improving swap, until neither improves or the time
budget is spent. On kim2026-published N = 60 (seed 0) swaps took the driver's answer
0.1 % lower.
"""

from __future__ import annotations

import time

import numpy as np

from mecopt.evaluate import Metrics, evaluate
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
            best, improved = _swap_pass(inst, a, best, deadline)
            if not improved:
                break
    return a


def _swap_pass(inst: Instance, a: np.ndarray, best: Metrics, deadline: float
               ) -> tuple[Metrics, bool]:
    """Apply improving swaps of two users' places in ``a`` (in place), one pass."""
    improved = False
    for i in range(inst.n_users):
        for k in range(i + 1, inst.n_users):
            if a[i] == a[k]:
                continue
            a[i], a[k] = a[k], a[i]
            m = evaluate(inst, a)
            if m.feasible and m.objective < best.objective - 1e-12 * abs(best.objective):
                best, improved = m, True
            else:
                a[i], a[k] = a[k], a[i]
        if time.perf_counter() > deadline:
            break
    return best, improved
