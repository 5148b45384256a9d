"""GOA and the baselines: a hand-worked GOA run, feasibility, never beating a proven optimum,
and identical decisions of the greedy engines."""

import functools

import numpy as np
import pytest
from conftest import HEURISTICS, SMALL_SPECS, build_case, spec_id, stable_rate

import mecopt
from mecopt.formulations import count_indexed
from mecopt.heuristics import (
    edge_all,
    goa,
    greedy_fast,
    greedy_loop,
    greedy_vectorised,
    min_delay,
    random_offload,
)

ENGINES = {"loop": greedy_loop, "vectorised": greedy_vectorised, "fast": greedy_fast}
RNG = np.random.default_rng


# ---------------------------------------------------------------- the hand-worked example
# The ``hand`` instance (conftest.py): log2(1 + P g / sigma^2) = 1 everywhere, prompts 1e4 bits.
#   ES 0 (B = 1e6 Hz, C = 2e12, C_max = 1e12, W = 1e10):
#       d0(n) = t_comm + t_edge = 0.01 n + 1e10 / min(1e12, 2e12 / n)
#       d0(1) = 0.010 + 0.010 = 0.020,  d0(2) = 0.020 + 0.010 = 0.030,
#       d0(3) = 0.030 + 0.015 = 0.045
#   ES 1 (B = 5e5 Hz, C = C_max = 8e11):
#       d1(n) = 0.02 n + 0.0125 n:  d1(1) = 0.0325,  d1(2) = 0.065
#   alpha = (0.9, 0.5, 0.2), t^L = (0.015, 0.025, 0.040), tau = 0.8: user 0 is forced.
#
# delta_ij = alpha_i * (d_j(n_j + 1) - t^L_i).
# Step 1, I_off = {0}, counts (0, 0):
#   delta_00 = 0.9 * (0.020 - 0.015) = +0.0045     delta_01 = 0.9 * (0.0325 - 0.015) = +0.01575
#   -> user 0 to ES 0 although its delta is positive.          counts (1, 0)
# Step 2, I_rem = {1, 2}:
#   delta_10 = 0.5 * (0.030 - 0.025) = +0.0025     delta_11 = 0.5 * (0.0325 - 0.025) = +0.00375
#   delta_20 = 0.2 * (0.030 - 0.040) = -0.0020     delta_21 = 0.2 * (0.0325 - 0.040) = -0.0015
#   -> smallest is delta_20 < 0: user 2 to ES 0.                counts (2, 0)
#   delta_10 = 0.5 * (0.045 - 0.025) = +0.0100     delta_11 = +0.00375
#   -> smallest delta_11 >= 0: stop.  Result (0, -1, 0).
# Mean delay: (d0(2) + t^L_1 + d0(2)) / 3 = (0.030 + 0.025 + 0.030) / 3.
HAND_STEP1 = [0, -1, -1]
HAND_GOA = [0, -1, 0]

# Without the rule (tau = None) step 1 is empty and step 2 starts from counts (0, 0):
#   delta_00 = +0.0045, delta_10 = 0.5 * (0.020 - 0.025) = -0.0025,
#   delta_20 = 0.2 * (0.020 - 0.040) = -0.0040 (ES 1 deltas are larger)  -> user 2 to ES 0
#   then delta_00 = 0.9 * (0.030 - 0.015) = +0.0135, delta_10 = +0.0025, delta_11 = +0.00375
#   -> stop.  Result (-1, -1, 0).
HAND_GOA_NO_TAU = [-1, -1, 0]


@pytest.mark.parametrize("engine", list(ENGINES))
def test_goa_hand_example_step1_offloads_forced_user_despite_positive_delta(hand, engine):
    start = np.full(3, -1)
    a = ENGINES[engine](hand, start, hand.alpha > hand.tau, hand.alpha, False)
    assert a.tolist() == HAND_STEP1


@pytest.mark.parametrize("engine", list(ENGINES))
def test_goa_hand_example_step2_stops_at_nonnegative_delta(hand, engine):
    step1 = np.array(HAND_STEP1)
    a = ENGINES[engine](hand, step1, ~(hand.alpha > hand.tau), hand.alpha, True)
    assert a.tolist() == HAND_GOA


@pytest.mark.parametrize("engine", list(ENGINES))
def test_goa_hand_example_full_run(hand, engine):
    a = goa(hand, RNG(0), engine=ENGINES[engine])
    assert a.tolist() == HAND_GOA
    m = mecopt.evaluate(hand, a)
    assert m.mean_delay == pytest.approx((0.030 + 0.025 + 0.030) / 3, rel=1e-12)
    assert m.feasible


