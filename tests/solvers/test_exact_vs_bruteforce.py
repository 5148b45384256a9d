"""Every exact backend against brute force on small random instances.

Exactness is checked at ``gap=0`` (a proof to the solvers' precision), not at the default
relative gap of 1e-4.

The small cases (see ``conftest.py``) mix three queue models, mm1/md1 rates that make the
slowest ES unstable from its third user on, the uncertainty rule, a binding accuracy target,
ES user limits, and instances that are infeasible for either constraint kind. Each backend
meets 60 interference-free cases and 15 "other-cells" ones.
"""

import itertools

import numpy as np
import pytest
from conftest import EXACT_BACKENDS, OTHER_CELLS_SPECS, SMALL_SPECS, build_case

import mecopt
from mecopt.formulations import count_indexed

REL = 1e-6


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_backend_equals_bruteforce(backend, small_case, bruteforce):
    ref = bruteforce(small_case)
    res = mecopt.solve(small_case, backend, threads=1, gap=0)
    assert res.status == ref.status
    if ref.status == "infeasible":
        assert res.assignment is None and res.objective is None
    else:
        assert ref.status == "optimal"
        assert res.metrics.feasible
        assert res.objective == pytest.approx(ref.objective, rel=REL)
        # The proven bound is the optimum itself, not merely a valid bound.
        assert res.bound == pytest.approx(ref.objective, rel=REL)
        assert res.gap <= res.gap_tol <= 1e-6


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_backend_with_interference_brackets_bruteforce(backend, other_cells_case, bruteforce):
    ref = bruteforce(other_cells_case)
    res = mecopt.solve(other_cells_case, backend, threads=1, gap=0)
    if ref.status == "infeasible":
        # Interference never makes a delay infinite, so feasibility does not depend on it.
        assert res.status == "infeasible"
        return
    assert res.status in ("optimal", "feasible")
    assert res.bound <= ref.objective * (1 + 1e-9)
    assert res.objective >= ref.objective * (1 - 1e-9)
    if res.status == "optimal":
        assert res.objective == pytest.approx(ref.objective, rel=REL)
        assert res.bound == pytest.approx(res.objective, rel=REL)
    else:
        assert res.gap > res.gap_tol


def test_cases_cover_every_constraint_kind_and_queue():
    assert len(SMALL_SPECS) + len(OTHER_CELLS_SPECS) >= 50
    kinds = {(s[4], s[5]) for s in SMALL_SPECS}
    assert {q for q, _ in kinds} == {"processor-sharing", "mm1", "md1"}
    assert len(kinds) == 24  # every queue model with every constraint kind
    for spec in SMALL_SPECS + OTHER_CELLS_SPECS:
        inst = build_case(spec)
        assert (inst.n_servers + 1) ** inst.n_users <= 50_000


def test_cases_include_infeasible_ones(bruteforce):
    statuses = [bruteforce(build_case(s)).status for s in SMALL_SPECS]
    assert statuses.count("infeasible") >= 10
    assert statuses.count("optimal") >= 40


@pytest.mark.parametrize("spec", [s for s in SMALL_SPECS if s[4] != "processor-sharing"][:6])
def test_queue_cases_have_unstable_loads(spec):
    inst = build_case(spec)
    table = count_indexed.delay_table(inst, inst.n_users)
    stable = np.isfinite(table).all(axis=0)  # (M, N): ES j stable at count n for everyone
    assert stable[:, 0].any()
    assert not stable.all()


def test_accuracy_target_binds_in_most_cases(bruteforce):
    binding = 0
    cases = [s for s in SMALL_SPECS if s[5] in ("accuracy", "accuracy+tau")]
    for spec in cases:
        inst = build_case(spec)
        ref = bruteforce(inst)
        if ref.status != "optimal":
            continue
        free = mecopt.solve(inst.replace(min_accuracy=None), "bruteforce")
        binding += free.accuracy < inst.min_accuracy
    assert binding >= len(cases) // 2


