"""The long-term simulator: a hand-computed two-slot example, traces, common random numbers,
replay, the stepwise API and bad input."""

import numpy as np
import pytest

import mecopt.longterm as lt
from mecopt.errors import MecoptError, MissingDependencyError, UnknownNameError


def hand_trace():
    """B = 1, T = 2, U = 2, M = 1 with round numbers.

    ES: C = C_max = 1e12 FLOP/s, B = 1 MHz, P g / sigma^2 = 1 (so 1 bit/s/Hz), slot 0.1 s.
    Prompts 1e4 bits. Slot 0: both devices query (W = 5e10, 1e11 FLOP). Slot 1: both query
    (W = 2e11 for device 0; device 1 answers locally in 50 ms for 0.2 J).
    """
    scen = lt.make_scenario(min_accuracy=0.55, max_hallucination=0.3, energy_budget_j=0.1,
                            n_servers=1)
    t, u = 2, 2

    def cell(values):
        return np.array(values, dtype=float).reshape(1, t, u)

    return lt.Trace(
        scenario=scen, seeds=(0,),
        has_query=np.ones((1, t, u), bool),
        alpha=cell([0.5, 0.5, 0.5, 0.5]),
        acc_local=cell([0.3, 0.3, 0.2, 0.4]),
        acc_edge=cell([0.7, 0.8, 0.5, 0.6]),
        hall_local=cell([0.4, 0.4, 0.4, 0.35]),
        hall_edge=cell([0.2, 0.1, 0.3, 0.2]),
        correct_local=np.zeros((1, t, u), bool),
        correct_edge=np.array([[[True, False], [True, True]]]),
        halluc_local=np.zeros((1, t, u), bool),
        halluc_edge=np.array([[[False, True], [False, False]]]),
        local_delay=cell([0.05, 0.05, 0.05, 0.05]),
        local_energy=cell([0.2, 0.2, 0.2, 0.2]),
        prompt_bits=cell([1e4, 1e4, 1e4, 1e4]),
        edge_work=cell([5e10, 1e11, 2e11, 1e11]),
        device_wait=np.zeros((1, t, u)),
        gain=np.full((1, t, u, 1), 1e-12),
        position=np.zeros((1, t, u, 2)),
        tx_power=np.ones((1, u)),
        energy_budget=np.full((1, u), 0.1),
        capacity=np.array([[1e12]]),
        per_user_cap=np.array([[1e12]]),
        bandwidth=np.array([[1e6]]),
        noise=np.array([[1e-12]]),
    )


def test_two_slot_example_by_hand():
    tr = hand_trace()
    sim = lt.Simulator(tr)
    obs = sim.reset()
    assert obs.spectral_eff[0, 0, 0] == pytest.approx(1.0)
    out0 = sim.step(np.array([[1, 1]]))
    # n = 2: upload 1e4 * 2 / 1e6 = 20 ms; share 5e11 -> 100 ms and 200 ms; no backlog.
    np.testing.assert_allclose(out0.upload, [[0.02, 0.02]])
    np.testing.assert_allclose(out0.processing, [[0.1, 0.2]])
    np.testing.assert_allclose(out0.queue_wait, [[0.0, 0.0]])
    np.testing.assert_allclose(out0.latency, [[0.12, 0.22]])
    np.testing.assert_allclose(out0.energy, [[0.02, 0.02]])
    # Backlog 1.5e11 - 1e12 * 0.1 = 5e10.
    np.testing.assert_allclose(out0.backlog, [[5e10]])
    obs = sim.observe()
    np.testing.assert_allclose(obs.backlog_wait, [[0.05]])
    out1 = sim.step(np.array([[1, 0]]))
    # Device 0 alone: upload 10 ms, wait 5e10 / 1e12 = 50 ms, processing 2e11 / 1e12.
    np.testing.assert_allclose(out1.latency, [[0.01 + 0.05 + 0.2, 0.05]])
    np.testing.assert_allclose(out1.energy, [[0.01, 0.2]])
    np.testing.assert_allclose(out1.backlog, [[5e10 + 2e11 - 1e11]])
    # Virtual queues: energy max(0.02 - 0.1, 0) then max(0 + 0.2 - 0.1, 0) for device 1;
    # accuracy max(1.1 - 1.5, 0) then max(0 + 1.1 - (0.5 + 0.4), 0).
    np.testing.assert_allclose(out1.energy_queue, [[0.0, 0.1]])
    np.testing.assert_allclose(out1.accuracy_queue, [0.2])
    # Hallucination: max(0.3 - 0.6, 0) then max(0 + (0.3 + 0.35) - 0.6, 0).
    np.testing.assert_allclose(out1.hallucination_queue, [0.05])
    assert sim.done

    r = lt.replay(tr, np.array([[1, 1], [1, 0]]))
    assert r.mean_latency == pytest.approx((0.12 + 0.22 + 0.26 + 0.05) / 4)
    np.testing.assert_allclose(r.energy, [0.015, 0.11])
    assert r.accuracy == pytest.approx((0.7 + 0.8 + 0.5 + 0.4) / 4)
    assert r.hallucination == pytest.approx((0.2 + 0.1 + 0.3 + 0.35) / 4)
    assert r.accuracy_realised == pytest.approx(0.5)   # right on 2 of the 4 queries
    assert r.hallucination_realised == pytest.approx(0.25)
    assert not r.feasible
    assert len(r.violations) == 1 and "device 1" in r.violations[0]