def test_goa_hand_example_without_rule(hand):
    assert goa(hand.replace(tau=None), RNG(0)).tolist() == HAND_GOA_NO_TAU
    # The tau option overrides the instance's threshold.
    assert goa(hand, RNG(0), tau=1.0).tolist() == HAND_GOA_NO_TAU


def test_goa_hand_example_through_solve(hand):
    res = mecopt.solve(hand, "goa")
    assert res.assignment.tolist() == HAND_GOA
    assert res.status == "feasible"


def test_min_delay_hand_example_is_unweighted_and_ignores_rule(hand):
    # Unweighted deltas from counts (0, 0): user 2 on ES 0 gives 0.020 - 0.040 = -0.020 (the
    # smallest); then user 1 on ES 0 gives 0.030 - 0.025 = +0.005, user 0 +0.015: stop.
    a = min_delay(hand, RNG(0))
    assert a.tolist() == [-1, -1, 0]
    assert not mecopt.evaluate(hand, a).feasible  # forced user 0 stays local


def test_edge_all_hand_example_offloads_everyone(hand):
    # Alpha-weighted, no stop: user 2 (-0.004) to ES 0; then user 1 on ES 0 (+0.0025) beats
    # user 0 on ES 0 (+0.0135) and the ES 1 options; then user 0: ES 0 at n = 3 gives
    # 0.9 * (0.045 - 0.015) = 0.027 > ES 1 at n = 1, 0.01575.
    assert edge_all(hand, RNG(0)).tolist() == [1, 0, 0]


# ---------------------------------------------------------------- feasibility, optimality
def _room_for_forced(inst):
    """True when the ESs can hold every forced user at stable loads and within max_users."""
    table = count_indexed.delay_table(inst, inst.n_users)
    stable = np.isfinite(table).all(axis=0)  # (M, N), a prefix of stable counts per ES
    room = np.minimum(stable.sum(axis=1), inst.count_limit)
    return room.sum() >= inst.forced.sum()


@pytest.mark.parametrize("heuristic", HEURISTICS)
def test_heuristic_never_overloads_an_es(heuristic, small_case):
    res = mecopt.solve(small_case, heuristic, seed=3)
    assert np.isfinite(res.metrics.delay).all()
    if small_case.max_users is not None:
        assert (res.metrics.users_per_es <= small_case.max_users).all()
    assert res.status == ("feasible" if res.metrics.feasible else "violates")
    assert res.stop == "heuristic" and res.gap_tol is None


def test_goa_respects_rule_when_capacity_allows(small_case):
    # GOA places every forced user exactly when the ESs have room for them all.
    a = goa(small_case, RNG(0))
    broken = small_case.forced & (a < 0)
    assert broken.any() == (not _room_for_forced(small_case))


UNLIMITED = [s for s in SMALL_SPECS if s[4] == "processor-sharing" and s[5] in ("plain", "tau")]


@pytest.mark.parametrize("spec", UNLIMITED, ids=spec_id)
@pytest.mark.parametrize("heuristic", ["goa", "edge-all"])
def test_rule_abiding_heuristics_are_feasible_without_limits(heuristic, spec):
    # Processor sharing serves any load and no user limit or accuracy target applies: the
    # rule is the only constraint, and GOA's step 1 (edge-all: every user) satisfies it.
    assert mecopt.solve(build_case(spec), heuristic).status == "feasible"


def test_local_all_breaks_rule_exactly_when_users_are_forced(small_case):
    m = mecopt.evaluate(small_case, mecopt.solve(small_case, "local-all").assignment)
    rule_broken = any(v.startswith("uncertainty rule") for v in m.violations)
    assert rule_broken == bool(small_case.forced.any())


@pytest.mark.parametrize("heuristic", HEURISTICS)
def test_heuristic_never_beats_proven_optimum(heuristic, small_case, bruteforce):
    ref = bruteforce(small_case)
    res = mecopt.solve(small_case, heuristic, seed=1)
    if ref.status == "infeasible":
        # An assignment always exists; none can meet the constraints.
        assert res.status == "violates" and res.metrics.violations
    elif res.status == "feasible":
        assert res.objective >= ref.objective * (1 - 1e-12)


@functools.cache
def medium_optimum():
    inst = mecopt.scenario("kim2026", 30, seed=0, tau=0.8)
    return inst, mecopt.solve(inst, "highs", threads=1)


@pytest.mark.parametrize("heuristic", HEURISTICS)
def test_heuristic_never_beats_proven_optimum_medium(heuristic):
    inst, ref = medium_optimum()
    res = mecopt.solve(inst, heuristic, seed=2)
    assert ref.status == "optimal"
    assert res.objective >= ref.bound * (1 - 1e-9)


def test_goa_is_feasible_on_kim2026():
    for seed in range(5):
        inst = mecopt.scenario("kim2026", 40, seed=seed)
        assert mecopt.solve(inst, "goa").status == "feasible"


