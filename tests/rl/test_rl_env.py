"""The gymnasium environment and the batched vector environment of mecopt.rl."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sb3_contrib")
gym = pytest.importorskip("gymnasium")

import mecopt.longterm as lt  # noqa: E402
from mecopt.errors import MissingDependencyError  # noqa: E402
from mecopt.rl import ENV_ID  # noqa: E402
from mecopt.rl._deps import require_rl  # noqa: E402
from mecopt.rl.features import n_features  # noqa: E402
from mecopt.rl.pool import TRAIN_SEED_BASE, check_eval_seeds, train_seeds, window  # noqa: E402
from mecopt.rl.vec_env import OffloadVecEnv  # noqa: E402


def test_env_checker_passes_on_registered_env():
    from gymnasium.utils.env_checker import check_env

    env = gym.make(ENV_ID)
    check_env(env.unwrapped, skip_render_check=True)
    assert env.observation_space.shape == (n_features(20, 4),)
    assert list(env.action_space.nvec) == [5] * 20


def test_episode_is_reproducible_and_finite():
    env = gym.make(ENV_ID, n_devices=5, horizon=12).unwrapped

    def episode(seed):
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        seq, done = [obs], False
        while not done:
            mask = env.action_masks().reshape(5, 5)
            act = np.array([rng.choice(np.flatnonzero(m)) for m in mask])
            obs, r, term, trunc, info = env.step(act)
            assert np.isfinite(obs).all() and np.isfinite(r) and np.isfinite(info["costs"]).all()
            seq.append(obs)
            done = term or trunc
        return np.array(seq)

    a, b = episode(3), episode(3)
    assert len(a) == 13
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, episode(4))


def test_vec_env_steps_batch_and_masks_devices_without_query():
    tr = lt.trace(n_devices=6, horizon=40, seed=train_seeds(0, 3))
    env = OffloadVecEnv(n_devices=6, n_envs=4, horizon=10, pool=tr, seed=1)
    obs = env.reset()
    assert obs.shape == (4, n_features(6, 4)) and obs.dtype == np.float32
    q = env.core.obs.has_query
    m = env.action_masks().reshape(4, 6, 5)
    assert m[..., 0].all()
    assert (m[..., 1:].all(axis=-1) == q).all() and (m[..., 1:].any(axis=-1) == q).all()
    ends = 0
    for _ in range(25):
        obs, r, dones, infos = env.step(np.full((4, 6), 1))
        assert np.isfinite(obs).all() and np.isfinite(r).all()
        assert infos[0]["costs"].shape == (3,)
        if dones.any():
            assert dones.all() and "terminal_observation" in infos[0]
            assert infos[0]["episode"]["l"] == 10
            ends += 1
    assert ends == 2


def test_reward_is_minus_total_latency_and_costs_match_the_rollout():
    tr = lt.trace(n_devices=5, horizon=30, seed=[7])
    env = OffloadVecEnv(n_devices=5, n_envs=1, horizon=30, pool=tr, seed=0)
    env.reset()
    env.core.start(tr)
    rewards, costs, dev = [], [], []
    for _ in range(30):
        _, r, dones, infos = env.step(np.zeros((1, 5), int))  # always local
        rewards.append(r[0])
        costs.append(infos[0]["costs"])
        dev.append(env.core.device_reward[0].sum())
    ref = lt.run(tr, "local")
    rec = ref.records
    scale = 5 * tr.scenario.arrival_rate * tr.scenario.slot_s
    np.testing.assert_allclose(rewards, -rec.latency.sum(axis=1) / scale, rtol=1e-5)
    np.testing.assert_allclose(dev, rewards, rtol=1e-5)  # per-device parts sum to the slot
    total_e = np.sum(costs, axis=0)[0]  # the energy queues' growth telescopes
    budget = tr.energy_budget[0]
    np.testing.assert_allclose(total_e, np.mean(rec.energy_queue[-1] / budget), rtol=1e-6)
    assert np.mean(costs, axis=0)[1] > 0  # always-local misses the accuracy target
    # the episode's violations are the trace's own, signed and relative
    viol = infos[0]["episode"]["violation"]
    assert dones[0]
    np.testing.assert_allclose(viol[1], (0.52 - ref.accuracy) / 0.52, rtol=1e-6)
    assert np.isclose(viol[0], (ref.energy / budget).max() - 1.0)
    assert (viol[1] > 0) == (ref.accuracy < 0.52)


def test_window_cuts_members_and_slots():
    tr = lt.trace(n_devices=3, horizon=20, seed=[11, 12])
    w = window(tr, np.array([1, 0]), np.array([5, 0]), 8)
    assert (w.batch, w.horizon) == (2, 8)
    np.testing.assert_array_equal(w.alpha[0], tr.alpha[1, 5:13])
    np.testing.assert_array_equal(w.gain[1], tr.gain[0, :8])
    assert w.seeds == (12, 11)


def test_training_and_evaluation_seeds_are_disjoint():
    assert min(train_seeds(0, 5)) >= TRAIN_SEED_BASE
    assert set(train_seeds(0, 50)).isdisjoint(train_seeds(1, 50))
    check_eval_seeds(list(range(100)))
    with pytest.raises(ValueError, match="training range"):
        check_eval_seeds([TRAIN_SEED_BASE + 3])


def test_missing_rl_extra_is_one_line_naming_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sb3_contrib" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"'rl' extra") as exc:
        require_rl()
    assert "\n" not in str(exc.value) and "sb3-contrib" in str(exc.value)


def test_cli_without_rl_extra_prints_one_line():
    code = ("import importlib.util, sys; real = importlib.util.find_spec; "
            "importlib.util.find_spec = lambda n, *a: None if n == 'gymnasium' else real(n, *a); "
            "from mecopt.cli import main; sys.exit(main(['train', '--out', 'x']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "'rl' extra" in lines[0] and "Traceback" not in proc.stderr


def test_import_mecopt_registers_the_env():
    code = ("import mecopt, gymnasium; env = gymnasium.make('mecopt/Offload-v0', n_devices=3,"
            " horizon=4); print(env.reset(seed=0)[0].shape)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"({n_features(3, 4)},)"
