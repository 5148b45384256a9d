"""The chord model of one count vector (:mod:`mecopt.formulations.interference.chord`):
the uplink cost is concave in the interference, every assignment of the vector is
feasible in the model at no more than its true cost, and the model's optimum never
exceeds the brute-force optimum of the vector (N = 6)."""

import itertools

import numpy as np
import pytest
from conftest import INTERFERENCE_CASES, interference_case

import mecopt
from mecopt.formulations.interference.chord import ChordTables, applies, build
from mecopt.formulations.milp import MS
from mecopt.solvers.highs_matrix import solve_matrix

CASES = [c for c in INTERFERENCE_CASES if c[0] != "infeasible"]


def _all_assignments(inst: mecopt.Instance) -> np.ndarray:
    return np.array(list(itertools.product(range(-1, inst.n_servers), repeat=inst.n_users)))


def _true_totals(inst: mecopt.Instance, assignments: np.ndarray) -> np.ndarray:
    out = np.full(len(assignments), np.inf)
    for k, a in enumerate(assignments):
        m = mecopt.evaluate(inst, a)
        if m.feasible:
            out[k] = m.objective * inst.n_users * MS
    return out


@pytest.mark.parametrize("seed", range(4))
def test_cost_is_concave_in_interference(seed):
    inst = interference_case("energy" if seed % 2 else "plain", seed)
    t = ChordTables.of(inst)
    grid = np.linspace(0.0, 1.0, 41)
    for counts in ([1] * inst.n_servers, [3] * inst.n_servers):
        counts = np.array(counts)
        values = np.stack([t.costs(counts, g * t.total) for g in grid])  # (G, N, M)
        finite = np.all(np.isfinite(values), axis=0)
        second = values[2:] - 2 * values[1:-1] + values[:-2]
        scale = np.abs(values).max(axis=0) + 1.0
        assert np.all(second[:, finite] <= 1e-9 * scale[finite])
        assert np.all(np.diff(values, axis=0)[:, finite] >= -1e-9 * scale[finite])


@pytest.mark.parametrize("kind,seed", CASES)
def test_every_assignment_fits_below_its_true_cost(kind, seed):
    inst = interference_case(kind, seed)
    assert applies(inst)
    t = ChordTables.of(inst)
    rng = np.random.default_rng(seed)
    everything = _all_assignments(inst)
    checked = 0
    for a in everything[rng.permutation(len(everything))]:
        total = _true_totals(inst, a[None, :])[0]
        if not np.isfinite(total):
            continue
        if checked == 40:
            break
        counts = np.bincount(a[a >= 0], minlength=inst.n_servers)
        lo, hi = t.interference_range(counts)
        if rng.random() < 0.5:  # a random narrower range around the assignment's own
            own = mecopt.channel.INTERFERENCE.get("other-cells").interference(inst, a)
            lo = lo + rng.random(lo.size) * (own - lo)
            hi = own + rng.random(hi.size) * (hi - own)
        model = build(t, counts, lo, hi)
        x = model.hint(a, t.interference(a))
        if x is None:
            # Only a dropped dominated offload may be missing from the model.
            on = a >= 0
            dropped = model.col_hi[np.flatnonzero(on) * inst.n_servers + a[on]] == 0
            assert dropped.any()
            continue
        ax = model.a @ x
        assert np.all(ax >= model.row_lo - 1e-9) and np.all(ax <= model.row_hi + 1e-9)
        assert model.c @ x + model.constant <= total * (1 + 1e-9) + 1e-9
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("kind,seed", CASES[:6])
def test_model_optimum_never_above_the_vector_optimum(kind, seed):
    inst = interference_case(kind, seed)
    t = ChordTables.of(inst)
    everything = _all_assignments(inst)
    totals = _true_totals(inst, everything)
    counts_of = np.stack([np.bincount(a[a >= 0], minlength=inst.n_servers) for a in everything])
    vectors = np.unique(counts_of[np.isfinite(totals)], axis=0)
    rng = np.random.default_rng(seed)
    for counts in vectors[rng.choice(len(vectors), min(8, len(vectors)), replace=False)]:
        model = build(t, counts, *t.interference_range(counts))
        mine = np.flatnonzero(np.all(counts_of == counts, axis=1) & np.isfinite(totals))
        # Assignments using a dropped (dominated) offload are left to smaller vectors.
        fits = [k for k in mine
                if model.hint(everything[k], t.interference(everything[k])) is not None]
        best = totals[fits].min() if fits else np.inf
        sol = solve_matrix(model.c, model.constant, model.a, model.row_lo, model.row_hi,
                           model.col_lo, model.col_hi, model.integer, mip_rel_gap=1e-9)
        if not fits:
            assert sol.status == "infeasible"
            continue
        assert sol.status == "optimal"
        assert sol.bound <= best * (1 + 1e-9) + 1e-9


def test_exact_at_a_point_range():
    """With every range the optimum's own interference, the model prices it exactly."""
    inst = interference_case("plain", 0)
    t = ChordTables.of(inst)
    ref = mecopt.solve(inst, "bruteforce")
    a = ref.assignment
    counts = np.bincount(a[a >= 0], minlength=inst.n_servers)
    own = mecopt.channel.INTERFERENCE.get("other-cells").interference(inst, a)
    model = build(t, counts, own, own)
    x = model.hint(a, t.interference(a))
    assert x is not None
    assert model.c @ x + model.constant == pytest.approx(ref.objective * inst.n_users * MS,
                                                           rel=1e-9)


def test_energy_budget_is_not_concave():
    inst = interference_case("plain", 0)
    assert not applies(inst.replace(energy_budget=np.full(inst.n_users, 1.0)))