@pytest.fixture(scope="module")
def small():
    return lt.trace(n_devices=6, horizon=80, seed=3)


def test_trace_shapes_and_content(small):
    assert (small.batch, small.horizon, small.n_devices, small.n_servers) == (1, 80, 6, 4)
    q = small.has_query
    assert 0.4 < q.mean() < 0.8                  # Bernoulli 0.6
    assert np.all(small.alpha[~q] == 0) and np.all(small.local_delay[q] > 0)
    assert np.all((small.acc_local >= 0) & (small.acc_local <= 1))
    assert np.all(small.gain > 0)
    # Energy of a local answer is power x latency of the device model.
    dev = small.scenario.device_model()
    np.testing.assert_allclose(small.local_energy[q], dev.power_w * small.local_delay[q])


def test_same_seed_same_trace_and_figures(small):
    again = lt.trace(n_devices=6, horizon=80, seed=3)
    for name in ("has_query", "alpha", "gain", "capacity", "correct_edge"):
        np.testing.assert_array_equal(getattr(small, name), getattr(again, name))
    a = lt.run(small, "random", seed=5)
    b = lt.run(again, "random", seed=5)
    assert a.mean_latency == b.mean_latency
    np.testing.assert_array_equal(a.records.actions, b.records.actions)
    other = lt.trace(n_devices=6, horizon=80, seed=4)
    assert not np.array_equal(small.alpha, other.alpha)


def test_streams_are_independent():
    """Changing the arrival rate leaves the channel and the query content unchanged."""
    a = lt.trace(n_devices=4, horizon=30, seed=1)
    b = lt.trace(n_devices=4, horizon=30, seed=1, arrival_rate=0.3)
    np.testing.assert_array_equal(a.gain, b.gain)
    both = a.has_query & b.has_query
    np.testing.assert_array_equal(a.alpha[both], b.alpha[both])


def test_batch_equals_members():
    batch = lt.trace(n_devices=5, horizon=40, seed=[2, 7])
    rolls = lt.run_batch(batch, "greedy")
    for k, seed in enumerate((2, 7)):
        single = lt.run(lt.trace(n_devices=5, horizon=40, seed=seed), "greedy")
        assert rolls[k].mean_latency == pytest.approx(single.mean_latency, rel=1e-12)
        np.testing.assert_array_equal(rolls[k].records.actions, single.records.actions)
    assert batch[1].seeds == (7,)


@pytest.mark.parametrize("policy", ["local", "offload", "random", "greedy"])
def test_replay_gives_the_same_figures(small, policy):
    r = lt.run(small, policy, seed=1)
    again = lt.replay(small, r.records.actions)
    assert again.mean_latency == r.mean_latency
    np.testing.assert_array_equal(again.energy, r.energy)
    assert (again.accuracy, again.hallucination) == (r.accuracy, r.hallucination)
    assert again.violations == r.violations


def test_default_scenario_binds(small):
    local = lt.run(small, "local")
    assert local.offload_share == 0.0
    assert any("accuracy" in v for v in local.violations)
    assert any("energy" in v for v in local.violations)
    busy = lt.trace(n_devices=30, horizon=100, seed=0)
    assert lt.run(busy, "offload").mean_latency > 3 * lt.run(busy, "local").mean_latency


def test_poisson_arrivals_buffer_fifo():
    tr = lt.trace(n_devices=3, horizon=200, seed=0, arrival="poisson", arrival_rate=0.8)
    assert tr.has_query.sum() > 0
    assert np.all(tr.device_wait[~tr.has_query] == 0)
    assert tr.device_wait.max() > 0
    r = lt.run(tr, "local")
    q = r.records.has_query
    np.testing.assert_allclose(r.records.latency[q], (tr.local_delay + tr.device_wait)[0][q])


