"""``mecopt/Offload-v0``: the long-term offloading problem as a gymnasium environment.

One step is one slot. The action is ``MultiDiscrete([M + 1] * U)``: 0 answers device u's
query locally, ``j + 1`` offloads it to ES j; on a device without a query only 0 is valid
(:meth:`OffloadEnv.action_masks`, used by MaskablePPO) and the value is ignored. The
observation, reward and costs are those of :mod:`mecopt.rl.features`; ``info["costs"]``
holds the slot's three constraint costs (energy, accuracy, hallucination) and
``info["latency"]`` the mean latency of its queries (s). An episode is ``horizon`` slots
of a fresh trace on a training seed; it ends (``terminated``: the problem has a finite
horizon T, its constraints are averages over T slots and the observation holds ``t / T``)
with ``info["violation"]``, the trace's signed constraint violations
(:func:`mecopt.rl.features.violations`). ``reset(seed=s)`` makes the episodes that follow
reproducible.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

import mecopt.longterm as lt
from mecopt.rl.core import OffloadCore
from mecopt.rl.features import CLIP, COST_NAMES


def spaces_for(n_devices: int, n_servers: int, dim: int) -> tuple[gym.Space, gym.Space]:
    """(observation space, action space) of the environment."""
    obs = gym.spaces.Box(-CLIP, CLIP, shape=(dim,), dtype=np.float32)
    act = gym.spaces.MultiDiscrete(np.full(n_devices, n_servers + 1, dtype=np.int64))
    return obs, act


class OffloadEnv(gym.Env):
    """One episode at a time (see the module docstring).

    Parameters
    ----------
    scenario
        Scenario name or object (default ``"default"``).
    n_devices
        U (default 20).
    horizon
        Slots per episode (default 100).
    pool
        Optional pool trace to cut episodes from (:mod:`mecopt.rl.pool`).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, scenario: str | lt.LongtermScenario = "default", n_devices: int = 20,
                 horizon: int = 100, pool: lt.Trace | None = None) -> None:
        self.core = OffloadCore(scenario, n_devices=n_devices, batch=1, horizon=horizon,
                                pool=pool)
        self.observation_space, self.action_space = spaces_for(
            self.core.n_devices, self.core.n_servers, self.core.encoder.dim)
        self._seeded = False

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            self.core.seed(int(self.np_random.integers(2**63 - 1)))
            self._seeded = True
        trace = None if options is None else options.get("trace")
        obs = self.core.start(trace)
        return obs[0], {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        nxt, reward, costs, done, out = self.core.step(np.asarray(action)[None])
        q = out.actions[0] >= 0
        info = {"costs": costs[0], "cost_names": COST_NAMES,
                "latency": float(out.latency[0][q].mean()) if q.any() else 0.0}
        if done:
            info["violation"] = self.core.violation[0]
        return nxt[0], float(reward[0]), done, False, info

    def action_masks(self) -> np.ndarray:
        """(U (M + 1),) bool: valid sub-actions of the current slot."""
        return self.core.action_masks()[0]
