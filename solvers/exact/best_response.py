"""Best response to a fixed interference: a primal step for interference instances (it
adds candidates only; the chain goes on).

Fold the interference an assignment causes at each ES into that ES's noise
(``sigma_j^2 + I_j``), solve the interference-free instance that results exactly, score
its answer under the true interference with the evaluator, and repeat from it until an
answer comes back a second time or the time is up. Every answer is a candidate whose
feasibility the evaluator decides; nothing here is a bound.

Local search moves one user at a time and stops where no single move pays; a best
response moves everyone at once against the current interference (what it gains on
kim2026: ``benchmarks/exact_scale/README.md``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from mecopt.channel import INTERFERENCE
from mecopt.instance import Instance
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import SolveState

#: Most rounds.
MAX_ROUNDS = 10


def best_response(inst: Instance, start: np.ndarray,
                  solve_free: Callable[[Instance, float | None], np.ndarray | None], *,
                  deadline: float | None, max_rounds: int = MAX_ROUNDS,
                  ) -> list[np.ndarray]:
    """Answers of successive best responses from ``start``.

    Parameters
    ----------
    inst
        An instance with interference.
    start
        The assignment to start from.
    solve_free
        Solves an interference-free instance within a time limit (s, or ``None``) and
        returns its assignment, or ``None``.
    deadline
        ``time.perf_counter()`` value to stop at, or ``None``.
    max_rounds
        Most rounds.

    Returns
    -------
    list of numpy.ndarray
        Every answer found, in order (the caller scores them with the evaluator).
    """
    model = INTERFERENCE.get(inst.interference)
    seen = {np.asarray(start, dtype=np.int64).tobytes()}
    out: list[np.ndarray] = []
    a = np.asarray(start, dtype=np.int64)
    for _ in range(max_rounds):
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            break
        level = model.interference(inst, a)
        fixed = inst.replace(interference="none", noise=inst.noise + level)
        b = solve_free(fixed, left)
        if b is None:
            break
        b = np.asarray(b, dtype=np.int64)
        if b.tobytes() in seen:
            break
        seen.add(b.tobytes())
        out.append(b)
        a = b
    return out


def accepts(state: SolveState) -> bool:
    """Interference instances (not under ``formulation="enumeration"``)."""
    return state.inst.interference != "none" and not state.asked("enumeration")


def run(state: SolveState) -> Outcome:
    """Best responses from the best answer, for at most ``best_response_budget`` seconds
    (and ``best_response_share`` of the time limit); each solve is the driver's."""
    best = state.best()
    if best is None:
        return Outcome(started=False)
    p, limit = state.params, state.options.time_limit
    budget = p.best_response_budget if limit is None \
        else min(p.best_response_budget, p.best_response_share * limit)
    stop = time.perf_counter() + budget
    if state.deadline is not None:
        stop = min(stop, state.deadline)

    def solve_free(fixed: Instance, left: float | None) -> np.ndarray | None:
        return state.inner(fixed, left, 1e-4).assignment

    found = best_response(state.inst, best[1], solve_free, deadline=stop)
    return Outcome(assignments={f"best-response-{k + 1}": a for k, a in enumerate(found)})
