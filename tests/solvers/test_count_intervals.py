"""Count vectors with interference intervals (formulation "count-intervals").

Checked against brute force (the evaluator on every assignment) on tiny instances with side
constraints, limits, energy weights and an infeasible one; the listing bounds and the
fixed-count model are checked to be lower bounds of every assignment with those counts.
"""

import itertools

import numpy as np
import pytest
from conftest import INTERFERENCE_CASES, interference_case, interval_matches_bruteforce

import mecopt
from mecopt.errors import MecoptError
from mecopt.evaluate import evaluate
from mecopt.formulations.interference import count_intervals as ic
from mecopt.formulations.interference.geometry import interference_range
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import local_cost, prunable
from mecopt.solvers.exact import count_intervals as search_mod
from mecopt.solvers.highs_matrix import solve_matrix


def _per_vector_minimum(inst: mecopt.Instance) -> dict[tuple[int, ...], float]:
    """Brute force: the best true objective (mean, s) of every count vector."""
    best: dict[tuple[int, ...], float] = {}
    for a in itertools.product(range(-1, inst.n_servers), repeat=inst.n_users):
        a = np.array(a)
        m = evaluate(inst, a)
        if not m.feasible:
            continue
        key = tuple(np.bincount(a[a >= 0], minlength=inst.n_servers).tolist())
        best[key] = min(best.get(key, np.inf), m.objective)
    return best


@pytest.mark.parametrize(("kind", "seed"), INTERFERENCE_CASES)
def test_count_intervals_equal_bruteforce(kind, seed):
    interval_matches_bruteforce(kind, seed, "count-intervals")


@pytest.mark.parametrize(("kind", "seed"), [("plain", 0), ("plain", 1), ("accuracy", 3)])
def test_listing_and_model_are_lower_bounds(kind, seed):
    """Each vector's listing bound and its model's optimum (any breakpoints) lie at or
    below the best assignment with those counts, and the model's answer has them."""
    inst = interference_case(kind, seed)
    if inst.min_accuracy is None:
        # A target every assignment meets turns the dominance reduction off (it drops
        # vectors whose answers another vector beats), leaving each vector whole.
        inst = inst.replace(min_accuracy=0.0)
    assert not prunable(inst).any()
    exact = _per_vector_minimum(inst)
    exact.pop((0,) * inst.n_servers, None)  # all local: settled without a model
    scale = MS * inst.n_users
    base = float(local_cost(inst).sum() * MS)
    listed, started = search_mod.listing(inst, np.inf)
    assert started
    listed_bound = {tuple(c.tolist()): (v + base) / scale for v, c in listed}
    rng = np.random.default_rng(seed)
    for counts, best in exact.items():
        assert listed_bound[counts] <= best * (1 + 1e-9)
        lo, hi = interference_range(inst, np.array(counts))
        extra = [list(rng.uniform(lo[j], hi[j], 2)) for j in range(inst.n_servers)]
        for intervals, more in ((1, None), (4, extra)):
            model = ic.build(inst, np.array(counts), ic.grid(inst, np.array(counts),
                                                             intervals, more))
            n = model.c.size
            s = solve_matrix(model.c, model.constant, model.a, model.row_lo, model.row_hi,
                             np.zeros(n), np.ones(n), model.integer, mip_rel_gap=1e-9)
            assert s.status == "optimal"
            assert s.objective / scale <= best * (1 + 1e-9)
            a = model.decode(s.x)
            assert np.array_equal(np.bincount(a[a >= 0], minlength=inst.n_servers), counts)
            assert evaluate(inst, a).objective >= best * (1 - 1e-12)


@pytest.mark.parametrize(("kind", "seed"), [("plain", 0), ("accuracy", 2)])
def test_search_without_a_start_finds_the_optimum(kind, seed):
    inst = interference_case(kind, seed)
    ref = mecopt.solve(inst, "bruteforce")
    out = search_mod.search(inst, [], deadline=None, gap=1e-6)
    assert out.started and out.complete and not out.infeasible
    best = evaluate(inst, out.assignments["count-intervals"])
    assert best.feasible and best.objective == pytest.approx(ref.objective, rel=1e-6)
    assert out.bound <= ref.objective * (1 + 1e-12)


def test_time_limit_keeps_an_honest_bound():
    inst = mecopt.scenario("kim2026", 30, 0, interference="other-cells")
    # Named, so a loaded machine cannot turn "auto" to the interval model (which rows
    # "auto" takes is tested in tests/solvers/test_exact_chain.py).
    res = mecopt.solve(inst, "exact", time_limit=3, gap=1e-4, formulation="count-intervals")
    assert res.info["formulation"] == "count-intervals"
    assert res.runtime <= 3 * 1.1 + 1
    assert res.metrics.feasible
    assert res.bound is not None and res.bound <= res.objective
    # A 3 s limit does not settle seed 0 (about 480 vectors): no optimality is claimed.
    assert res.status == "feasible" and res.gap > 1e-4


def test_auto_falls_back_to_the_interval_model(monkeypatch):
    inst = mecopt.scenario("kim2026", 9, 0, tau=None, interference="other-cells")
    monkeypatch.setattr(search_mod, "MAX_VECTORS", 10)
    res = mecopt.solve(inst, "exact", time_limit=30)
    assert res.info["formulation"] == "intervals"
    explicit = mecopt.solve(inst, "exact", formulation="count-intervals", time_limit=5)
    assert explicit.info["formulation"] == "count-intervals"
    assert "not started" in explicit.message
    assert explicit.bound is None or explicit.bound <= explicit.objective


def test_auto_picks_count_intervals_on_highs_only():
    inst = mecopt.scenario("kim2026", 9, 1, tau=None, interference="other-cells")
    res = mecopt.solve(inst, "exact")
    assert res.info["formulation"] == "count-intervals"
    assert res.status == "optimal"
    # Without a time limit, only up to COUNT_INTERVALS_UNLIMITED_N users.
    big = mecopt.scenario("kim2026", 31, 1, interference="other-cells")
    assert mecopt.solve(big, "exact").info["formulation"] != "count-intervals"
    pytest.importorskip("ortools")
    assert res.info["count_intervals_highs"] == res.solver_version
    other = mecopt.solve(inst, "ortools-mip", time_limit=30)
    assert other.info["formulation"] == "intervals"
    assert other.objective >= res.objective * (1 - 1e-9)


def test_count_intervals_needs_other_cells():
    inst = mecopt.scenario("kim2026", 6, 0)
    with pytest.raises(MecoptError, match="count-intervals.*other-cells"):
        mecopt.solve(inst, "exact", formulation="count-intervals")
