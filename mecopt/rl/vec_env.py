"""A natively batched SB3 vector environment: n_envs episodes in one simulator.

:class:`OffloadVecEnv` steps all its episodes with one call of the vectorised
:class:`~mecopt.longterm.Simulator` (no Python loop over copies). All episodes have the
same horizon, so they end together; each end reports ``terminal_observation`` and an
``episode`` record (return ``r``, length ``l``, mean ``latency`` in s, mean ``costs`` and
the signed ``violation`` of the trace's constraints) and a new batch of episodes starts.
An episode end is a true end (no bootstrapping): the problem has a finite horizon T.
``infos[i]["costs"]`` holds the slot's costs; :attr:`OffloadVecEnv.last_costs` and
:attr:`OffloadVecEnv.last_rewards` the (n_envs, 3) and (n_envs,) arrays of the last step,
``core.device_reward`` and ``core.device_costs`` their per-device parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

import mecopt.longterm as lt
from mecopt.rl.core import OffloadCore
from mecopt.rl.env import spaces_for


class OffloadVecEnv(VecEnv):
    """``n_envs`` episodes of the offloading problem, batched.

    Parameters
    ----------
    scenario
        Scenario name or object.
    n_devices
        U.
    n_envs
        Parallel episodes.
    horizon
        Slots per episode.
    pool
        Optional pool trace to cut episodes from.
    seed
        Seed of the episode generator.
    """

    render_mode = None

    def __init__(self, scenario: str | lt.LongtermScenario = "default", *, n_devices: int = 20,
                 n_envs: int = 16, horizon: int = 100, pool: lt.Trace | None = None,
                 seed: int | None = None) -> None:
        self.core = OffloadCore(scenario, n_devices=n_devices, batch=n_envs, horizon=horizon,
                                pool=pool)
        self.core.seed(seed)
        obs_space, act_space = spaces_for(self.core.n_devices, self.core.n_servers,
                                          self.core.encoder.dim)
        super().__init__(n_envs, obs_space, act_space)
        self._actions: np.ndarray | None = None
        self._ep_return = np.zeros(n_envs)
        self._ep_latency = np.zeros(n_envs)
        self._ep_costs = np.zeros((n_envs, 3))
        self.last_costs = np.zeros((n_envs, 3))
        self.last_rewards = np.zeros(n_envs)

    # ---------------------------------------------------------------- VecEnv API
    def reset(self) -> np.ndarray:
        if self._seeds[0] is not None:
            self.core.seed(self._seeds[0])
        self._reset_seeds()
        self._ep_return[:] = 0.0
        self._ep_latency[:] = 0.0
        self._ep_costs[:] = 0.0
        return self.core.start()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs, self.core.n_devices)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        assert self._actions is not None
        obs, reward, costs, done, out = self.core.step(self._actions)
        q = out.actions >= 0
        latency = out.latency.sum(axis=1) / np.maximum(q.sum(axis=1), 1)
        self._ep_return += reward
        self._ep_latency += latency
        self._ep_costs += costs
        self.last_costs, self.last_rewards = costs, reward
        infos: list[dict[str, Any]] = [{"costs": costs[i]} for i in range(self.num_envs)]
        dones = np.full(self.num_envs, done)
        if done:
            n = self.core.horizon
            for i, info in enumerate(infos):
                info["terminal_observation"] = obs[i]
                info["episode"] = {"r": float(self._ep_return[i]), "l": n,
                                   "latency": float(self._ep_latency[i] / n),
                                   "costs": self._ep_costs[i] / n,
                                   "violation": self.core.violation[i]}
            self._ep_return[:] = 0.0
            self._ep_latency[:] = 0.0
            self._ep_costs[:] = 0.0
            obs = self.core.start()
        return obs, reward.astype(np.float32), dones, infos

    def close(self) -> None:
        return None

    def action_masks(self) -> np.ndarray:
        """(n_envs, U (M + 1)) masks of the current slot."""
        return self.core.action_masks()

    def _indices(self, indices: None | int | Sequence[int]) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        return [indices] if isinstance(indices, int) else list(indices)

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        if attr_name == "action_masks":
            return [self.action_masks] * len(self._indices(indices))
        return [getattr(self, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: Any = None,
                   **method_kwargs: Any) -> list[Any]:
        idx = self._indices(indices)
        if method_name == "action_masks":
            return list(self.action_masks()[idx])
        result = getattr(self, method_name)(*method_args, **method_kwargs)
        return [result] * len(idx)

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def has_attr(self, attr_name: str) -> bool:
        return hasattr(self, attr_name)
