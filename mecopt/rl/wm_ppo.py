"""World-model PPO: PPO-Lagrangian with a learned model of the action-dependent state.

The published method (arXiv 2602.13628, abstract only) augments PPO with a recurrent world
model used for (a) better value targets and (b) short imagination rollouts. This module
implements both on :class:`~mecopt.rl.lagrange.PPOLag`, with the model of
:mod:`mecopt.rl.world_model`: it predicts only what the action changes (backlogs, virtual
queues, energy state, reward, costs) and a model rollout replays the exogenous part of the
next observations (queries, channels) from the real trace window. (A recurrent state is
not needed: the endogenous state is fully in the observation.)

(a) **Model-based value expansion** (``value_expansion``): for each real state ``s_t``
    the critic's target becomes ``(1 - value_mix) x GAE return + value_mix x [r_t +
    sum_{k=1}^{H-1} gamma^k r^_{t+k} + gamma^H V(s^_{t+H})]``, the model rolling the
    current policy ``H - 1 = wm_horizon - 1`` slots from the real ``s_{t+1}`` (states too
    close to the episode end keep the GAE return).
(b) **Imagination** (``imagination``): after the real update, ``imag_starts`` real states
    branch ``imag_horizon`` model slots under the current policy; their Lagrangian
    advantages (GAE on the model's reward and costs, bootstrapped by the critics) train
    the policy for one more clipped-PPO pass, every loss term times ``imag_weight``.

The model trains after each rollout for ``wm_updates`` Adam steps (minibatches of 1024
transitions) on the last ``wm_memory`` rollouts; its one-step error on each new rollout,
before it trains on it, is logged (``world_model/fresh_error``) as the measure of what it
has learned.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import torch as th

from mecopt.rl.lagrange import PPOLag
from mecopt.rl.world_model import WorldModel


class WorldModelPPO(PPOLag):
    """PPO-Lagrangian with the world model (see the module docstring).

    Parameters
    ----------
    *args, **kwargs
        As :class:`~mecopt.rl.lagrange.PPOLag`.
    wm_hidden
        World-model width.
    wm_lr, wm_updates, wm_memory
        Adam learning rate, minibatch steps per rollout and rollouts kept for training.
    value_expansion, wm_horizon, value_mix
        (a) on/off, the horizon H and the weight of the model-based target.
    imagination, imag_horizon, imag_starts, imag_weight
        (b) on/off, model slots per start, number of start states and the loss weight.
    """

    def __init__(self, *args: Any, wm_hidden: int = 64, wm_lr: float = 1e-3,
                 wm_updates: int = 20, wm_memory: int = 4, value_expansion: bool = True,
                 wm_horizon: int = 3, value_mix: float = 0.5, imagination: bool = True,
                 imag_horizon: int = 4, imag_starts: int = 512, imag_weight: float = 0.5,
                 **kwargs: Any) -> None:
        if not 0.0 <= value_mix <= 1.0:
            raise ValueError(f"value_mix = {value_mix!r}: must lie in [0, 1]")
        if wm_horizon < 1 or imag_horizon < 1:
            raise ValueError("wm_horizon and imag_horizon must be >= 1")
        self.wm_hidden, self.wm_lr = int(wm_hidden), float(wm_lr)
        self.wm_updates, self.wm_memory = int(wm_updates), int(wm_memory)
        self.value_expansion, self.wm_horizon = bool(value_expansion), int(wm_horizon)
        self.value_mix = float(value_mix)
        self.imagination, self.imag_horizon = bool(imagination), int(imag_horizon)
        self.imag_starts, self.imag_weight = int(imag_starts), float(imag_weight)
        self._wm_data: collections.deque = collections.deque(maxlen=self.wm_memory)
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------ SB3 plumbing
    def _setup_model(self) -> None:
        super()._setup_model()
        nvec = np.asarray(self.action_space.nvec)
        self.world_model = WorldModel(len(nvec), int(nvec[0]) - 1, hidden=self.wm_hidden)
        self.wm_optimizer = th.optim.Adam(self.world_model.parameters(), lr=self.wm_lr)
        self._wm_data = collections.deque(maxlen=self.wm_memory)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_wm_data", "world_model", "wm_optimizer"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state, other = super()._get_torch_save_params()
        return [*state, "world_model", "wm_optimizer"], other

    # ------------------------------------------------------------ model fitting
    def collect_rollouts(self, env: Any, callback: Any, rollout_buffer: Any,
                         n_rollout_steps: int, use_masking: bool = True) -> bool:
        ok = super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps,
                                      use_masking)
        rec = self._recorder
        if not ok or rec is None or len(rec.rewards) != rollout_buffer.buffer_size:
            return ok
        buf = rollout_buffer
        obs = th.as_tensor(buf.observations, dtype=th.float32)
        nxt = th.cat([obs[1:], th.as_tensor(self._last_obs, dtype=th.float32)[None]])
        starts = th.as_tensor(buf.episode_starts, dtype=th.float32)
        last_done = th.as_tensor(self._last_episode_starts, dtype=th.float32)
        valid = 1.0 - th.cat([starts[1:], last_done[None]])
        d = obs.shape[-1]
        batch = {
            "obs": obs.reshape(-1, d), "actions": th.as_tensor(buf.actions).long().reshape(
                obs.shape[0] * obs.shape[1], -1),
            "next_obs": nxt.reshape(-1, d), "valid": valid.reshape(-1),
            "rewards": th.as_tensor(np.stack(rec.rewards), dtype=th.float32).reshape(-1),
            "costs": th.as_tensor(np.stack(rec.costs), dtype=th.float32).reshape(-1, 3),
        }
        with th.no_grad():
            fresh = float(self._wm_loss(batch, th.arange(batch["obs"].shape[0])))
        self.logger.record("world_model/fresh_error", fresh)
        self.wm_fresh_errors = [*getattr(self, "wm_fresh_errors", []), fresh]
        self._wm_data.append(batch)
        self.fit_world_model()
        return ok

    def _wm_loss(self, b: dict[str, th.Tensor], i: th.Tensor) -> th.Tensor:
        return self.world_model.loss(b["obs"][i], b["actions"][i], b["next_obs"][i],
                                     b["rewards"][i], b["costs"][i], b["valid"][i])

    def fit_world_model(self) -> float:
        """``wm_updates`` Adam steps on minibatches of the stored rollouts; the last loss."""
        self.world_model.train()
        loss_v = float("nan")
        for _ in range(self.wm_updates):
            b = self._wm_data[int(np.random.default_rng(self.num_timesteps + _).integers(
                len(self._wm_data)))]
            i = th.randint(0, b["obs"].shape[0], (1024,))
            loss = self._wm_loss(b, i)
            self.wm_optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(self.world_model.parameters(), 10.0)
            self.wm_optimizer.step()
            loss_v = float(loss.detach())
        self.logger.record("world_model/loss", loss_v)
        return loss_v

    # ------------------------------------------------------------ model rollouts
    def _lagrangian_value(self, obs: th.Tensor) -> th.Tensor:
        """Critic value of the Lagrangian reward, raw units."""
        lam = th.as_tensor(self.multipliers(), dtype=th.float32)
        rs = float(self.reward_scale.std[0]) if self.normalize_reward else 1.0
        cs = th.as_tensor(self.cost_scale.std if self.normalize_reward else np.ones(3),
                          dtype=th.float32)
        v = self.policy.predict_values(obs).flatten() * rs
        vc = self.policy.predict_costs(obs) * cs
        return (v - vc @ lam) / (1.0 + lam.sum())

    @th.no_grad()
    def _imagine(self, t0: np.ndarray, env: np.ndarray, steps: int, start_next: bool
                 ) -> dict[str, th.Tensor]:
        """Model rollouts of the current policy from real states (t0, env) of the rollout
        buffer (from ``s_{t0+1}`` when ``start_next``), exogenous parts replayed."""
        buf = self.rollout_buffer
        obs_all = th.as_tensor(buf.observations, dtype=th.float32)
        masks_all = buf.action_masks.reshape(buf.buffer_size, buf.n_envs, -1)
        t = t0 + (1 if start_next else 0)
        obs = obs_all[t, env]
        lam = th.as_tensor(self.multipliers(), dtype=th.float32)
        out: dict[str, list[th.Tensor]] = collections.defaultdict(list)
        for k in range(steps):
            mask = masks_all[t + k, env]
            dist = self.policy.get_distribution(obs, action_masks=mask)
            acts = dist.sample()
            logp = dist.device_log_prob(acts)
            endo, r, c = self.world_model(obs, acts)
            shaped = (r - c @ lam) / (1.0 + lam.sum())
            for key, val in (("obs", obs), ("actions", acts), ("logp", logp),
                             ("masks", th.as_tensor(mask)), ("rewards", r),
                             ("shaped", shaped)):
                out[key].append(val)
            obs = self.world_model.splice(obs_all[t + k + 1, env], endo)
        res = {key: th.stack(v) for key, v in out.items()}
        res["last_obs"] = obs
        return res

    def _value_expansion(self) -> None:
        buf = self.rollout_buffer
        h = self.wm_horizon
        t_len, n = buf.buffer_size, buf.n_envs
        rec = self._recorder
        assert rec is not None
        rs = float(self.reward_scale.std[0]) if self.normalize_reward else 1.0
        tt, ee = np.meshgrid(np.arange(t_len - h), np.arange(n), indexing="ij")
        tt, ee = tt.ravel(), ee.ravel()
        rewards = np.stack(rec.rewards)
        target = rewards[tt, ee] / rs
        with th.no_grad():
            if h > 1:
                im = self._imagine(tt, ee, h - 1, start_next=True)
                disc = self.gamma ** np.arange(1, h)
                target = target + (disc[:, None] * im["rewards"].numpy() / rs).sum(axis=0)
                tail = self.policy.predict_values(im["last_obs"]).flatten().numpy()
            else:
                nxt = th.as_tensor(buf.observations[tt + 1, ee], dtype=th.float32)
                tail = self.policy.predict_values(nxt).flatten().numpy()
        target = target + self.gamma ** h * tail
        ret = buf.returns.copy()
        ret[tt, ee] = (1 - self.value_mix) * ret[tt, ee] + self.value_mix * target
        buf.returns = ret.astype(np.float32)

    def _train_imagined(self) -> None:
        buf = self.rollout_buffer
        hz = self.imag_horizon
        rng = np.random.default_rng(self.num_timesteps)
        t0 = rng.integers(0, max(buf.buffer_size - hz, 1), self.imag_starts)
        env = rng.integers(0, buf.n_envs, self.imag_starts)
        im = self._imagine(t0, env, hz, start_next=False)
        with th.no_grad():
            flat = im["obs"].reshape(hz * self.imag_starts, -1)
            values = self._lagrangian_value(flat).reshape(hz, self.imag_starts)
            nxt_v = self._lagrangian_value(im["last_obs"])
        adv = th.zeros_like(im["shaped"])
        last = th.zeros(self.imag_starts)
        for k in reversed(range(hz)):
            delta = im["shaped"][k] + self.gamma * nxt_v - values[k]
            last = delta + self.gamma * self.gae_lambda * last
            adv[k] = last
            nxt_v = values[k]
        n_dev = self.policy.action_dist.n
        obs = flat
        acts = im["actions"].reshape(-1, n_dev)
        masks = im["masks"].reshape(hz * self.imag_starts, -1)
        old = im["logp"].reshape(-1, n_dev)
        a = adv.reshape(-1)
        a = (a - a.mean()) / (a.std() + 1e-8)
        qmask = masks.view(masks.shape[0], n_dev, -1)[..., 1:].any(dim=-1).float()
        clip = self.clip_range(self._current_progress_remaining)
        perm = th.randperm(obs.shape[0])
        for start in range(0, obs.shape[0], self.batch_size):
            i = perm[start:start + self.batch_size]
            _, _, logp, ent = self.policy.evaluate_slot(obs[i], acts[i], masks[i].numpy())
            qm = qmask[i]
            denom = qm.sum().clamp(min=1.0)
            ratio = th.exp((logp - old[i]) * qm)
            ai = a[i][:, None]
            pg = -(th.min(ratio * ai, th.clamp(ratio, 1 - clip, 1 + clip) * ai) * qm).sum()
            loss = self.imag_weight * (pg / denom - self.ent_coef * (ent * qm).sum() / denom)
            self.policy.optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
        self.logger.record("world_model/imagined_reward", float(im["rewards"].mean()))

    def train(self) -> None:
        if not self._wm_data or not (self.value_expansion or self.imagination):
            super().train()
            return
        self.world_model.eval()
        self.policy.set_training_mode(False)
        if self.value_expansion:
            self._value_expansion()
        super().train()
        if self.imagination:
            self._train_imagined()
