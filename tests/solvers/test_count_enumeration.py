"""Count enumeration with a dual pool: exact against brute force, honest when stopped early.

Each count vector's MILP is checked against enumerating every assignment with exactly
those counts; the whole search against brute force on instances with an accuracy target or
a hallucination cap (binding or not), both with a tight gap (it must find the optimum) and
from zero multipliers (it must list every count the bound does not rule out); the LP's
multipliers must reproduce the LP value through the separable bound (the sign convention
the pool relies on).
"""

import itertools

import numpy as np
import pytest
from conftest import with_row

import mecopt
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import LayerCosts
from mecopt.solvers.exact import count_enumeration as ce
from mecopt.solvers.exact.rounds import free_objective


def best_with_counts(inst, counts):
    """Brute force over assignments with exactly ``counts[j]`` users on ES j (MILP units)."""
    best = np.inf
    for a in itertools.product(range(-1, inst.n_servers), repeat=inst.n_users):
        a = np.array(a)
        if np.array_equal(np.bincount(a[a >= 0], minlength=inst.n_servers), counts):
            best = min(best, free_objective(inst, a))
    return best


@pytest.mark.parametrize("row", ["accuracy", "hallucination"])
@pytest.mark.parametrize("seed", range(2))
def test_fixed_count_lp_and_milp_against_enumeration(row, seed):
    inst = with_row(6, seed, row, 0.5)
    costs = LayerCosts.of(inst)
    checked = 0
    for counts in itertools.product(range(4), repeat=inst.n_servers):
        counts = np.array(counts)
        if counts.sum() > inst.n_users:
            continue
        ref = best_with_counts(inst, counts)
        lp = ce.fixed_count_lp(costs, counts)
        status, value, bound, a = ce.fixed_count_milp(costs, lp, np.inf, None, 1e-9)
        # Dominated offloads are left out, so a vector whose only answers use one has
        # nothing; otherwise the MILP finds the enumerated optimum.
        assert lp.value <= ref + 1e-6 or not np.isfinite(lp.value) and status == "none"
        if status == "solved":
            checked += 1
            assert value >= ref - 1e-6
            assert value == pytest.approx(free_objective(inst, a), rel=1e-9)
            assert np.array_equal(np.bincount(a[a >= 0], minlength=inst.n_servers), counts)
            assert lp.value <= value + 1e-6 and bound <= value + 1e-6
            if np.isfinite(ref) and value > ref + 1e-6:
                # Only a dominated offload can beat it: the vector with that user local
                # is cheaper still, so the optimum over all vectors is unaffected.
                assert costs.free.any()
    assert checked > 0


@pytest.mark.parametrize("row", ["accuracy", "hallucination"])
@pytest.mark.parametrize("seed", range(2))
def test_lp_multipliers_reproduce_lp_value(row, seed):
    inst = with_row(12, seed, row, 0.5, n_servers=3)
    costs = LayerCosts.of(inst)
    a = mecopt.solve(inst, "exact").assignment
    counts = np.bincount(a[a >= 0], minlength=inst.n_servers)
    lp = ce.fixed_count_lp(costs, counts)
    assert np.isfinite(lp.value)
    pool = ce._Pool(costs, [np.array([c], dtype=np.int64) for c in counts])
    base, tabs = pool.tables(lp.u, lp.mu)
    separable = base + sum(t[c] for t, c in zip(tabs, counts, strict=True))
    assert separable == pytest.approx(lp.value, rel=1e-7, abs=1e-6)


@pytest.mark.parametrize("row,share", [("accuracy", 0.3), ("accuracy", 0.8),
                                       ("accuracy", -0.2), ("hallucination", 0.5)])
@pytest.mark.parametrize("seed", range(3))
def test_search_finds_the_bruteforce_optimum(row, share, seed):
    inst = with_row(7, seed, row, share, n_servers=3)
    ref = mecopt.solve(inst, "bruteforce")
    costs = LayerCosts.of(inst)
    scale = MS * inst.n_users
    # Start from the worst feasible answer known and zero multipliers: every count vector
    # the trivial bound leaves must be listed and settled.
    start = np.arange(inst.n_users) % inst.n_servers
    if not mecopt.evaluate(inst, start).feasible:
        start = ref.assignment
    out = ce.search(costs, np.zeros(inst.n_users), np.zeros(len(costs.side)),
                    free_objective(inst, start), start, deadline=None, gap=1e-9)
    assert out.started and out.complete
    assert out.info["count_vectors"] >= 1
    assert out.bound <= ref.objective * (1 + 1e-9)
    assert mecopt.evaluate(inst, out.assignments["count-enumeration"]).feasible
    assert free_objective(inst, out.assignments["count-enumeration"]) == pytest.approx(
        ref.objective * scale, rel=1e-7)
    assert out.bound == pytest.approx(ref.objective, rel=1e-7)


