"""Local search under interference (:mod:`mecopt.heuristics.local_search`): single moves
and swaps, each checked exhaustively at the end on small instances."""

import numpy as np
import pytest

import mecopt
from mecopt.heuristics.local_search import improve


@pytest.mark.parametrize("seed", range(4))
def test_result_is_move_and_swap_optimal(seed):
    inst = mecopt.scenario("kim2026-published", 12, seed=seed, tau=None)
    rng = np.random.default_rng(seed)
    start = rng.integers(-1, inst.n_servers, inst.n_users)
    a = improve(inst, start, time_budget=60.0)
    m = mecopt.evaluate(inst, a)
    assert m.feasible
    assert m.objective <= mecopt.evaluate(inst, start).objective
    tol = 1e-12 * m.objective
    for i in range(inst.n_users):
        for t in range(-1, inst.n_servers):
            b = a.copy()
            b[i] = t
            assert mecopt.evaluate(inst, b).objective >= m.objective - tol
        for k in range(i + 1, inst.n_users):
            b = a.copy()
            b[i], b[k] = a[k], a[i]
            assert mecopt.evaluate(inst, b).objective >= m.objective - tol


def test_swaps_respect_the_rule():
    inst = mecopt.scenario("kim2026-published", 12, seed=5, tau=0.5)
    a = improve(inst, mecopt.solve(inst, "edge-all").assignment, time_budget=60.0)
    assert mecopt.evaluate(inst, a).feasible
