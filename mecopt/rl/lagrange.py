"""PPO-Lagrangian: MaskablePPO on a Lagrangian reward, multipliers by projected dual ascent.

With constraint costs ``c_k`` (:mod:`mecopt.rl.features`; constraint k is met when the
mean of ``c_k`` is at most ``limit_k``), PPO maximises the shaped reward

    r' = (r - sum_k lambda_k c_k) / (1 + sum_k lambda_k)

(the division keeps the reward scale bounded as the multipliers grow), and after each
rollout every multiplier takes one projected dual-ascent step on the rollout's measured
mean cost, kept apart from the policy optimiser:

    lambda_k <- min(max(lambda_k + lr (mean c_k - limit_k), 0), lambda_max).

A multiplier rises while its constraint is violated and falls back to 0 once it is slack.
The dual step defaults to 5 and the limits to :data:`COST_LIMITS`, so that the learned
policy still meets the constraints on traces it has not seen.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sb3_contrib import MaskablePPO
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from mecopt.rl.features import COST_NAMES

#: Default cost limits (energy, accuracy, hallucination): the energy cost (virtual-queue
#: growth) is >= 0 over an episode, so its limit is a small positive allowance; the others
#: keep a small margin below 0 so that the policy still meets them on unseen traces.
COST_LIMITS = (0.03, -0.01, -0.01)


class LagrangeMultipliers:
    """One multiplier per constraint, updated by projected dual ascent.

    Parameters
    ----------
    n
        Number of constraints.
    lr
        Dual step size (> 0).
    limits
        Cost limits ``d_k`` (the constraint is ``mean c_k <= d_k``).
    initial
        Starting values (>= 0).
    maximum
        Upper projection bound.
    """

    def __init__(self, n: int = 3, *, lr: float = 1.0, limits: Any = 0.0,
                 initial: Any = 0.0, maximum: float = 100.0) -> None:
        if not lr > 0:
            raise ValueError(f"lagrange lr = {lr!r}: must be > 0")
        self.lr = float(lr)
        self.limits = np.broadcast_to(np.asarray(limits, float), (n,)).copy()
        self.values = np.broadcast_to(np.asarray(initial, float), (n,)).copy()
        if (self.values < 0).any():
            raise ValueError(f"initial multipliers {self.values}: must be >= 0")
        self.maximum = float(maximum)

    def update(self, mean_costs: np.ndarray) -> np.ndarray:
        """One projected dual-ascent step on the measured mean costs; return the values."""
        step = self.lr * (np.asarray(mean_costs, float) - self.limits)
        self.values = np.clip(self.values + step, 0.0, self.maximum)
        return self.values

    def shape(self, reward: np.ndarray, costs: np.ndarray) -> np.ndarray:
        """The Lagrangian reward ``(r - lambda . c) / (1 + sum lambda)``."""
        lam = self.values
        return (reward - costs @ lam) / (1.0 + lam.sum())


class LagrangianReward(VecEnvWrapper):
    """Replaces the reward by the Lagrangian one and records raw rewards and costs."""

    def __init__(self, venv: VecEnv, multipliers: LagrangeMultipliers) -> None:
        super().__init__(venv)
        self.multipliers = multipliers
        self.clear()

    def clear(self) -> None:
        """Forget the recorded steps (called at the start of each rollout)."""
        self.rewards: list[np.ndarray] = []
        self.costs: list[np.ndarray] = []

    def reset(self) -> np.ndarray:
        return self.venv.reset()

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        obs, reward, dones, infos = self.venv.step_wait()
        costs = np.stack([info["costs"] for info in infos])
        self.rewards.append(np.asarray(reward, float))
        self.costs.append(costs)
        shaped = self.multipliers.shape(np.asarray(reward, float), costs)
        return obs, shaped.astype(np.float32), dones, infos

    def action_masks(self) -> np.ndarray:
        return self.venv.env_method("action_masks")


class PPOLag(MaskablePPO):
    """MaskablePPO with Lagrange multipliers (see the module docstring).

    Parameters
    ----------
    *args, **kwargs
        As :class:`sb3_contrib.MaskablePPO`.
    lagrange_lr
        Dual step size.
    cost_limits
        Limits ``d_k`` of the three costs.
    """

    def __init__(self, *args: Any, lagrange_lr: float = 5.0, cost_limits: Any = COST_LIMITS,
                 **kwargs: Any) -> None:
        self.lagrange = LagrangeMultipliers(len(COST_NAMES), lr=lagrange_lr, limits=cost_limits)
        self._shaped_env: LagrangianReward | None = None
        super().__init__(*args, **kwargs)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_shaped_env"]

    def shaped_env(self, env: VecEnv) -> LagrangianReward:
        """The Lagrangian wrapper around ``env`` (built once per env)."""
        if self._shaped_env is None or self._shaped_env.venv is not env:
            self._shaped_env = LagrangianReward(env, self.lagrange)
        return self._shaped_env

    def collect_rollouts(self, env: VecEnv, callback: Any, rollout_buffer: Any,
                         n_rollout_steps: int, use_masking: bool = True) -> bool:
        shaped = self.shaped_env(env)
        shaped.clear()
        ok = super().collect_rollouts(shaped, callback, rollout_buffer, n_rollout_steps,
                                      use_masking)
        if shaped.costs:
            mean = np.concatenate(shaped.costs).mean(axis=0)
            self.lagrange.update(mean)
            for name, c, lam in zip(COST_NAMES, mean, self.lagrange.values, strict=True):
                self.logger.record(f"cost/{name}", float(c))
                self.logger.record(f"lagrange/{name}", float(lam))
        return ok
