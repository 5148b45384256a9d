"""The evaluator: hand-checked delays, interference, violations, bad assignments."""

import numpy as np
import pytest

import mecopt

# The ``hand`` instance (conftest.py): t_comm = 10 ms x n on ES 0 and 20 ms x n on ES 1;
# t_edge on ES 0 = 10 ms up to n = 2 and 15 ms at n = 3; on ES 1 12.5 ms x n.


@pytest.mark.parametrize(
    ("assignment", "comm", "edge"),
    [
        ([0, -1, 0], [0.020, 0.0, 0.020], [0.010, 0.0, 0.010]),
        ([0, 1, -1], [0.010, 0.020, 0.0], [0.010, 0.0125, 0.0]),
        ([0, 0, 0], [0.030, 0.030, 0.030], [0.015, 0.015, 0.015]),
        ([1, 1, -1], [0.040, 0.040, 0.0], [0.025, 0.025, 0.0]),
    ],
)
def test_hand_delays(hand, assignment, comm, edge):
    m = mecopt.evaluate(hand, assignment)
    assert m.comm_delay == pytest.approx(comm, rel=1e-12)
    assert m.edge_delay == pytest.approx(edge, rel=1e-12)
    off = np.array(assignment) >= 0
    expected = np.where(off, np.add(comm, edge), hand.local_delay)
    assert m.delay == pytest.approx(expected, rel=1e-12)
    assert m.mean_delay == pytest.approx(expected.mean(), rel=1e-12)


def test_hand_counts_and_accuracy(hand):
    m = mecopt.evaluate(hand, [0, -1, 0])
    assert m.users_per_es.tolist() == [2, 0]
    assert m.n_offloaded == 2
    assert m.accuracy == pytest.approx((0.7 + 0.6 + 0.85) / 3, rel=1e-12)
    assert m.feasible and m.violations == ()


def interference_instance(interference):
    """P = 1, sigma^2 = 1; gains chosen so that every SINR under "other-cells" is 3."""
    return mecopt.Instance(
        alpha=[0.5, 0.5, 0.5], acc_local=[0.5] * 3, acc_edge=[0.6] * 3,
        local_delay=[0.05] * 3, prompt_bits=[1e4] * 3, edge_work=[1e10] * 3,
        tx_power=[1.0] * 3, gain=[[9.0, 1.0], [2.0, 6.0], [1.0, 1.0]],
        bandwidth=[1e6, 5e5], noise=[1.0, 1.0], capacity=[2e12, 8e11],
        per_user_cap=[1e12, 8e11], interference=interference,
    )


def test_other_cells_interference_by_hand():
    # a = (0, 1, -1). At ES 0 the interference is user 1's power there, P g_10 = 2:
    # SINR_0 = 9 / (1 + 2) = 3, log2(4) = 2, t_comm = 1e4 / (1e6 x 2) = 5 ms.
    # At ES 1 it is user 0's, P g_01 = 1: SINR_1 = 6 / (1 + 1) = 3, t_comm = 1e4 / (5e5 x 2).
    m = mecopt.evaluate(interference_instance("other-cells"), [0, 1, -1])
    assert m.comm_delay[:2] == pytest.approx([0.005, 0.010], rel=1e-12)
    assert m.edge_delay[:2] == pytest.approx([0.010, 0.0125], rel=1e-12)


def test_other_cells_interference_adds_up():
    # a = (0, 1, 0): ES 1 now hears users 0 and 2, 1 + 1 = 2: SINR_1 = 6 / 3 = 2.
    # ES 0 hears user 1 only (user 2 is its own): SINR = g / 3, with n_0 = 2.
    m = mecopt.evaluate(interference_instance("other-cells"), [0, 1, 0])
    assert m.comm_delay[1] == pytest.approx(1e4 / (5e5 * np.log2(3.0)), rel=1e-12)
    assert m.comm_delay[0] == pytest.approx(2 * 1e4 / (1e6 * np.log2(1 + 9 / 3)), rel=1e-12)
    assert m.comm_delay[2] == pytest.approx(2 * 1e4 / (1e6 * np.log2(1 + 1 / 3)), rel=1e-12)


def test_no_interference_by_hand():
    m = mecopt.evaluate(interference_instance("none"), [0, 1, -1])
    assert m.comm_delay[:2] == pytest.approx([1e4 / (1e6 * np.log2(10)), 1e4 / (5e5 * np.log2(7))],
                                             rel=1e-12)


def test_interference_never_shortens_a_delay():
    inst = mecopt.scenario("kim2026", 40, seed=3)
    noisy = inst.replace(interference="other-cells")
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(-1, 4, size=40)
        assert np.all(mecopt.evaluate(noisy, a).delay >= mecopt.evaluate(inst, a).delay)


# ---------------------------------------------------------------- violations
def test_rule_violation_names_users(hand):
    m = mecopt.evaluate(hand, [-1, -1, 0])
    assert not m.feasible
    assert m.violations == ("uncertainty rule (alpha > tau = 0.8) broken: user 0 (alpha=0.9) "
                            "answered locally",)


def test_rule_violation_list_is_capped():
    inst = mecopt.scenario("uniform", 12, seed=0, tau=0.0)
    m = mecopt.evaluate(inst, np.full(12, -1))
    assert len(m.violations) == 1
    assert "user 0 " in m.violations[0] and "and 7 more answered locally" in m.violations[0]


