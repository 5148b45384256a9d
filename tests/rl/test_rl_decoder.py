"""The joint slot decoder of mecopt.rl: exact marginal scores, consistent log-probabilities,
coordination against brute force, and causality of a learned policy (splicing test)."""

import dataclasses
import itertools

import numpy as np
import pytest

pytest.importorskip("sb3_contrib")
th = pytest.importorskip("torch")

import mecopt.longterm as lt  # noqa: E402
from mecopt.longterm.traces import CELL_FIELDS, FLAG_FIELDS  # noqa: E402
from mecopt.rl.features import Encoder, masks  # noqa: E402
from mecopt.rl.lagrange import PPOLag  # noqa: E402
from mecopt.rl.network import OffloadPolicy, SlotContext, option_scores  # noqa: E402
from mecopt.rl.pool import train_seeds  # noqa: E402
from mecopt.rl.saved import LearnedPolicy  # noqa: E402
from mecopt.rl.vec_env import OffloadVecEnv  # noqa: E402


def _model(u, m=4, **policy):
    scen = lt.make_scenario("default", n_servers=m)
    tr = lt.trace(scen, n_devices=u, horizon=20, seed=train_seeds(0, 1))
    env = OffloadVecEnv(scen, n_devices=u, n_envs=2, horizon=10, pool=tr, seed=0)
    model = PPOLag(OffloadPolicy, env, n_steps=10, batch_size=20, seed=0,
                   policy_kwargs={"net_arch": [16], **policy})
    th.nn.init.zeros_(model.policy.action_net.linear.weight)
    th.nn.init.zeros_(model.policy.action_net.linear.bias)
    model.mecopt_meta = {"algo": "ppo-lag", "n_devices": u, "n_servers": m,
                         "scenario": scen.to_dict()}
    return model, scen


@pytest.mark.parametrize("seed", range(4))
def test_marginal_scores_telescope_to_the_simulated_slot_latency(seed):
    """Adding the devices one by one in any order, the chosen options' marginal scores
    (no prices, no backlog weight) sum to the slot's total latency."""
    rng = np.random.default_rng(seed)
    tr = lt.trace(n_devices=7, horizon=3, seed=[seed])
    sim = lt.Simulator(tr)
    obs = sim.reset()
    sim.step(np.where(obs.has_query, rng.integers(0, 5, (1, 7)), -1))  # some backlog
    obs = sim.observe()
    x = th.as_tensor(Encoder(tr.scenario, 7)(obs))
    ctx = SlotContext(x, 7, 4, th.zeros(3), queue_gain=0.0)
    act = np.where(obs.has_query[0], rng.integers(0, 5, 7), 0)
    assigned, counts = th.zeros(1, 7, 4), th.zeros(1, 4)
    total = 0.0
    for u in rng.permutation(7):
        if not obs.has_query[0, u]:
            continue
        total += float(option_scores(ctx, assigned, counts, th.zeros(1, 7))[0, u, act[u]])
        if act[u] > 0:
            assigned[0, u, act[u] - 1] = 1.0
            counts[0, act[u] - 1] += 1.0
    out = sim.step(np.where(obs.has_query, act[None], -1))
    q = obs.has_query[0]
    want = float((out.latency - out.device_wait)[0, q].sum()) / obs.slot_s
    assert total == pytest.approx(want, rel=1e-4)


def test_teacher_forced_log_probs_match_the_sampled_ones():
    model, scen = _model(6)
    tr = lt.trace(scen, n_devices=6, horizon=3, seed=[1, 2, 3])
    obs = lt.Simulator(tr).reset()
    x = th.as_tensor(Encoder(scen, 6)(obs))
    mk = masks(obs.has_query, 4)
    with th.no_grad():
        actions, _, logp = model.policy(x, action_masks=mk)
        _, _, dev_logp, ent = model.policy.evaluate_slot(x, actions, mk)
    np.testing.assert_allclose(dev_logp.sum(dim=1).numpy(), logp.numpy(), rtol=1e-5)
    no_query = ~th.as_tensor(obs.has_query.copy())
    assert (dev_logp[no_query] == 0).all() and (actions[no_query] == 0).all()
    assert (ent >= 0).all()


