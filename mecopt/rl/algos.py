"""The learners by name and their default hyperparameters (one place, CleanRL-style).

- ``ppo``: :class:`~mecopt.rl.slot_ppo.SlotPPO`, reward only: the multipliers stay 0 and
  its decoder has neither the quality feedback nor the energy guard, so the constraints
  are not seen (the unconstrained reference);
- ``ppo-lag``: :class:`~mecopt.rl.lagrange.PPOLag` (PID multipliers);
- ``wm-ppo``: :class:`~mecopt.rl.wm_ppo.WorldModelPPO` (PPO-Lagrangian plus the world
  model), with the ablations ``wm-ppo-mve`` (value targets only) and ``wm-ppo-imag``
  (imagination rollouts only);
- ``bc``: :class:`~mecopt.rl.imitation.BehaviourCloning`, imitation of hindsight plans (a
  learned baseline).
"""

from __future__ import annotations

import importlib
from typing import Any

from mecopt.errors import UnknownNameError

#: name -> (module, class, extra constructor options).
ALGOS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "ppo": ("mecopt.rl.slot_ppo", "SlotPPO",
            {"policy_kwargs": {"net_arch": [64, 64], "queue_gain": 0.0, "energy_guard": False,
                               "target_slack": 0.0}}),
    "ppo-lag": ("mecopt.rl.lagrange", "PPOLag", {}),
    "wm-ppo": ("mecopt.rl.wm_ppo", "WorldModelPPO", {}),
    "wm-ppo-mve": ("mecopt.rl.wm_ppo", "WorldModelPPO", {"imagination": False}),
    "wm-ppo-imag": ("mecopt.rl.wm_ppo", "WorldModelPPO", {"value_expansion": False}),
    "bc": ("mecopt.rl.imitation", "BehaviourCloning", {}),
}

#: PPO hyperparameters shared by every learner (SB3 names).
PPO_DEFAULTS: dict[str, Any] = {
    "learning_rate": 3e-4,
    "n_steps": 100,         # per environment = the episode horizon: whole traces per rollout
    "batch_size": 400,
    "n_epochs": 4,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "ent_coef": 0.001,
    "target_kl": 0.02,
    "policy_kwargs": {"net_arch": [64, 64]},
}


def algo_class(name: str) -> tuple[type, dict[str, Any]]:
    """The class and extra options of a learner.

    Raises
    ------
    UnknownNameError
        For an unknown name (listing the valid ones).
    """
    if name not in ALGOS:
        raise UnknownNameError(f"unknown algorithm {name!r}; valid: {', '.join(ALGOS)}")
    module, cls, extra = ALGOS[name]
    return getattr(importlib.import_module(module), cls), dict(extra)