def test_accuracy_violation(hand):
    m = mecopt.evaluate(hand.replace(min_accuracy=0.8), [0, -1, 0])
    assert m.violations == ("mean accuracy 0.716667 is below min_accuracy 0.800000",)


def test_accuracy_target_met_exactly_is_feasible(hand):
    acc = mecopt.evaluate(hand, [0, -1, 0]).accuracy
    assert mecopt.evaluate(hand.replace(min_accuracy=acc), [0, -1, 0]).feasible


def test_max_users_violation(hand):
    m = mecopt.evaluate(hand.replace(max_users=[1, 3]), [0, -1, 0])
    assert m.violations == ("ES 0 serves 2 users > max_users 1",)


def test_all_violations_are_listed(hand):
    inst = hand.replace(max_users=[0, 0], min_accuracy=0.9)
    m = mecopt.evaluate(inst, [-1, 1, -1])
    assert len(m.violations) == 3
    assert [v.split()[0] for v in m.violations] == ["uncertainty", "mean", "ES"]


def test_unstable_queue_is_infinite_and_infeasible(hand):
    # mu_0 = 2e12 / 1e10 = 200 queries/s, lambda = 150: rho = 0.75 at n = 1, 1.5 at n = 2.
    inst = hand.replace(queue="mm1", arrival_rate=150.0)
    one = mecopt.evaluate(inst, [0, -1, -1])
    assert one.feasible and np.isfinite(one.mean_delay)
    assert one.edge_delay[0] == pytest.approx(1e10 / 2e12 + 0.75 / (200 * 0.25), rel=1e-12)
    two = mecopt.evaluate(inst, [0, -1, 0])
    assert not two.feasible
    assert np.isinf(two.delay[[0, 2]]).all() and two.mean_delay == np.inf
    assert two.violations == (
        "user 0 cannot be served by ES 0: queue 'mm1' is unstable at 2 users",
        "user 2 cannot be served by ES 0: queue 'mm1' is unstable at 2 users",
    )


def test_zero_gain_is_infinite_and_infeasible(hand):
    gain = np.ones((3, 2))
    gain[1, 1] = 0.0
    m = mecopt.evaluate(hand.replace(gain=gain), [0, 1, -1])
    assert np.isinf(m.delay[1]) and not m.feasible
    assert m.violations == ("user 1 cannot be served by ES 1: its channel gain is zero",)


@pytest.mark.parametrize("queue", ["processor-sharing", "mm1", "md1"])
@pytest.mark.parametrize("interference", ["none", "other-cells"])
def test_delays_never_nan_or_negative(queue, interference):
    inst = mecopt.scenario("uniform", 10, seed=2, n_servers=3, interference=interference)
    if queue != "processor-sharing":
        mu = inst.capacity / inst.edge_work.mean()
        inst = inst.replace(queue=queue, arrival_rate=float(mu.min() / 2.5))
    rng = np.random.default_rng(1)
    unstable = 0
    for _ in range(200):
        a = rng.integers(-1, 3, size=10)
        m = mecopt.evaluate(inst, a)
        for arr in (m.delay, m.comm_delay, m.edge_delay):
            assert not np.isnan(arr).any() and (arr >= 0).all()
        assert not np.isnan(m.mean_delay)
        assert m.feasible == np.isfinite(m.mean_delay)
        off = a >= 0
        assert np.array_equal(m.delay[~off], inst.local_delay[~off])
        assert np.all(m.comm_delay[~off] == 0) and np.all(m.edge_delay[~off] == 0)
        assert np.allclose(m.delay[off], m.comm_delay[off] + m.edge_delay[off])
        unstable += not m.feasible
    assert (unstable > 0) == (queue != "processor-sharing")


def test_metrics_arrays_are_read_only(hand):
    m = mecopt.evaluate(hand, [0, -1, 0])
    for arr in (m.delay, m.comm_delay, m.edge_delay, m.users_per_es):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1


def test_float_and_list_assignments_are_accepted(hand):
    a = mecopt.evaluate(hand, np.array([0.0, -1.0, 0.0]))
    b = mecopt.evaluate(hand, (0, -1, 0))
    assert a.mean_delay == b.mean_delay


# ---------------------------------------------------------------- bad assignments
@pytest.mark.parametrize(
    ("assignment", "match"),
    [
        ([0, -1], r"assignment must have shape \(3,\), got \(2,\)"),
        ([[0, -1, 0]], r"assignment must have shape \(3,\), got \(1, 3\)"),
        ([0, 0.5, 0], r"assignment\[1\] = 0\.5: must be a whole number"),
        ([0, -1, np.nan], r"assignment\[2\] = nan: must be a whole number"),
        ([0, 2, 0], r"assignment\[1\] = 2: must be -1 \(local\) or an ES index 0\.\.1"),
        ([-2, 0, 0], r"assignment\[0\] = -2: must be -1"),
        ([True, False, True], r"assignment must hold integers, got dtype bool"),
        (["0", "1", "-1"], r"assignment must hold integers"),
        ([None, 0, 0], r"assignment must hold integers"),
    ],
)
def test_bad_assignment(hand, assignment, match):
    with pytest.raises(ValueError, match=match):
        mecopt.evaluate(hand, assignment)
