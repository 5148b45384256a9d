"""The learners of mecopt.rl: PPO, PPO-Lagrangian, world-model PPO; saving, loading, CLI."""

import json

import numpy as np
import pytest

pytest.importorskip("sb3_contrib")
th = pytest.importorskip("torch")

import mecopt.longterm as lt  # noqa: E402
from mecopt.cli import main  # noqa: E402
from mecopt.rl.lagrange import PIDLagrangian, PPOLag  # noqa: E402
from mecopt.rl.network import OffloadPolicy  # noqa: E402
from mecopt.rl.pool import train_seeds  # noqa: E402
from mecopt.rl.saved import PolicyFileError  # noqa: E402
from mecopt.rl.train import train  # noqa: E402
from mecopt.rl.vec_env import OffloadVecEnv  # noqa: E402
from mecopt.rl.world_model import WorldModel  # noqa: E402

TINY = dict(n_devices=4, n_envs=4, horizon=16, pool_size=2, pool_length=32, n_eval=2,
            eval_horizon=20, n_steps=32, batch_size=64, n_epochs=2, progress=False,
            plot=False)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ppo")
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(out / "cache"))
    result = train("ppo", steps=384, seed=0, out=out, checkpoint_every=128, **TINY)
    mp.undo()
    return out, result


def test_ppo_trains_saves_and_evaluates_held_out(ppo_run):
    out, result = ppo_run
    assert result["steps"] >= 384
    assert (out / "model.zip").is_file() and (out / "eval.json").is_file()
    ev = json.loads((out / "eval.json").read_text())["eval"]
    assert ev["seeds"] == [0, 1] and np.isfinite(ev["mean_latency"]) and ev["mean_latency"] > 0
    lines = (out / "curve.csv").read_text().splitlines()
    assert lines[0].startswith("steps,wall_s,reward") and len(lines) >= 4
    assert all(np.isfinite(float(x)) for x in lines[-1].split(","))
    assert any((out / "tb").rglob("events.out.tfevents*"))
    assert sorted(p.name for p in (out / "checkpoints").iterdir())[0] == "model-128.zip"


def test_saved_policy_is_a_longterm_policy_and_reproducible(ppo_run):
    out, _ = ppo_run
    tr = lt.trace(n_devices=4, horizon=25, seed=[0, 1])
    name = f"ppo:{out / 'model.zip'}"
    a = lt.run_batch(tr, name, seed=5)
    b = lt.run_batch(tr, name, seed=5)
    np.testing.assert_array_equal(a[0].records.actions, b[0].records.actions)
    assert a[0].mean_latency == b[0].mean_latency and np.isfinite(a[1].mean_latency)
    c = lt.run_batch(tr, name, seed=6)
    assert not np.array_equal(a[0].records.actions, c[0].records.actions)
    greedy = lt.run_batch(tr, lt.make_policy(name, deterministic=True), seed=1)
    again = lt.run_batch(tr, lt.make_policy(name, deterministic=True), seed=2)
    np.testing.assert_array_equal(greedy[0].records.actions, again[0].records.actions)


def test_loading_for_other_sizes_or_algorithm_is_a_clear_error(ppo_run, tmp_path):
    out, _ = ppo_run
    path = out / "model.zip"
    with pytest.raises(PolicyFileError, match=r"trained for U = 4 devices.*U = 6"):
        lt.run(lt.trace(n_devices=6, horizon=5, seed=0), f"ppo:{path}")
    scen = lt.make_scenario("default", n_servers=2)
    with pytest.raises(PolicyFileError, match=r"M = 4 servers.*M = 2"):
        lt.run(lt.trace(scen, n_devices=4, horizon=5, seed=0), f"ppo:{path}")
    with pytest.raises(PolicyFileError, match="holds a 'ppo' policy"):
        lt.make_policy(f"ppo-lag:{path}")
    with pytest.raises(PolicyFileError, match="not found"):
        lt.make_policy(f"ppo:{tmp_path / 'nope.zip'}")


def test_resume_continues_from_the_newest_checkpoint(ppo_run, tmp_path):
    out, _ = ppo_run
    import shutil

    run = tmp_path / "run"
    shutil.copytree(out, run)
    result = train("ppo", steps=512, seed=0, out=run, resume=True, checkpoint_every=128,
                   **TINY)
    assert result["steps"] >= 512
    steps = [int(r.split(",")[0]) for r in (run / "curve.csv").read_text().splitlines()[1:]]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)