# ---------------------------------------------------------------- engines agree
def _engine_instances():
    out = []
    for interference in ("none", "other-cells"):
        for queue in ("processor-sharing", "mm1"):
            for n, seed in ((12, 0), (40, 1), (60, 2)):
                inst = mecopt.scenario("kim2026", n, seed, interference=interference)
                if queue == "mm1":
                    inst = inst.replace(queue="mm1", arrival_rate=stable_rate(inst, n // 5 + 2))
                out.append(pytest.param(inst, id=f"kim2026-n{n}-{interference}-{queue}"))
    for seed in range(4):
        inst = mecopt.scenario("uniform", 12, seed, n_servers=3, tau=0.5, max_users=[4, 3, 2],
                               interference=("none", "other-cells")[seed % 2])
        out.append(pytest.param(inst, id=f"uniform-n12-s{seed}-max-users"))
    return out


POLICIES = {
    "goa": goa,
    "edge-all": edge_all,
    "min-delay": min_delay,
    "random": random_offload,
}


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("inst", _engine_instances())
def test_greedy_engines_make_identical_decisions(inst, policy):
    runs = {name: POLICIES[policy](inst, RNG(5), engine=engine)
            for name, engine in ENGINES.items()}
    assert np.array_equal(runs["vectorised"], runs["loop"])
    assert np.array_equal(runs["fast"], runs["loop"])


def test_engines_are_exercised_nontrivially():
    # The agreement above means something only if the policies place users differently.
    inst = mecopt.scenario("kim2026", 60, seed=1, interference="other-cells")
    a = {name: POLICIES[name](inst, RNG(5)) for name in POLICIES}
    assert 0 < (a["goa"] >= 0).sum() < inst.n_users
    assert (a["edge-all"] >= 0).all()
    assert len({tuple(v) for v in a.values()}) >= 3


def test_engine_option_through_solve():
    inst = mecopt.scenario("kim2026", 20, seed=4)
    results = [mecopt.solve(inst, "goa", engine=e).assignment for e in ("loop", "vectorised")]
    results.append(mecopt.solve(inst, "goa:fast").assignment)
    assert all(np.array_equal(results[0], r) for r in results[1:])


# ---------------------------------------------------------------- random policy
def test_random_offloads_as_many_users_as_goa():
    inst = mecopt.scenario("kim2026", 80, seed=1)
    k = (goa(inst, RNG(0)) >= 0).sum()
    assert 0 < k < inst.n_users
    for seed in range(3):
        assert (random_offload(inst, RNG(seed)) >= 0).sum() == k


def test_random_is_reproducible_from_its_seed():
    inst = mecopt.scenario("kim2026", 80, seed=1)
    a = mecopt.solve(inst, "random", seed=11).assignment
    b = mecopt.solve(inst, "random", seed=11).assignment
    others = [mecopt.solve(inst, "random", seed=s).assignment for s in range(12, 16)]
    assert np.array_equal(a, b)
    assert any(not np.array_equal(a, o) for o in others)


@pytest.mark.parametrize("interference", ["none", "other-cells"])
@pytest.mark.parametrize("queue", ["processor-sharing", "mm1"])
def test_ties_break_to_lowest_user_then_lowest_es(interference, queue):
    # Six identical users, two identical ESs: every delta ties, so user 0 goes to ES 0 and
    # the lowest user always moves first. Without interference user 1 goes to ES 1 (ES 0 now
    # costs more), and so on. With it, ES 1 hears ES 0's strong users, so ES 0 fills up first
    # (up to 3 users when mm1 makes a 4th unstable).
    base = mecopt.scenario("uniform", 6, seed=0, n_servers=2)
    same = {f: np.full(6, getattr(base, f)[0]) for f in
            ("alpha", "acc_local", "acc_edge", "prompt_bits", "edge_work", "tx_power")}
    inst = base.replace(**same, local_delay=np.full(6, 1.0), gain=np.full((6, 2), 100.0),
                        capacity=np.full(2, base.capacity[0]),
                        per_user_cap=np.full(2, base.per_user_cap[0]),
                        interference=interference)
    if queue == "mm1":
        inst = inst.replace(queue="mm1", arrival_rate=stable_rate(inst, 4))  # 3 users per ES
    expected = {
        ("none", "processor-sharing"): [0, 1, 0, 1, 0, 1],
        ("none", "mm1"): [0, 1, 0, 1, 0, 1],
        ("other-cells", "processor-sharing"): [0, 0, 0, 0, 0, 0],
        ("other-cells", "mm1"): [0, 0, 0, 1, 1, 1],
    }[interference, queue]
    for engine in ENGINES.values():
        assert edge_all(inst, RNG(0), engine=engine).tolist() == expected
