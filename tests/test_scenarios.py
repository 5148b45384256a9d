"""Scenario generators: the published setting, the uniform test family, seeds and overrides."""

import numpy as np
import pytest

import mecopt
from mecopt.errors import UnknownNameError
from mecopt.scenarios import scenario_parameters


@pytest.fixture(scope="module")
def kim_large():
    return mecopt.scenario("kim2026", 4000, seed=0)


def test_available_scenarios():
    assert {"kim2026", "uniform"} <= set(mecopt.available_scenarios())


def test_unknown_scenario_lists_valid_names():
    with pytest.raises(UnknownNameError, match=r"unknown scenario 'kim'; valid names: .*'kim2026'"
                                               r".*'uniform'"):
        mecopt.scenario("kim", 10, seed=0)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0, 0), r"n_users = 0: must be a whole number >= 1"),
        ((-3, 0), r"n_users = -3"),
        ((2.5, 0), r"n_users = 2\.5"),
        ((True, 0), r"n_users = True"),
        ((5, -1), r"seed = -1: must be a whole number >= 0"),
        ((5, 1.5), r"seed = 1\.5"),
        ((5, None), r"seed = None"),
    ],
)
def test_bad_size_or_seed(args, match):
    with pytest.raises(ValueError, match=match):
        mecopt.scenario("kim2026", *args)


def test_unknown_override_lists_valid_ones():
    with pytest.raises(ValueError, match=r"unknown override\(s\) for scenario 'kim2026': "
                                         r"colour; valid: .*area_m.*tau"):
        mecopt.scenario("kim2026", 5, seed=0, colour=1)


@pytest.mark.parametrize(
    ("name", "over", "match"),
    [
        ("uniform", {"n_servers": 0}, r"n_servers = 0: must be a whole number >= 1"),
        ("uniform", {"n_servers": 2.0}, r"n_servers = 2\.0"),
        ("kim2026", {"prompt_units": "bytes"}, r"prompt_units = 'bytes'"),
        ("kim2026", {"bandwidth_hz": -1.0}, r"bandwidth_hz = -1\.0: must be > 0"),
        ("kim2026", {"curve": "made-up"}, r"unknown accuracy curve 'made-up'"),
        ("kim2026", {"queue": "fifo"}, r"unknown queue model 'fifo'"),
    ],
)
def test_bad_override_value(name, over, match):
    with pytest.raises(ValueError, match=match):
        mecopt.scenario(name, 5, seed=0, **over)


@pytest.mark.parametrize("name", ["kim2026", "uniform"])
def test_same_seed_same_instance(name):
    assert mecopt.scenario(name, 12, seed=4).to_json() == mecopt.scenario(name, 12,
                                                                          seed=4).to_json()


@pytest.mark.parametrize("name", ["kim2026", "uniform"])
def test_other_seed_other_instance(name):
    a, b = mecopt.scenario(name, 12, seed=4), mecopt.scenario(name, 12, seed=5)
    assert not np.array_equal(a.gain, b.gain)
    assert not np.array_equal(a.alpha, b.alpha)


