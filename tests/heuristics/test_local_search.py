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


@pytest.mark.parametrize("case", ["plain", "weights", "mm1", "limits"])
def test_batch_objective_equals_the_evaluator(case):
    from mecopt.heuristics.local_search import batch_objective

    inst = mecopt.scenario("kim2026-published", 15, seed=2, tau=None)
    if case == "weights":
        inst = inst.replace(cost_energy=np.full(15, 0.3), cost_accuracy=0.01)
    elif case == "mm1":
        mu = inst.capacity / inst.edge_work.mean()
        inst = inst.replace(queue="mm1", arrival_rate=float(mu.min() / 8.5))
    elif case == "limits":
        inst = inst.replace(max_users=np.full(inst.n_servers, 4))
    rng = np.random.default_rng(1)
    rows = rng.integers(-1, inst.n_servers, (40, inst.n_users))
    got = batch_objective(inst, rows)
    for a, g in zip(rows, got, strict=True):
        m = mecopt.evaluate(inst, a)
        if m.feasible:
            assert g == pytest.approx(m.objective, rel=1e-12)
        else:
            # Over an ES limit or an unstable queue: the only violations without side rows.
            assert not np.isfinite(g)


def test_side_row_stays_met():
    inst = mecopt.scenario("kim2026-published", 12, seed=1, tau=None)
    start = mecopt.solve(inst, "edge-all").assignment
    inst = inst.replace(min_accuracy=float(mecopt.evaluate(inst, start).accuracy) - 1e-6)
    a = improve(inst, start, time_budget=30.0)
    m = mecopt.evaluate(inst, a)
    assert m.feasible
    assert m.objective <= mecopt.evaluate(inst, start).objective