@pytest.mark.parametrize("interference", ["none", "other-cells"])
@pytest.mark.parametrize("queue", ["processor-sharing", "mm1"])
def test_bruteforce_matches_enumeration_by_evaluator(interference, queue):
    inst = mecopt.scenario("uniform", 4, seed=7, n_servers=2, interference=interference,
                           tau=0.7, max_users=[3, 2])
    if queue == "mm1":
        mu = inst.capacity / inst.edge_work.mean()
        inst = inst.replace(queue="mm1", arrival_rate=float(mu.min() / 2.5))
    best = np.inf
    for a in itertools.product(range(-1, inst.n_servers), repeat=inst.n_users):
        m = mecopt.evaluate(inst, a)
        if m.feasible:
            best = min(best, m.mean_delay)
    res = mecopt.solve(inst, "bruteforce")
    assert res.status == "optimal"
    assert res.objective == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_interference_with_one_es_is_proven_optimal(backend, bruteforce):
    # A single ES has no other cell: the interference-free bound is exact and must be closed.
    inst = mecopt.scenario("uniform", 6, seed=3, n_servers=1, interference="other-cells")
    ref = bruteforce(inst)
    res = mecopt.solve(inst, backend, threads=1, gap=0)
    assert res.status == ref.status == "optimal"
    assert res.objective == pytest.approx(ref.objective, rel=REL)


def _accuracy_tradeoff(seed):
    # Some users answer better on the device than at the edge, local answering is quick for
    # some: the pruning of dominated offloads must keep the users that carry the target.
    inst = mecopt.scenario("uniform", 6, seed=seed, n_servers=2)
    rng = np.random.default_rng(seed)
    acc_edge = np.clip(inst.acc_local * rng.uniform(0.6, 1.6, size=6), 0, 1)
    inst = inst.replace(acc_edge=acc_edge, local_delay=inst.local_delay * rng.uniform(0.2, 1.5))
    lo, hi = inst.acc_local.mean(), np.maximum(inst.acc_local, inst.acc_edge).mean()
    return inst.replace(min_accuracy=float(lo + 0.9 * (hi - lo)))


ACCURACY_TRADEOFF = [_accuracy_tradeoff(seed) for seed in range(4)]


@pytest.mark.parametrize("index", range(len(ACCURACY_TRADEOFF)))
@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_backend_equals_bruteforce_with_accuracy_tradeoff(backend, index, bruteforce):
    inst = ACCURACY_TRADEOFF[index]
    ref = bruteforce(inst)
    res = mecopt.solve(inst, backend, threads=1, gap=0)
    assert ref.status == res.status == "optimal"
    assert res.objective == pytest.approx(ref.objective, rel=REL)


def test_lagrangian_step_agrees_with_bruteforce(small_case, bruteforce):
    # The Lagrangian bound and count-vector search (used on large models) on every queue
    # model and constraint kind: its bound never exceeds the optimum, the answer is exact.
    ref = bruteforce(small_case)
    res = mecopt.solve(small_case, "highs", threads=1, lagrangian="on", gap=0)
    assert res.status == ref.status
    if ref.status == "optimal":
        assert res.info["lagrangian_bound"] <= ref.objective * (1 + 1e-9)
        assert res.objective == pytest.approx(ref.objective, rel=REL)


def test_lagrangian_bound_with_interference_is_below_bruteforce(other_cells_case, bruteforce):
    ref = bruteforce(other_cells_case)
    res = mecopt.solve(other_cells_case, "highs", threads=1, lagrangian="on", gap=0)
    assert (res.status == "infeasible") == (ref.status == "infeasible")
    if ref.status == "optimal":
        assert res.info["lagrangian_bound"] <= ref.objective * (1 + 1e-9)
        assert res.objective >= ref.objective * (1 - 1e-9)


def _boundary_target(seed):
    # The target is exactly the accuracy of one assignment (edge-all's): rounding in the
    # solvers' rows must neither cut that assignment off nor admit a less accurate one.
    inst = mecopt.scenario("uniform", 7, seed, n_servers=2, tau=0.6)
    return inst.replace(min_accuracy=mecopt.solve(inst, "edge-all").accuracy)


BOUNDARY = [_boundary_target(seed) for seed in range(4)]


@pytest.mark.parametrize("index", range(len(BOUNDARY)))
@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_backend_equals_bruteforce_with_target_on_the_boundary(backend, index, bruteforce):
    inst = BOUNDARY[index]
    ref = bruteforce(inst)
    res = mecopt.solve(inst, backend, threads=1, gap=0)
    assert ref.status == res.status == "optimal"
    assert res.objective == pytest.approx(ref.objective, rel=REL)
