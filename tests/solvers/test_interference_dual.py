"""The Lagrangian interference bound (:mod:`mecopt.formulations.bounds.interference_dual`): never
above the brute-force optimum (N <= 7, side rows, tau, limits, energy weights and budgets,
M/D/1 queues), at any multipliers; never above the count-intervals optimum at N = 14; at
least the interference-aware bound it generalises."""

import numpy as np
import pytest
from conftest import INTERFERENCE_CASES, interference_case

import mecopt
from mecopt.formulations.bounds.interference import interference_bound
from mecopt.formulations.bounds.interference_dual import (
    DualTables,
    ascent,
    dual_bound,
    evaluate_dual,
)
from mecopt.formulations.bounds.lagrangian import start_multipliers
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import LayerCosts


def _start(inst: mecopt.Instance, assignment: np.ndarray) -> np.ndarray:
    return start_multipliers(LayerCosts.of(inst.replace(interference="none")), assignment)


def _assert_bounds_below_bruteforce(inst: mecopt.Instance, seed: int, draws: int) -> None:
    """The ascent's bound and the bound at ``draws`` random multipliers never exceed the
    brute-force optimum (any multipliers give a bound, not only the ascent's)."""
    ref = mecopt.solve(inst, "bruteforce")
    assert ref.status == "optimal"
    scale = MS * inst.n_users
    tables = DualTables.of(inst)
    value, u, pi = ascent(tables, _start(inst, ref.assignment), np.inf, deadline=None, max_iter=25)
    assert value / scale <= ref.objective * (1 + 1e-9)
    rng = np.random.default_rng(seed)
    for _ in range(draws):
        v, _, _ = evaluate_dual(tables, u + rng.normal(0, 20, u.size), rng.normal(0, 5.0, pi.shape))
        assert v / scale <= ref.objective * (1 + 1e-9)


@pytest.mark.parametrize(("kind", "seed"), [c for c in INTERFERENCE_CASES if c[0] != "infeasible"])
def test_bound_never_exceeds_bruteforce(kind, seed):
    _assert_bounds_below_bruteforce(interference_case(kind, seed), seed, draws=5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_published_setting_bound_is_tight_and_valid_at_n7(seed):
    inst = mecopt.scenario("kim2026-published", 7, seed=seed)
    ref = mecopt.solve(inst, "bruteforce")
    b = dual_bound(inst, _start(inst, ref.assignment), ref.objective, deadline=None, max_iter=40)
    assert b <= ref.objective * (1 + 1e-9)
    assert b >= ref.objective * (1 - 2e-3)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_bound_below_the_count_intervals_optimum(seed):
    inst = mecopt.scenario("kim2026-published", 14, seed=seed)
    ref = mecopt.solve(inst, "highs", formulation="count-intervals", time_limit=120, threads=1)
    assert ref.status == "optimal"
    b = dual_bound(inst, _start(inst, ref.assignment), ref.objective, deadline=None, max_iter=30)
    assert b <= ref.objective * (1 + 1e-9)


@pytest.mark.parametrize("seed", [0, 3])
def test_at_least_the_interference_aware_bound_at_zero_prices(seed):
    # With pi = 0 each ES claims its strongest users as local, which is what the
    # interference-aware bound assumes; the interval grid only loses a little.
    inst = mecopt.scenario("kim2026-published", 20, seed=seed)
    a = mecopt.solve(inst, "goa").assignment
    u = _start(inst, a)
    tables = DualTables.of(inst)
    v, _, _ = evaluate_dual(tables, u, np.zeros((inst.n_users, inst.n_servers)))
    old = interference_bound(inst, u)
    assert np.isfinite(v)
    assert v / (MS * inst.n_users) >= old - 0.02 * abs(old)


@pytest.mark.parametrize(
    "spec",
    [
        ("energy", 6, 3, 5, "processor-sharing"),
        ("energy", 6, 3, 7, "md1"),
        ("energy", 6, 3, 8, "processor-sharing"),
        ("energy", 6, 3, 10, "md1"),
    ],
)
def test_bound_with_energy_budgets_and_queues_never_exceeds_bruteforce(spec):
    from conftest import build_energy

    _assert_bounds_below_bruteforce(build_energy(spec, "other-cells"), 7, draws=1)


@pytest.mark.parametrize(("kind", "seed"), [("plain", 0), ("tau", 4), ("max-users", 5)])
def test_bound_with_a_focused_grid_never_exceeds_bruteforce(kind, seed):
    from mecopt.channel import INTERFERENCE

    inst = interference_case(kind, seed)
    ref = mecopt.solve(inst, "bruteforce")
    rng = np.random.default_rng(seed)
    # A focus anywhere (the optimum's interference, or a random level) keeps it a bound.
    for focus in (
        INTERFERENCE.get("other-cells").interference(inst, ref.assignment),
        rng.uniform(0, 1, inst.n_servers) * (inst.tx_power[:, None] * inst.gain).sum(axis=0),
    ):
        tables = DualTables.of(inst, focus=focus)
        value, _, _ = ascent(
            tables, _start(inst, ref.assignment), np.inf, deadline=None, max_iter=20
        )
        assert value / (MS * inst.n_users) <= ref.objective * (1 + 1e-9)


def test_accepts_only_other_cells_from_40_users_with_time_left():
    from mecopt.solvers.exact import interference_dual as solver

    big = mecopt.scenario("kim2026-published", 40, seed=0)
    assert solver.runs_on(big, 60.0)
    assert not solver.runs_on(big, solver.MIN_LEFT / 2)
    assert not solver.runs_on(big.replace(interference="none"), 60.0)
    assert not solver.runs_on(mecopt.scenario("kim2026-published", 20, seed=0), 60.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_search_bound_never_exceeds_bruteforce(seed):
    from mecopt.solvers.exact import interference_dual as solver

    inst = mecopt.scenario("kim2026-published", 7, seed=seed)
    ref = mecopt.solve(inst, "bruteforce")
    start = mecopt.solve(inst, "goa").assignment
    obj = mecopt.evaluate(inst, start).objective
    a, b = solver.search(inst, start, obj, 1e-4, None)
    assert b is not None and b <= ref.objective * (1 + 1e-9)
    if a is not None:
        assert mecopt.evaluate(inst, a).feasible