def test_driver_proves_a_binding_target_by_count_enumeration():
    inst = with_row(45, 0, "accuracy", 0.5, n_servers=3)
    res = mecopt.solve(inst, "exact", formulation="decomposition", gap=1e-6)
    assert res.status == "optimal"
    assert res.info["bound_source"] == "count-enumeration"
    assert res.info["count_vectors"] >= 1
    assert mecopt.evaluate(inst, res.assignment).feasible
    # The count-indexed MILP (HiGHS) agrees.
    ref = mecopt.solve(inst, "highs", formulation="count-indexed")
    assert res.objective == pytest.approx(ref.objective, rel=1e-5)


def test_stopped_search_keeps_an_honest_bound():
    inst = with_row(7, 1, "accuracy", 0.6, n_servers=3)
    ref = mecopt.solve(inst, "bruteforce")
    costs = LayerCosts.of(inst)
    start = np.arange(inst.n_users) % inst.n_servers
    out = ce.search(costs, np.zeros(inst.n_users), np.zeros(1), free_objective(inst, start),
                    start, deadline=0.0, gap=1e-9)
    assert out.started and not out.complete
    assert out.bound <= ref.objective * (1 + 1e-9)
    assert np.array_equal(out.assignments["count-enumeration"], start)


def test_too_many_vectors_do_not_start():
    inst = with_row(20, 0, "accuracy", 0.5, n_servers=3)
    costs = LayerCosts.of(inst)
    start = np.arange(inst.n_users) % inst.n_servers
    out = ce.search(costs, np.zeros(inst.n_users), np.zeros(1), free_objective(inst, start),
                    start, deadline=None, gap=1e-9, max_vectors=5)
    assert not out.started
    assert out.bound == -np.inf


@pytest.mark.parametrize("seed", range(3))
def test_passes_below_a_poor_incumbent_reach_the_optimum(seed):
    # From zero multipliers and the worst answer known, with a third of the full listing
    # allowed per pass: the search must go up band by band and still end at the
    # brute-force optimum; without passes it must not start.
    inst = with_row(7, seed, "accuracy", 0.5, n_servers=3)
    ref = mecopt.solve(inst, "bruteforce")
    costs = LayerCosts.of(inst)
    scale = MS * inst.n_users
    start = np.arange(inst.n_users) % inst.n_servers
    args = (costs, np.zeros(inst.n_users), np.zeros(1), free_objective(inst, start), start)
    full = ce.search(*args, deadline=None, gap=1e-9)
    assert full.info["count_vectors"] >= 9
    cap = full.info["count_vectors"] // 3
    out = ce.search(*args, deadline=None, gap=1e-9, max_vectors=cap, passes=True)
    assert out.started and out.complete
    assert free_objective(inst, out.assignments["count-enumeration"]) == pytest.approx(
        ref.objective * scale, rel=1e-7)
    assert out.bound == pytest.approx(ref.objective, rel=1e-7)
    assert not ce.search(*args, deadline=None, gap=1e-9, max_vectors=cap).started


def test_driver_settles_after_the_side_search(monkeypatch):
    # With the listing capped, the search from the decomposition's multipliers cannot
    # start; the one after the side-row multiplier search (passes from the relaxed
    # instance's multipliers) must still prove the optimum.
    monkeypatch.setattr(ce, "MAX_VECTORS", 30)
    inst = with_row(50, 1, "accuracy", 0.5, n_servers=3)
    res = mecopt.solve(inst, "exact", formulation="decomposition", gap=1e-6)
    ref = mecopt.solve(inst, "highs", formulation="count-indexed")
    assert ref.status == "optimal"
    assert res.objective == pytest.approx(ref.objective, rel=1e-5)
    assert res.bound <= ref.objective * (1 + 1e-9)
    assert res.info.get("side_multiplier_steps", 0) >= 1
    assert mecopt.evaluate(inst, res.assignment).feasible
    if res.status == "optimal":
        assert res.info["bound_source"] in ("count-enumeration", "side-multiplier",
                                            "lagrangian", "count-fixing")


@pytest.mark.parametrize("seed", range(3))
def test_search_with_two_side_rows_against_bruteforce(seed):
    # An accuracy target and a hallucination cap at once: the pool carries two side-row
    # multipliers.
    inst = with_row(7, seed, "hallucination", 0.4, n_servers=3)
    edge = mecopt.evaluate(inst, np.arange(inst.n_users) % inst.n_servers)
    free = mecopt.solve(inst.replace(max_hallucination=None), "exact")
    inst = inst.replace(min_accuracy=free.metrics.accuracy
                        + 0.4 * (edge.accuracy - free.metrics.accuracy))
    ref = mecopt.solve(inst, "bruteforce")
    assert ref.assignment is not None
    costs = LayerCosts.of(inst)
    assert len(costs.side) == 2
    scale = MS * inst.n_users
    start = np.arange(inst.n_users) % inst.n_servers
    if not mecopt.evaluate(inst, start).feasible:
        start = ref.assignment
    out = ce.search(costs, np.zeros(inst.n_users), np.zeros(2), free_objective(inst, start),
                    start, deadline=None, gap=1e-9)
    assert out.started and out.complete
    assert mecopt.evaluate(inst, out.assignments["count-enumeration"]).feasible
    assert free_objective(inst, out.assignments["count-enumeration"]) == pytest.approx(
        ref.objective * scale, rel=1e-7)
    assert out.bound == pytest.approx(ref.objective, rel=1e-7)