def test_streams_are_independent():
    # Changing the compute draws leaves positions, fading, prompts and the curve alone.
    a = mecopt.scenario("kim2026", 20, seed=1)
    b = mecopt.scenario("kim2026", 20, seed=1, capacity_factor=5.0, prompt_units="bytes-as-bits")
    for name in ("gain", "alpha", "acc_local", "acc_edge", "local_delay"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.allclose(b.capacity, a.capacity / 2)
    # The published code's quirk: the byte count used as a bit count.
    assert np.allclose(b.prompt_bits, a.prompt_bits / 8)


def test_kim2026_fixed_parameters():
    inst = mecopt.scenario("kim2026", 50, seed=2)
    assert inst.n_servers == 4
    assert np.all(inst.bandwidth == 100e6)
    assert np.allclose(inst.noise, 4e-21 * 100e6)
    assert np.all(inst.tx_power == 0.2)
    assert np.all(inst.per_user_cap == 1513e12)
    assert np.all((inst.capacity >= 0.6 * 10 * 1513e12) & (inst.capacity <= 1.4 * 10 * 1513e12))
    assert inst.tau == 0.6
    assert inst.interference == "none" and inst.queue == "processor-sharing"
    assert (inst.prompt_bits >= 8 * 150).all() and (inst.prompt_bits <= 8 * 600).all()
    assert inst.meta["scenario"] == "kim2026" and inst.meta["seed"] == 2
    assert inst.meta["synthetic_curve"] is True


def test_kim2026_channel_is_free_space_with_rayleigh_fading(kim_large):
    # |h|^2 = (c / (4 pi f d))^2 |g|^2 with d >= 1 m and |g|^2 ~ Exp(1): below the 1 m path
    # gain times a fading factor that 16,000 exponential draws do not reach.
    c, f = 3e8, 3.5e9
    assert kim_large.gain.max() <= (c / (4 * np.pi * f)) ** 2 * 50
    assert (kim_large.gain > 0).all()


def test_kim2026_local_delay_and_edge_work(kim_large):
    assert kim_large.local_delay.mean() == pytest.approx(35.8e-3, rel=0.02)
    assert kim_large.local_delay.min() >= 0.75 * 35.8e-3
    assert kim_large.local_delay.max() <= 1.25 * 35.8e-3
    # Edge work = 8 x the device work t^L C^L with C^L = 91.06e12 U(0.5, 1.5).
    device = kim_large.edge_work / (8 * kim_large.local_delay)
    assert device.min() >= 0.5 * 91.06e12 and device.max() <= 1.5 * 91.06e12
    assert device.mean() == pytest.approx(91.06e12, rel=0.03)


def test_kim2026_default_curve_matches_published_accuracies(kim_large):
    assert kim_large.acc_local.mean() == pytest.approx(0.45, abs=0.015)
    assert kim_large.acc_edge.mean() == pytest.approx(0.56, abs=0.015)
    # High alpha, low device accuracy.
    assert np.corrcoef(kim_large.alpha, kim_large.acc_local)[0, 1] < -0.9


def test_overrides_pass_through_to_instance_and_meta():
    inst = mecopt.scenario("kim2026", 10, seed=0, tau=None, queue="mm1", arrival_rate=50.0,
                           max_users=np.array([3, 3, 3, 3]), interference="other-cells")
    assert inst.tau is None and inst.queue == "mm1" and inst.arrival_rate == 50.0
    assert inst.max_users.tolist() == [3, 3, 3, 3]
    assert inst.meta["overrides"]["max_users"] == [3, 3, 3, 3]
    assert inst.meta["overrides"]["interference"] == "other-cells"


def test_uniform_family_sizes_and_defaults():
    inst = mecopt.scenario("uniform", 6, seed=0, n_servers=2)
    assert (inst.n_users, inst.n_servers) == (6, 2)
    assert inst.tau is None
    assert scenario_parameters("uniform") == {"n_servers": 3}
    assert mecopt.scenario("uniform", 6, seed=0).n_servers == 3


def test_uniform_optima_mix_local_and_offloaded():
    # The family is meant to make every part of the model matter.
    mixed = 0
    for seed in range(8):
        res = mecopt.solve(mecopt.scenario("uniform", 6, seed, n_servers=2), "bruteforce")
        mixed += 0 < res.n_offloaded < 6
    assert mixed >= 4


@pytest.mark.parametrize(("profile", "synthetic"), [("synthetic", True), ("babi-tiny", False)])
def test_profile_curve_keeps_the_profiles_synthetic_label(profile, synthetic):
    inst = mecopt.scenario("kim2026", 20, seed=1, profile=profile)
    assert inst.meta["curve"] == f"profile:{profile}"
    assert inst.meta["synthetic_curve"] is synthetic