def test_mobility_moves_devices_inside_the_area():
    tr = lt.trace(n_devices=3, horizon=50, seed=0, speed_mps=20.0)
    pos = tr.position[0]
    assert np.all((pos >= 0) & (pos <= 500))
    step = np.linalg.norm(np.diff(pos, axis=0), axis=-1)
    assert np.all(step <= 2.0 + 1e-9) and step.max() > 1.0


def test_gauss_markov_correlation():
    from mecopt.longterm.propagation import gauss_markov_fading

    g = gauss_markov_fading(np.random.default_rng(0), 4000, (8,), 0.9)
    assert g.mean() == pytest.approx(1.0, abs=0.08)          # |h|^2 ~ Exp(1)
    x = g - g.mean()
    lag1 = (x[1:] * x[:-1]).mean() / x.var()
    assert lag1 == pytest.approx(0.81, abs=0.05)              # corr(|h|^2) = rho^2


def test_save_and_load(tmp_path, small):
    path = small.save(tmp_path / "tr.npz")
    back = lt.Trace.load(path)
    np.testing.assert_array_equal(back.gain, small.gain)
    assert back.scenario == small.scenario and back.seeds == small.seeds
    r = lt.run(small, "greedy")
    r.save(tmp_path / "r.npz")
    rb = lt.Rollout.load(tmp_path / "r.npz")
    assert rb.mean_latency == r.mean_latency and rb.violations == r.violations
    (tmp_path / "bad.npz").write_bytes(b"not a trace")
    with pytest.raises(lt.TraceFormatError):
        lt.Trace.load(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError):
        lt.Trace.load(tmp_path / "missing.npz")


@pytest.mark.parametrize("override, match", [
    ({"energy_budget_j": -1.0}, "energy_budget_j"),
    ({"fading_rho": 1.0}, "fading_rho"),
    ({"fading_rho": -0.1}, "fading_rho"),
    ({"arrival_rate": 1.5}, "arrival_rate"),
    ({"arrival": "poisson", "arrival_rate": 1.0}, "arrival_rate"),
    ({"arrival": "weibull"}, "arrival"),
    ({"n_servers": 0}, "n_servers"),
    ({"min_accuracy": 1.2}, "min_accuracy"),
    ({"slot_s": float("nan")}, "slot_s"),
    ({"bogus": 1}, "bogus"),
])
def test_bad_parameters_name_the_field(override, match):
    with pytest.raises(ValueError, match=match):
        lt.trace(n_devices=2, horizon=3, seed=0, **override)


def test_unreachable_accuracy_is_infeasible():
    with pytest.raises(lt.InfeasibleScenarioError, match="min_accuracy = 0.9 is infeasible"):
        lt.make_scenario(min_accuracy=0.9)
    with pytest.raises(lt.InfeasibleScenarioError, match="max_hallucination"):
        lt.make_scenario(max_hallucination=0.01)


def test_bad_actions_and_sizes(small):
    sim = lt.Simulator(small)
    obs = sim.reset()
    bad = np.where(obs.has_query, 9, -1)
    with pytest.raises(lt.ActionError, match="must be 0 \\(local\\) or 1..4"):
        sim.step(bad)
    with pytest.raises(lt.ActionError, match="shape"):
        sim.step(np.zeros((1, 3), int))
    with pytest.raises(ValueError, match="n_devices"):
        lt.trace(n_devices=0, horizon=3)
    with pytest.raises(ValueError, match="B = 2"):
        lt.run(lt.trace(n_devices=2, horizon=3, seed=[0, 1]), "local")


def test_policy_registry():
    names = lt.available_policies()
    for name in ("local", "offload", "random", "greedy", "goa", "myopic-optimal", "lyapunov"):
        assert name in lt.POLICIES
    assert set(names) <= set(lt.POLICIES.names())
    with pytest.raises(UnknownNameError, match="valid names"):
        lt.make_policy("nope")
    with pytest.raises(ValueError, match="p_offload"):
        lt.make_policy("random", p_offload=2.0)
    if "hindsight" not in names:
        with pytest.raises(MissingDependencyError, match="not available"):
            lt.make_policy("hindsight")
    assert issubclass(MissingDependencyError, MecoptError)


@pytest.mark.parametrize("name", ["mecopt.longterm.trace_draw", "mecopt.longterm.simulator",
                                  "mecopt.longterm.run"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
