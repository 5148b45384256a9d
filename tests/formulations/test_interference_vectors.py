"""The per-vector interference bound (:mod:`mecopt.formulations.bounds.interference_vectors`):
equal to the table bound of one vector on the same grid, never above the best assignment
of a vector (every assignment enumerated, N = 6) however the vector is raised, and the
refined bound over all vectors never above the brute-force optimum."""

import itertools

import numpy as np
import pytest
from conftest import INTERFERENCE_CASES, interference_case

import mecopt
from mecopt.channel import INTERFERENCE
from mecopt.formulations.bounds.interference_dual import DualTables, ascent, evaluate_dual
from mecopt.formulations.bounds.interference_vectors import (
    CellTables,
    interval_stacks,
    listed,
    refine,
    tighten,
    vector_dual,
    vector_ranges,
)
from mecopt.formulations.bounds.lagrangian import start_multipliers
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import LayerCosts


def _start(inst: mecopt.Instance, assignment: np.ndarray) -> np.ndarray:
    return start_multipliers(LayerCosts.of(inst.replace(interference="none")), assignment)


def _best_per_vector(inst: mecopt.Instance) -> dict[tuple[int, ...], float]:
    """The best true objective of every count vector (every assignment enumerated)."""
    best: dict[tuple[int, ...], float] = {}
    for a in itertools.product(range(-1, inst.n_servers), repeat=inst.n_users):
        a = np.array(a)
        m = mecopt.evaluate(inst, a)
        if m.feasible:
            key = tuple(np.bincount(a[a >= 0], minlength=inst.n_servers).tolist())
            best[key] = min(best.get(key, np.inf), m.objective)
    return best


@pytest.mark.parametrize("seed", [0, 1])
def test_vector_dual_is_the_table_bound_of_the_vector(seed):
    inst = mecopt.scenario("kim2026-published", 12, seed=seed)
    tables = DualTables.of(inst)
    same = CellTables.same_grid(tables)
    rng = np.random.default_rng(seed)
    a = mecopt.solve(inst, "goa").assignment
    u0 = _start(inst, a)
    for counts in ([3, 3, 3, 3], [2, 4, 1, 3], [0, 5, 5, 0]):
        u = u0 + rng.normal(0, 1.0, u0.size)
        pi = rng.normal(0, 0.5, (inst.n_users, inst.n_servers))
        want = evaluate_dual(tables, u, pi, np.array(counts))
        got = vector_dual(same, u, pi, np.array(counts))
        assert got[0] == pytest.approx(want[0], rel=1e-12)
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[2], want[2])


@pytest.mark.parametrize("seed", [0, 1])
def test_raised_vector_bounds_never_exceed_the_vectors_best(seed):
    inst = mecopt.scenario("kim2026-published", 6, seed=seed).replace(tau=0.5)
    best = _best_per_vector(inst)
    ref = min(best.values())
    tables = DualTables.of(inst)
    ref_a = mecopt.solve(inst, "bruteforce").assignment
    scale = MS * inst.n_users
    _, u, pi = ascent(tables, _start(inst, ref_a), np.inf, deadline=None, max_iter=25)
    ranked = sorted(best, key=best.get)
    rng = np.random.default_rng(seed)
    for key in ranked[:4] + ranked[-2:]:
        counts = np.array(key)
        value = tighten(tables, u, pi, counts, np.inf, deadline=None, rounds=4)
        assert value / scale <= best[key] * (1 + 1e-9)
        value, _, _ = ascent(tables, u, np.inf, deadline=None, max_iter=20, counts=counts)
        assert value / scale <= best[key] * (1 + 1e-9)
        for fixed in (1, 3):
            v, _, _ = vector_dual(
                CellTables.same_grid(tables),
                u + rng.normal(0, 5, u.size),
                rng.normal(0, 2.0, pi.shape),
                counts,
                fixed=fixed,
            )
            assert v / scale <= best[key] * (1 + 1e-9)
    assert refine(tables, u, pi, np.inf, deadline=None) / scale <= ref * (1 + 1e-9)


@pytest.mark.parametrize(("kind", "seed"), [c for c in INTERFERENCE_CASES if c[0] != "infeasible"])
def test_refined_bound_never_exceeds_bruteforce(kind, seed):
    inst = interference_case(kind, seed)
    ref = mecopt.solve(inst, "bruteforce")
    tables = DualTables.of(inst)
    scale = MS * inst.n_users
    _, u, pi = ascent(tables, _start(inst, ref.assignment), np.inf, deadline=None, max_iter=20)
    # A target above the optimum: every vector below it is raised and listed.
    b = refine(tables, u, pi, 2 * ref.objective * scale, deadline=None)
    assert b / scale <= ref.objective * (1 + 1e-9)


def test_listing_finds_every_vector_below_the_threshold():
    inst = mecopt.scenario("kim2026-published", 8, seed=2)
    tables = DualTables.of(inst)
    u = _start(inst, mecopt.solve(inst, "goa").assignment)
    pi = np.zeros((inst.n_users, inst.n_servers))
    whole, _, _ = evaluate_dual(tables, u, pi)
    threshold = whole + 5.0
    found, rest = listed(tables, u, pi, threshold, most=10_000)
    assert rest == np.inf
    keys = {key for _, key in found}
    assert min(b for b, _ in found) == pytest.approx(whole, rel=1e-12)
    for counts in itertools.product(range(inst.n_users + 1), repeat=inst.n_servers):
        if sum(counts) > inst.n_users:
            continue
        v, _, _ = evaluate_dual(tables, u, pi, np.array(counts))
        assert (v < threshold) == (counts in keys)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vector_ranges_hold_every_assignment_below_the_threshold(seed):
    """Every assignment cheaper than the threshold has a listed vector, and its
    interference lies inside that vector's ranges (N = 6, every assignment enumerated)."""
    inst = interference_case("plain", seed)
    ref = mecopt.solve(inst, "bruteforce")
    tables = DualTables.of(inst, focus=INTERFERENCE.get("other-cells").interference(
        inst, ref.assignment))
    scale = MS * inst.n_users
    _, u, pi = ascent(tables, _start(inst, ref.assignment), np.inf, deadline=None, max_iter=15)
    threshold = ref.objective * scale * 1.10
    found, rest = listed(tables, u, pi, threshold, most=100_000)
    assert rest == np.inf
    stacks = interval_stacks(tables, u, pi)
    # The tables from the per-interval stacks list the same vectors at the same bounds.
    same, _ = listed(tables, u, pi, threshold, most=100_000, stacks=stacks)
    assert [k for _, k in same] == [k for _, k in found]
    assert np.allclose([b for b, _ in same], [b for b, _ in found], rtol=1e-12)
    ranges = dict(zip((key for _, key in found), vector_ranges(tables, stacks, found, threshold),
                      strict=True))
    checked = 0
    for a in itertools.product(range(-1, inst.n_servers), repeat=inst.n_users):
        a = np.array(a)
        m = mecopt.evaluate(inst, a)
        if not m.feasible or m.objective * scale >= threshold:
            continue
        key = tuple(np.bincount(a[a >= 0], minlength=inst.n_servers).tolist())
        assert key in ranges
        lo, hi = ranges[key]
        own = INTERFERENCE.get("other-cells").interference(inst, a)
        assert np.all(own >= lo * (1 - 1e-12)) and np.all(own <= hi * (1 + 1e-12))
        checked += 1
    assert checked >= 2
