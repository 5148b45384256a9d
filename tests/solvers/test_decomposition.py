"""The decomposition path of ``exact``: exact against brute force (small cases, energy and
hallucination cases, edge waits), its dual bound and count fixing, the ascent at N = 120."""


import numpy as np
import pytest
from conftest import ENERGY_SPECS, brute, build_energy, check_exact, energy_id, kim

import mecopt
from mecopt.formulations.bounds.lagrangian import ascent, dual_bound, start_multipliers
from mecopt.formulations.count_indexed import MS, build_layers
from mecopt.formulations.option_cost import LayerCosts
from mecopt.heuristics.lns import lns


@pytest.mark.parametrize("formulation", ["decomposition", "auto"])
def test_exact_equals_bruteforce(small_case, bruteforce, formulation):
    ref = bruteforce(small_case)
    res = mecopt.solve(small_case, "exact", threads=1, formulation=formulation)
    check_exact(res, ref)


@pytest.mark.parametrize("spec", ENERGY_SPECS, ids=energy_id)
def test_decomposition_with_energy_hallucination_weights(spec):
    inst = build_energy(spec)
    ref = brute(inst)
    res = mecopt.solve(inst, "exact", threads=1, formulation="decomposition")
    check_exact(res, ref)


def test_dual_bound_below_optimum_and_fixing_keeps_optimal_counts(small_case, bruteforce):
    ref = bruteforce(small_case)
    if ref.status != "optimal" or small_case.interference != "none":
        return
    costs = LayerCosts.of(small_case)
    opt_ms = ref.objective * MS * small_case.n_users
    rng = np.random.default_rng(0)
    u = rng.uniform(0, 2, small_case.n_users) * costs.local.mean()
    mu = rng.uniform(0, 5, len(costs.side))
    db = dual_bound(costs, u, mu, upper=opt_ms * (1 + 1e-9) + 1e-9)
    assert db.bound <= opt_ms + 1e-7 * abs(opt_ms) + 1e-9
    counts = ref.metrics.users_per_es
    for j, n in enumerate(counts):
        if n == 0:
            assert db.zero_kept[j] or db.bound > opt_ms - 1e-9
        else:
            assert n in db.kept[j] or db.bound > opt_ms - 1e-9


def test_ascent_bound_close_at_n120_and_full_layers_equal_count_indexed():
    inst = kim(120, 0)
    opt = mecopt.solve(inst, "highs", threads=1)
    costs = LayerCosts.of(inst)
    a = lns(inst, np.random.default_rng(0))
    upper = mecopt.evaluate(inst, a).objective * MS * 120
    db, _, _ = ascent(costs, start_multipliers(costs, a), None, upper, max_iter=150)
    bound = db.bound / (MS * 120)
    assert bound <= opt.objective * (1 + 1e-12)
    assert bound >= opt.objective * (1 - 2e-3)
    full = build_layers(costs, [np.arange(1, 121)] * inst.n_servers)
    res = mecopt.solve(inst, "highs", threads=1, formulation="count-indexed")
    x = full.encode(res.assignment)
    assert x is not None and full.milp.max_violation(x) == 0.0
    assert full.milp.objective(x) / (MS * 120) == pytest.approx(res.objective, rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_edge_wait_decomposition_and_lns_against_bruteforce(seed):
    inst = mecopt.scenario("uniform", 6, seed, n_servers=3, tau=0.6)
    rng = np.random.default_rng(seed)
    inst = inst.replace(edge_wait=rng.uniform(0.0, 2.0, 3) * inst.local_delay.mean())
    ref = mecopt.solve(inst, "bruteforce")
    for formulation in ("decomposition", "auto"):
        check_exact(mecopt.solve(inst, "exact", formulation=formulation, threads=1), ref)
    res = mecopt.solve(inst, "lns")
    if ref.status == "optimal":
        assert res.metrics.feasible and res.objective >= ref.objective * (1 - 1e-12)