def test_pid_multiplier_rises_while_violated_and_falls_when_slack():
    lam = PIDLagrangian(3, kp=1.0, ki=0.5, kd=0.5, ema=0.5)
    seen = [lam.update([0.2, -0.1, 0.0]).copy() for _ in range(4)]
    assert all(b[0] > a[0] for a, b in zip(seen, seen[1:], strict=False))
    assert seen[-1][1] == 0.0 and seen[-1][2] == 0.0
    for _ in range(20):
        lam.update([-0.3, 0.0, 0.0])
    assert lam.values[0] == 0.0 and lam.integral[0] == 0.0
    # no margin: a constraint met exactly leaves the integral where it is
    held = PIDLagrangian(1, kp=0.0, ki=1.0, kd=0.0)
    held.update([0.5])
    assert held.update([0.0])[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="pid_ema"):
        PIDLagrangian(3, ema=1.0)


def test_ppo_lagrangian_raises_multipliers_on_violated_constraints():
    scen = lt.make_scenario("default", min_accuracy=0.555)  # near the best possible (0.559)
    tr = lt.trace(scen, n_devices=4, horizon=40, seed=train_seeds(0, 2))
    env = OffloadVecEnv(scen, n_devices=4, n_envs=4, horizon=16, pool=tr, seed=0)
    model = PPOLag(OffloadPolicy, env, n_steps=16, batch_size=32, n_epochs=1, seed=0)
    values = []
    for _ in range(3):
        model.learn(64, reset_num_timesteps=False)
        values.append(model.lagrange.values.copy())
        # the network observes (and its decoder prices with) the current multipliers
        np.testing.assert_allclose(model.policy.lam.numpy(), values[-1], rtol=1e-6)
    assert (np.diff(np.array(values)[:, 1]) > 0).all()


def test_world_model_learns_the_action_dependent_state():
    tr = lt.trace(n_devices=4, horizon=40, seed=train_seeds(0, 2))
    env = OffloadVecEnv(n_devices=4, n_envs=2, horizon=40, pool=tr, seed=0)
    rng = np.random.default_rng(0)
    obs, acts, nxt, rew, cost = [env.reset()], [], [], [], []
    for _ in range(39):
        a = np.where(env.core.obs.has_query, rng.integers(0, 5, (2, 4)), 0)
        o, r, _, infos = env.step(a)
        acts.append(a)
        nxt.append(o)
        rew.append(r)
        cost.append(np.stack([i["costs"] for i in infos]))
        obs.append(o)
    cat = lambda x: th.as_tensor(np.concatenate(x), dtype=th.float32)  # noqa: E731
    o, a, n = cat(obs[:-1]), cat(acts).long(), cat(nxt)
    r, c = cat(rew), cat(cost)
    wm = WorldModel(4, 4, hidden=32)
    opt = th.optim.Adam(wm.parameters(), lr=3e-3)
    ones = th.ones(o.shape[0])
    losses = []
    for _ in range(150):
        loss = wm.loss(o, a, n, r, c, ones)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.3 * losses[0]
    # a model rollout keeps the exogenous features of the real next observation
    endo, _, _ = wm(o[:3], a[:3])
    spliced = wm.splice(n[:3], endo)
    keep = np.setdiff1d(np.arange(o.shape[1]), wm.index.numpy())
    assert th.equal(spliced[:, keep], n[:3, keep])


@pytest.mark.parametrize("algo", ["ppo-lag", "wm-ppo"])
def test_constrained_learners_train_save_and_load(algo, tmp_path):
    out = tmp_path / algo
    opts = {"wm_hidden": 16, "imag_starts": 32} if algo == "wm-ppo" else {}
    result = train(algo, steps=256, seed=1, out=out, checkpoint_every=10_000, **TINY, **opts)
    assert np.isfinite(result["eval"]["mean_latency"])
    pol = lt.make_policy(f"{algo}:{out / 'model.zip'}")
    assert pol.meta["algo"] == algo
    lam = pol.model.lagrange.values
    assert lam.shape == (3,) and (lam >= 0).all()
    np.testing.assert_allclose(pol.model.policy.lam.numpy(), lam, rtol=1e-6)
    if algo == "wm-ppo":
        saved = pol.model.world_model.state_dict()
        assert all(th.isfinite(v).all() for v in saved.values())


def test_cli_train_help_and_bad_input(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--help"])
    assert exc.value.code == 0
    assert "--algo" in capsys.readouterr().out
    assert main(["train", "--out", "x", "--devices", "0"]) == 2
    assert "--devices 0" in capsys.readouterr().err


def test_behavioural_cloning_imitates_hindsight_plans(tmp_path):
    pytest.importorskip("highspy")
    out = tmp_path / "bc"
    result = train("bc", steps=1, seed=0, out=out, checkpoint_every=10_000, bc_traces=2,
                   bc_epochs=3, bc_time_limit=30.0, **TINY)
    assert np.isfinite(result["eval"]["mean_latency"])
    pol = lt.make_policy(f"bc:{out / 'model.zip'}")
    assert pol.meta["algo"] == "bc"
    assert pol.model.expert_stats["status"] and len(pol.model.expert_stats["gap"]) == 2
    lam = pol.model.policy.lam.numpy()
    assert lam.shape == (3,) and (lam > 0).all()  # learned through a softplus
