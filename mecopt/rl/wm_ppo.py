"""World-model PPO: PPO-Lagrangian plus a GRU world model (value targets, imagination).

Built on SB3's PPO machinery: :class:`WorldModelPPO` subclasses
:class:`~mecopt.rl.lagrange.PPOLag` (itself MaskablePPO) and overrides only
``collect_rollouts`` (fit the world model on the new rollout and the recent ones) and
``train`` (improve the value targets, then PPO's own update, then the imagined batch).

(a) **H-step model-based value targets** (MVE, ``value_expansion``): for each real step t
whose next state is known, ``R_t = r'_t + sum_{k=1}^{H-1} gamma^k r'_k + gamma^H V(s_H)``
with the real first reward and next state and ``H - 1`` imagined steps of the current
policy in the model (``r'`` is the Lagrangian reward); the value regression target becomes
``(1 - value_mix) * GAE return + value_mix * R_t``. The advantages stay those of GAE.

(b) **Imagination rollouts** (``imagination``): ``imag_starts`` real states (with their
recurrent state) are rolled ``imag_horizon`` slots forward in the model by the current
policy (masks from the predicted ``has_query``); GAE on the imagined rewards, bootstrapped
by the value function, gives their advantages and returns. After PPO's epochs on the real
rollout, one epoch of the same clipped PPO loss runs over the imagined batch with every
loss term multiplied by ``imag_weight`` (the documented weight of an imagined sample
relative to a real one).

The world model trains after each rollout for ``wm_updates`` Adam steps on the last
``wm_memory`` rollouts (whole sequences, teacher forced; the recurrent state starts at
zero at each rollout and episode start).
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import torch as th
from torch.nn import functional as F

from mecopt.rl.features import device_features
from mecopt.rl.lagrange import PPOLag
from mecopt.rl.world_model import WorldModel


class WorldModelPPO(PPOLag):
    """PPO-Lagrangian with a recurrent world model (see the module docstring).

    Parameters
    ----------
    *args, **kwargs
        As :class:`~mecopt.rl.lagrange.PPOLag`.
    wm_hidden
        World-model width (GRU state size).
    wm_lr, wm_updates, wm_memory
        Adam learning rate, steps per rollout and rollouts kept for training.
    value_expansion, wm_horizon, value_mix
        (a) on/off, the horizon H and the mixing weight of the model-based target.
    imagination, imag_horizon, imag_starts, imag_weight
        (b) on/off, imagined slots per start, number of start states and the loss weight.
    """

    def __init__(self, *args: Any, wm_hidden: int = 64, wm_lr: float = 1e-3,
                 wm_updates: int = 5, wm_memory: int = 4, value_expansion: bool = True,
                 wm_horizon: int = 3, value_mix: float = 0.5, imagination: bool = True,
                 imag_horizon: int = 4, imag_starts: int = 256, imag_weight: float = 0.5,
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
        self.world_model = WorldModel(int(self.observation_space.shape[0]), len(nvec),
                                      int(nvec[0]), hidden=self.wm_hidden)
        self.wm_optimizer = th.optim.Adam(self.world_model.parameters(), lr=self.wm_lr)
        self._wm_data = collections.deque(maxlen=self.wm_memory)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_wm_data", "world_model", "wm_optimizer"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state, other = super()._get_torch_save_params()
        return [*state, "world_model", "wm_optimizer"], other

    # ------------------------------------------------------------ rollouts
    def collect_rollouts(self, env: Any, callback: Any, rollout_buffer: Any,
                         n_rollout_steps: int, use_masking: bool = True) -> bool:
        ok = super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps,
                                      use_masking)
        shaped = self._shaped_env
        if not ok or shaped is None or len(shaped.rewards) != rollout_buffer.buffer_size:
            return ok
        buf = rollout_buffer
        obs = th.as_tensor(buf.observations, dtype=th.float32)
        nxt = th.cat([obs[1:], th.as_tensor(self._last_obs, dtype=th.float32)[None]])
        starts = th.as_tensor(buf.episode_starts, dtype=th.float32)
        last_done = th.as_tensor(self._last_episode_starts, dtype=th.float32)
        valid = 1.0 - th.cat([starts[1:], last_done[None]])
        batch = {
            "obs": obs, "actions": th.as_tensor(buf.actions).long(), "starts": starts,
            "next_obs": nxt, "valid": valid,
            "rewards": th.as_tensor(np.stack(shaped.rewards), dtype=th.float32),
            "costs": th.as_tensor(np.stack(shaped.costs), dtype=th.float32),
        }
        self._wm_data.append(batch)
        self.fit_world_model()
        return ok

    def fit_world_model(self) -> float:
        """``wm_updates`` Adam steps on the stored rollouts; return the last loss."""
        self.world_model.train()
        loss_v = float("nan")
        for k in range(self.wm_updates):
            b = self._wm_data[-1 - (k % len(self._wm_data))]
            loss = self.world_model.loss(b["obs"], b["actions"], b["starts"], b["next_obs"],
                                         b["rewards"], b["costs"], b["valid"])
            self.wm_optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(self.world_model.parameters(), 10.0)
            self.wm_optimizer.step()
            loss_v = float(loss.detach())
        self.logger.record("world_model/loss", loss_v)
        return loss_v

    # ------------------------------------------------------------ imagination
    def _masks(self, obs: th.Tensor) -> th.Tensor:
        """Masks from (predicted) observations: has_query is each device block's first
        feature."""
        u = self.world_model.n_devices
        k = self.world_model.n_options
        f = device_features(k - 1)
        q = obs[:, : u * f].view(-1, u, f)[..., 0] > 0.5
        m = q[..., None].expand(-1, u, k).clone()
        m[..., 0] = True
        return m.reshape(-1, u * k)

    def _shaped(self, r: th.Tensor, c: th.Tensor) -> th.Tensor:
        lam = th.as_tensor(self.lagrange.values, dtype=th.float32)
        return (r - c @ lam) / (1.0 + lam.sum())

    @th.no_grad()
    def _imagine(self, obs: th.Tensor, h: th.Tensor, steps: int) -> dict[str, th.Tensor]:
        """Roll the policy ``steps`` slots forward in the model from ``obs`` / state ``h``."""
        out: dict[str, list[th.Tensor]] = collections.defaultdict(list)
        for _ in range(steps):
            mask = self._masks(obs)
            actions, values, logp = self.policy(obs, action_masks=mask.numpy())
            nxt, r, c, h = self.world_model.step(obs, actions, h)
            for key, val in (("obs", obs), ("actions", actions), ("values", values.flatten()),
                             ("logp", logp), ("masks", mask), ("rewards", self._shaped(r, c))):
                out[key].append(val)
            obs = nxt
        res = {k: th.stack(v) for k, v in out.items()}
        res["last_value"] = self.policy.predict_values(obs).flatten()
        return res

    def _states(self, batch: dict[str, th.Tensor]) -> th.Tensor:
        """Recurrent states h_t (T, N, H) of the real sequence (teacher forced)."""
        with th.no_grad():
            return self.world_model.unroll(batch["obs"], batch["actions"], batch["starts"])[3]

    def _value_expansion(self, batch: dict[str, th.Tensor], hs: th.Tensor) -> None:
        buf = self.rollout_buffer
        t_len, n = buf.buffer_size, buf.n_envs
        valid = batch["valid"].numpy().astype(bool)
        r0 = self._shaped(batch["rewards"], batch["costs"]).numpy()
        flat_next = batch["next_obs"].reshape(t_len * n, -1)
        flat_h = hs.reshape(t_len * n, -1)
        tail = np.zeros(t_len * n)
        if self.wm_horizon > 1:
            im = self._imagine(flat_next, flat_h, self.wm_horizon - 1)
            disc = self.gamma ** np.arange(self.wm_horizon - 1)
            tail = (disc[:, None] * im["rewards"].numpy()).sum(axis=0)
            tail += self.gamma ** (self.wm_horizon - 1) * im["last_value"].numpy()
        else:
            with th.no_grad():
                tail = self.policy.predict_values(flat_next).flatten().numpy()
        target = r0 + self.gamma * tail.reshape(t_len, n)
        mixed = (1.0 - self.value_mix) * buf.returns + self.value_mix * target
        buf.returns = np.where(valid, mixed, buf.returns).astype(np.float32)

    def _imagined_batch(self, batch: dict[str, th.Tensor], hs: th.Tensor
                        ) -> dict[str, th.Tensor]:
        t_len, n = batch["obs"].shape[:2]
        prev = th.cat([th.zeros_like(hs[:1]), hs[:-1]]) * (1.0 - batch["starts"])[..., None]
        idx = th.randint(0, t_len * n, (self.imag_starts,))
        obs0 = batch["obs"].reshape(t_len * n, -1)[idx]
        im = self._imagine(obs0, prev.reshape(t_len * n, -1)[idx], self.imag_horizon)
        adv = th.zeros_like(im["rewards"])
        last = th.zeros(self.imag_starts)
        nxt_v = im["last_value"]
        for k in reversed(range(self.imag_horizon)):
            delta = im["rewards"][k] + self.gamma * nxt_v - im["values"][k]
            last = delta + self.gamma * self.gae_lambda * last
            adv[k] = last
            nxt_v = im["values"][k]
        flat = {k: v.reshape(self.imag_horizon * self.imag_starts, *v.shape[2:])
                for k, v in im.items() if k != "last_value"}
        flat["advantages"] = adv.flatten()
        flat["returns"] = (adv + im["values"]).flatten()
        return flat

    def _train_imagined(self, data: dict[str, th.Tensor]) -> None:
        self.policy.set_training_mode(True)
        clip = self.clip_range(self._current_progress_remaining)
        n = data["obs"].shape[0]
        perm = th.randperm(n)
        for start in range(0, n, self.batch_size):
            i = perm[start:start + self.batch_size]
            values, logp, entropy = self.policy.evaluate_actions(
                data["obs"][i], data["actions"][i], action_masks=data["masks"][i].numpy())
            adv = data["advantages"][i]
            if self.normalize_advantage and len(i) > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            ratio = th.exp(logp - data["logp"][i])
            pg = -th.min(adv * ratio, adv * th.clamp(ratio, 1 - clip, 1 + clip)).mean()
            vf = F.mse_loss(data["returns"][i], values.flatten())
            ent = -th.mean(entropy) if entropy is not None else -th.mean(-logp)
            loss = self.imag_weight * (pg + self.vf_coef * vf + self.ent_coef * ent)
            self.policy.optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
        self.logger.record("world_model/imagined_reward", float(data["returns"].mean()))

    def train(self) -> None:
        if not self._wm_data or not (self.value_expansion or self.imagination):
            super().train()
            return
        batch = self._wm_data[-1]
        self.world_model.eval()
        self.policy.set_training_mode(False)
        hs = self._states(batch)
        if self.value_expansion:
            self._value_expansion(batch, hs)
        imagined = self._imagined_batch(batch, hs) if self.imagination else None
        super().train()
        if imagined is not None:
            self._train_imagined(imagined)
