"""PPO for the joint slot decision: per-device ratios and credit, a cost critic, normalisation.

:class:`SlotPPO` subclasses sb3-contrib's ``MaskablePPO`` and overrides ``train`` (and wraps
the environment in ``collect_rollouts``); the rollout loop, buffer and GAE of the reward
stay SB3's. The policy must be :class:`~mecopt.rl.network.OffloadPolicy`.

- **Reward and cost normalisation** (as SB3's ``VecNormalize``): the environment's reward
  (minus the slot's total latency over ``U rate Delta``) is divided by the running
  standard deviation of its
  discounted return before SB3 stores it; the costs likewise (per cost) for the cost
  critic. Advantages are turned back into raw units before they are
  combined, so the multipliers keep the meaning of :mod:`mecopt.rl.features`.
- **Cost critic**: ``policy.cost_net`` predicts the three (normalised) cost-to-go values;
  cost advantages come from GAE on the recorded costs. The advantage PPO follows is the
  Lagrangian one, ``(A_r - lambda . A_c) / (1 + sum lambda)`` (for ``ppo`` the multipliers
  stay 0 and the constraints are not seen).
- **Per-device credit**: the slot's decoder factorises the joint log-probability into
  per-device conditionals; each device gets its own clipped ratio and the advantage
  ``A + device_credit x n_t (rho_u - mean rho)``, where ``rho_u`` is the device's own
  Lagrangian reward in the slot (its latency and constraint rates, from the simulator's
  per-device outcome) and the mean runs over the slot's queries: a zero-sum reallocation
  of the slot's advantage towards the devices that did better than the slot's average.
- KL early stopping at ``1.5 target_kl`` (joint KL estimate per sample).

Every episode of a rollout is a whole trace window when ``n_steps`` equals the episode
horizon (the default): its end is a true end and GAE does not bootstrap past it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from sb3_contrib import MaskablePPO
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from torch.nn import functional as F

from mecopt.rl.features import COST_NAMES


class RunningScale:
    """Running standard deviation of a stream (Welford), per component."""

    def __init__(self, n: int = 1) -> None:
        self.count = 0
        self.mean = np.zeros(n)
        self.m2 = np.zeros(n)

    def update(self, x: np.ndarray) -> None:
        """Add rows of ``x`` ((K, n) or (K,))."""
        x = np.asarray(x, float).reshape(-1, self.mean.size)
        k = x.shape[0]
        if k == 0:
            return
        mean_b, var_b = x.mean(axis=0), x.var(axis=0)
        delta = mean_b - self.mean
        tot = self.count + k
        self.mean = self.mean + delta * k / tot
        self.m2 = self.m2 + var_b * k + delta**2 * self.count * k / tot
        self.count = tot

    @property
    def std(self) -> np.ndarray:
        """Standard deviation (1 before any data; never below 1e-4)."""
        if self.count < 2:
            return np.ones_like(self.mean)
        return np.maximum(np.sqrt(self.m2 / self.count), 1e-4)


class SlotRecorder(VecEnvWrapper):
    """Records raw rewards, costs, per-device outcomes and episode violations of a rollout;
    hands SB3 the normalised reward (and keeps the running return scales)."""

    def __init__(self, venv: VecEnv, reward_scale: RunningScale, cost_scale: RunningScale,
                 gamma: float, normalize: bool = True) -> None:
        super().__init__(venv)
        self.reward_scale, self.cost_scale = reward_scale, cost_scale
        self.gamma, self.normalize = float(gamma), normalize
        self._ret = np.zeros(venv.num_envs)
        self._cret = np.zeros((venv.num_envs, cost_scale.mean.size))
        self.clear()

    def clear(self) -> None:
        """Forget the recorded steps (called at the start of each rollout)."""
        self.rewards: list[np.ndarray] = []
        self.costs: list[np.ndarray] = []
        self.device_reward: list[np.ndarray] = []
        self.device_costs: list[np.ndarray] = []
        self.violations: list[np.ndarray] = []

    def reset(self) -> np.ndarray:
        return self.venv.reset()

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        obs, reward, dones, infos = self.venv.step_wait()
        reward = np.asarray(reward, float)
        self.rewards.append(reward)
        self.costs.append(np.stack([info["costs"] for info in infos]))
        core = getattr(self.venv, "core", None)
        if core is not None:
            self.device_reward.append(core.device_reward)
            self.device_costs.append(core.device_costs)
        for info in infos:
            if "episode" in info and "violation" in info["episode"]:
                self.violations.append(np.asarray(info["episode"]["violation"]))
        self._ret = self.gamma * self._ret + reward
        self._cret = self.gamma * self._cret + self.costs[-1]
        self.reward_scale.update(self._ret)
        self.cost_scale.update(self._cret)
        done = np.asarray(dones, bool)
        self._ret[done] = 0.0
        self._cret[done] = 0.0
        scale = float(self.reward_scale.std[0]) if self.normalize else 1.0
        return obs, (reward / scale).astype(np.float32), dones, infos

    def action_masks(self) -> np.ndarray:
        return self.venv.env_method("action_masks")


def gae(values: np.ndarray, last_values: np.ndarray, rewards: np.ndarray,
        starts: np.ndarray, last_done: np.ndarray, gamma: float, lam: float) -> np.ndarray:
    """Generalised advantages of (T, N, ...) ``rewards`` (the layout of SB3's buffer)."""
    adv = np.zeros_like(rewards)
    last = np.zeros_like(rewards[0])
    t_len = rewards.shape[0]
    extra = (1,) * (rewards.ndim - 2)
    for t in reversed(range(t_len)):
        if t == t_len - 1:
            nonterm, nxt = 1.0 - last_done, last_values
        else:
            nonterm, nxt = 1.0 - starts[t + 1], values[t + 1]
        nonterm = np.reshape(nonterm, nonterm.shape + extra)
        delta = rewards[t] + gamma * nxt * nonterm - values[t]
        last = delta + gamma * lam * nonterm * last
        adv[t] = last
    return adv


class SlotPPO(MaskablePPO):
    """MaskablePPO with per-device ratios and credit, reward and cost normalisation and a
    cost critic (see the module docstring).

    Parameters
    ----------
    *args, **kwargs
        As :class:`sb3_contrib.MaskablePPO` (the policy: ``OffloadPolicy``).
    device_credit
        Weight of the per-device credit term (0: the slot's advantage for every device).
    normalize_reward
        Divide rewards (and costs, for the cost critic) by their running deviations.
    """

    def __init__(self, *args: Any, device_credit: float = 0.5, normalize_reward: bool = True,
                 **kwargs: Any) -> None:
        self.device_credit = float(device_credit)
        self.normalize_reward = bool(normalize_reward)
        self.reward_scale = RunningScale(1)
        self.cost_scale = RunningScale(len(COST_NAMES))
        self._recorder: SlotRecorder | None = None
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------ multipliers
    def multipliers(self) -> np.ndarray:
        """The current Lagrange multipliers (0 for plain PPO)."""
        return np.zeros(len(COST_NAMES))

    def _after_rollout(self, rec: SlotRecorder) -> None:
        """Hook after each rollout (PPO-Lagrangian updates its multipliers here)."""
        self.policy.set_multipliers(self.multipliers())

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_recorder"]

    def recorder(self, env: VecEnv) -> SlotRecorder:
        """The recording wrapper around ``env`` (built once per env)."""
        if self._recorder is None or self._recorder.venv is not env:
            self._recorder = SlotRecorder(env, self.reward_scale, self.cost_scale, self.gamma,
                                          self.normalize_reward)
        return self._recorder

    def collect_rollouts(self, env: VecEnv, callback: Any, rollout_buffer: Any,
                         n_rollout_steps: int, use_masking: bool = True) -> bool:
        rec = self.recorder(env)
        rec.clear()
        ok = super().collect_rollouts(rec, callback, rollout_buffer, n_rollout_steps,
                                      use_masking)
        if rec.costs:
            mean = np.concatenate(rec.costs).mean(axis=0)
            for name, c in zip(COST_NAMES, mean, strict=True):
                self.logger.record(f"cost/{name}", float(c))
            self._after_rollout(rec)
        return ok

    # ------------------------------------------------------------ training
    def _advantages(self, rec: SlotRecorder, cost_values: np.ndarray,
                    last_cost_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T, N, U) per-device advantages and (T, N, 3) cost returns (normalised)."""
        buf = self.rollout_buffer
        costs = np.stack(rec.costs)
        cs = self.cost_scale.std if self.normalize_reward else np.ones(costs.shape[-1])
        rs = float(self.reward_scale.std[0]) if self.normalize_reward else 1.0
        last_done = self._last_episode_starts.astype(float)
        adv_c = gae(cost_values, last_cost_values, costs / cs, buf.episode_starts, last_done,
                    self.gamma, self.gae_lambda)
        ret_c = adv_c + cost_values
        lam = self.multipliers()
        adv = (buf.advantages * rs - (adv_c * cs) @ lam) / (1.0 + lam.sum())
        n_dev = self.policy.action_dist.n
        dev_adv = np.repeat(adv[..., None], n_dev, axis=-1)
        if self.device_credit and rec.device_reward:
            r_dev = np.stack(rec.device_reward)
            c_dev = np.stack(rec.device_costs)
            q = np.asarray(buf.actions).reshape(r_dev.shape) >= 0
            q &= r_dev != 0
            n_t = np.maximum(q.sum(axis=-1, keepdims=True), 1)
            rho = (r_dev - c_dev @ lam) / (1.0 + lam.sum())
            mean = (rho * q).sum(axis=-1, keepdims=True) / n_t
            dev_adv = dev_adv + self.device_credit * n_t * (rho - mean) * q
        return dev_adv, ret_c

    def train(self) -> None:
        """PPO epochs with per-device ratios, the cost critic and KL early stopping."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        clip = self.clip_range(self._current_progress_remaining)
        buf = self.rollout_buffer
        rec = self._recorder
        t_len, n_env = buf.buffer_size, buf.n_envs
        n_dev = self.policy.action_dist.n
        obs = th.as_tensor(buf.observations.reshape(t_len * n_env, -1), dtype=th.float32)
        acts = th.as_tensor(buf.actions.reshape(t_len * n_env, n_dev)).long()
        masks = buf.action_masks.reshape(t_len * n_env, -1)
        with th.no_grad():
            self.policy.set_training_mode(False)
            old_logp, cvals = [], []
            for i in range(0, t_len * n_env, 1024):
                _, cv, lp, _ = self.policy.evaluate_slot(obs[i:i + 1024], acts[i:i + 1024],
                                                         masks[i:i + 1024])
                old_logp.append(lp)
                cvals.append(cv)
            old_logp_t = th.cat(old_logp)
            cost_values = th.cat(cvals).numpy().reshape(t_len, n_env, -1)
            last = th.as_tensor(self._last_obs, dtype=th.float32)
            last_cv = self.policy.predict_costs(last).numpy()
            self.policy.set_training_mode(True)
        assert rec is not None
        dev_adv, ret_c = self._advantages(rec, cost_values, last_cv)
        qmask = th.as_tensor(masks.reshape(t_len * n_env, n_dev, -1)[..., 1:].any(axis=-1),
                             dtype=th.float32)
        adv_t = th.as_tensor(dev_adv.reshape(t_len * n_env, n_dev), dtype=th.float32)
        if self.normalize_advantage:
            sel = adv_t[qmask > 0]
            if sel.numel() > 1:
                adv_t = (adv_t - sel.mean()) / (sel.std() + 1e-8)
        ret_r = th.as_tensor(buf.returns.reshape(-1), dtype=th.float32)
        ret_c_t = th.as_tensor(ret_c.reshape(t_len * n_env, -1), dtype=th.float32)
        n = t_len * n_env
        stop = False
        losses: dict[str, list[float]] = {"pg": [], "vf": [], "cvf": [], "ent": [], "kl": []}
        for _ in range(self.n_epochs):
            perm = th.randperm(n)
            for start in range(0, n, self.batch_size):
                i = perm[start:start + self.batch_size]
                values, cvals_b, logp, ent = self.policy.evaluate_slot(obs[i], acts[i],
                                                                       masks[i])
                qm = qmask[i]
                denom = qm.sum().clamp(min=1.0)
                log_ratio = (logp - old_logp_t[i]) * qm
                ratio = th.exp(log_ratio)
                a = adv_t[i]
                pg = -(th.min(ratio * a, th.clamp(ratio, 1 - clip, 1 + clip) * a) * qm).sum()
                pg = pg / denom
                vf = F.mse_loss(values, ret_r[i])
                cvf = F.mse_loss(cvals_b, ret_c_t[i])
                ent_loss = -(ent * qm).sum() / denom
                loss = pg + self.ent_coef * ent_loss + self.vf_coef * (vf + cvf)
                with th.no_grad():
                    kl = float(((ratio - 1) - log_ratio).sum(dim=1).mean())
                if self.target_kl is not None and kl > 1.5 * self.target_kl:
                    stop = True
                    break
                self.policy.optimizer.zero_grad()
                loss.backward()
                th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
                self.policy.optimizer.step()
                for key, val in (("pg", pg), ("vf", vf), ("cvf", cvf), ("ent", ent_loss)):
                    losses[key].append(float(val.detach()))
                losses["kl"].append(kl)
            if stop:
                break
        self._n_updates += self.n_epochs
        for key, vals in losses.items():
            if vals:
                self.logger.record(f"train/{key}", float(np.mean(vals)))
        self.logger.record("train/clip_range", clip)
        self.logger.record("train/early_stop", float(stop))