def test_decoder_coordinates_the_slot_near_the_brute_force_optimum():
    """With zero multipliers, the most probable decode of an untrained network is within
    a few percent of the exact slot optimum (brute force over (M + 1)^U assignments)."""
    u, m = 5, 2
    model, scen = _model(u, m=m, backlog_weight=0.0)
    ratios = []
    for seed in range(12):
        # T = 50: the energy guard (whole-horizon budget) is far from binding at slot 0
        tr = lt.trace(scen, n_devices=u, horizon=50, seed=[seed])
        obs = lt.Simulator(tr).reset()
        if obs.has_query.sum() < 3:
            continue
        x = th.as_tensor(Encoder(scen, u)(obs))
        a = model.policy.decide(x, masks(obs.has_query, m), None).numpy()[0]

        def total(act, tr=tr, obs=obs):
            sim = lt.Simulator(tr)
            sim.reset()
            return float(sim.step(np.where(obs.has_query, act[None], -1)).latency.sum())

        best = min(total(np.array(c)) for c in itertools.product(range(m + 1), repeat=u))
        ratios.append(total(a) / best)
    assert len(ratios) >= 6
    assert np.mean(ratios) <= 1.03 and max(ratios) <= 1.10


def _splice(a, b, t0):
    """Trace ``a`` whose slots from ``t0`` on come from ``b`` (the statics of ``a``)."""
    fields = {}
    for name in CELL_FIELDS + FLAG_FIELDS + ("gain", "position"):
        x, y = getattr(a, name), getattr(b, name)
        fields[name] = np.concatenate([x[:, :t0], y[:, t0:]], axis=1)
    return dataclasses.replace(a, **fields)


def test_learned_policy_is_causal_splicing_test():
    """Actions before slot t0 do not change when the trace after t0 changes."""
    model, scen = _model(6)
    model.policy.set_multipliers([0.0, 1.5, 0.0])
    a = lt.trace(scen, n_devices=6, horizon=24, seed=[5])
    b = lt.trace(scen, n_devices=6, horizon=24, seed=[6])
    t0 = 12
    spliced = _splice(a, b, t0)
    for det in (False, True):
        r1 = lt.run(a, LearnedPolicy(model, deterministic=det), seed=3)
        r2 = lt.run(spliced, LearnedPolicy(model, deterministic=det), seed=3)
        x1, x2 = r1.records.actions, r2.records.actions
        np.testing.assert_array_equal(x1[:t0], x2[:t0])
        assert not np.array_equal(x1[t0:], x2[t0:])


def test_saved_policies_load_whatever_the_network_module_is_called(monkeypatch):
    """A saved zip names the network class by its module path at saving time (the shipped
    ones: ``mecopt.rl.policies``, now :mod:`mecopt.rl.network`); the loader gives SB3 the
    class, so a file loads even when that old module cannot be imported."""
    import sys
    import zipfile
    from pathlib import Path

    from mecopt.rl.saved import load_policy

    path = Path(lt.__file__).parent.parent / "data" / "policies" / "ppo-lag-u20.zip"
    assert b"mecopt.rl.policies" in zipfile.ZipFile(path).read("data")
    monkeypatch.setitem(sys.modules, "mecopt.rl.policies", None)  # import raises
    with pytest.raises(ImportError):
        __import__("mecopt.rl.policies")
    pol = load_policy(path, algo="ppo-lag")
    r = lt.run(lt.trace("default", n_devices=20, horizon=3, seed=0), pol, seed=0)
    assert r.n_queries > 0 and np.isfinite(r.mean_latency)
