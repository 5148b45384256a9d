"""The interval model for other-cells interference (formulation "intervals").

Checked against brute force (the evaluator on every assignment) on tiny instances with
side constraints and infeasible ones; the model is checked to be a relaxation (every
assignment feasible in it at a cost no larger than its true one) for arbitrary breakpoints.
"""

import time

import numpy as np
import pytest
from conftest import INTERFERENCE_CASES, interference_case, interval_matches_bruteforce

import mecopt
from mecopt.errors import MecoptError
from mecopt.evaluate import evaluate
from mecopt.formulations.interference.geometry import max_interference, true_interference
from mecopt.formulations.interference.intervals import build_intervals


@pytest.mark.parametrize(("kind", "seed"), INTERFERENCE_CASES)
def test_intervals_equal_bruteforce(kind, seed):
    interval_matches_bruteforce(kind, seed, "intervals")


@pytest.mark.parametrize("seed", [0, 1])
def test_model_is_a_relaxation(seed):
    """Every assignment is feasible in the model at a cost at most its true cost, exactly
    its true cost when its interference sits at interval lower ends."""
    inst = interference_case("plain", seed)
    rng = np.random.default_rng(seed)
    top = max_interference(inst)
    breaks = [np.sort(rng.uniform(0, top[j], 3)) for j in range(inst.n_servers)]
    model = build_intervals(inst, breaks)
    scale = 1e3 * inst.n_users
    for _ in range(40):
        a = rng.integers(-1, inst.n_servers, inst.n_users)
        m = evaluate(inst, a)
        x = model.encode(a)
        if x is None:
            # Only a dominated offload (cost not below local) is reduced away.
            continue
        assert model.milp.max_violation(x) <= 1e-7
        assert model.milp.objective(x) / scale <= m.objective * (1 + 1e-9)
        np.testing.assert_array_equal(model.decode(x), a)
    # With breakpoints at its own interference, the model prices an assignment exactly.
    a = rng.integers(0, inst.n_servers, inst.n_users)
    level = true_interference(inst, a)
    exact = build_intervals(inst, [np.array([level[j] * (1 - 1e-9)])
                                   for j in range(inst.n_servers)])
    x = exact.encode(a)
    if x is not None:
        assert exact.milp.objective(x) / scale == pytest.approx(evaluate(inst, a).objective,
                                                                rel=1e-6)


def test_beyond_enumeration_both_exact_models_agree():
    inst = mecopt.scenario("kim2026", 10, 3, interference="other-cells")
    auto = mecopt.solve(inst, "exact", time_limit=30)
    assert auto.info["formulation"] == "count-intervals"
    assert auto.status == "optimal"
    res = mecopt.solve(inst, "exact", formulation="intervals", time_limit=30)
    assert res.info["formulation"] == "intervals"
    assert res.bound <= auto.objective * (1 + 1e-9)
    assert auto.bound <= res.objective * (1 + 1e-9)
    if res.status == "optimal":
        assert res.gap <= 1e-4
        assert res.objective == pytest.approx(auto.objective, rel=1e-4)
    free = mecopt.solve(inst.replace(interference="none"), "exact")
    # Interference only raises costs: the interference-free optimum is below.
    assert res.bound >= free.objective * (1 - 1e-9)


def test_time_limit_returns_incumbent_with_bound():
    inst = mecopt.scenario("kim2026", 30, 0, interference="other-cells")
    limit = 4.0
    t0 = time.perf_counter()
    res = mecopt.solve(inst, "exact", formulation="intervals", time_limit=limit)
    wall = time.perf_counter() - t0
    assert wall <= 1.1 * limit + 1.0
    assert res.status in ("feasible", "optimal")
    assert res.metrics.feasible
    assert res.bound is not None and res.bound <= res.objective
    if res.status == "feasible":
        assert res.gap > 1e-4
    assert res.time_limit == limit


def test_intervals_need_other_cells():
    inst = mecopt.scenario("kim2026", 6, 0)
    with pytest.raises(MecoptError, match="intervals"):
        mecopt.solve(inst, "highs", formulation="intervals")


@pytest.mark.parametrize("backend", ["ortools-mip", "pyomo", "cvxpy"])
def test_other_backends_solve_the_interval_model(backend):
    inst = interference_case("accuracy", 2)
    ref = mecopt.solve(inst, "bruteforce")
    try:
        res = mecopt.solve(inst, backend, formulation="intervals", time_limit=60, threads=1)
    except mecopt.errors.MissingDependencyError:
        pytest.skip(f"{backend} not installed")
    assert res.status == "optimal"
    assert res.objective == pytest.approx(ref.objective, rel=1e-4)
    assert res.bound <= ref.objective * (1 + 1e-9)


def test_auto_without_time_limit_keeps_the_fast_path_beyond_twelve_users():
    # A proof at N = 20-30 can take minutes: without a time limit "auto" returns the
    # interference-free path's answer with its proven gap instead.
    inst = mecopt.scenario("kim2026", 20, 0, interference="other-cells")
    res = mecopt.solve(inst, "exact")
    assert res.info["formulation"] != "intervals"
    assert res.bound <= res.objective


def test_one_builder_with_or_without_fixed_counts():
    """``interference.build`` gives the interval model without counts and the fixed-count
    model with them, the same objects as their own builders."""
    from mecopt.formulations import interference
    from mecopt.formulations.interference import count_intervals

    inst = interference_case("plain", 0)
    breaks = [np.array([0.5 * float(v)]) for v in max_interference(inst)]
    whole = interference.build(inst, breaks)
    ref = build_intervals(inst, breaks)
    assert np.array_equal(whole.milp.c, ref.milp.c)
    assert (whole.milp.A != ref.milp.A).nnz == 0
    counts = np.array([2, 1, 0, 1])
    grid = count_intervals.grid(inst, counts, 4)
    fixed = interference.build(inst, grid, counts)
    ref_fixed = count_intervals.build(inst, counts, grid)
    assert isinstance(fixed, count_intervals.VectorModel)
    assert np.array_equal(fixed.c, ref_fixed.c) and (fixed.a != ref_fixed.a).nnz == 0
