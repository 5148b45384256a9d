"""Learned offloading policies (needs the ``rl`` extra: gymnasium, stable-baselines3,
sb3-contrib, torch).

- :class:`~mecopt.rl.env.OffloadEnv`, registered as ``mecopt/Offload-v0``, and the
  natively batched :class:`~mecopt.rl.vec_env.OffloadVecEnv` over the long-term simulator;
- the joint slot decision (:mod:`mecopt.rl.network`: one network shared by every device
  and a decoder scoring each device's choice by its exact marginal latency given the
  choices before it, plus the Lagrangian prices);
- the learners: ``ppo`` (:class:`~mecopt.rl.slot_ppo.SlotPPO`, reward only), ``ppo-lag``
  (:class:`~mecopt.rl.lagrange.PPOLag`, PID multipliers), ``wm-ppo``
  (:class:`~mecopt.rl.wm_ppo.WorldModelPPO`, a learned model of the action-dependent state
  for value expansion and imagination rollouts) and ``bc``
  (:class:`~mecopt.rl.imitation.BehaviourCloning`, imitation of hindsight plans);
- :func:`~mecopt.rl.train.train` (the ``mecopt train`` command) and
  :func:`~mecopt.rl.saved.load_policy`, which makes a saved model a ``mecopt.longterm``
  policy (``ppo:PATH``, ``ppo-lag:PATH``, ``wm-ppo:PATH``, ``bc:PATH``).
"""

from mecopt.rl._deps import require_rl

require_rl()

import gymnasium as _gym  # noqa: E402

ENV_ID = "mecopt/Offload-v0"
if ENV_ID not in _gym.registry:
    _gym.register(id=ENV_ID, entry_point="mecopt.rl.env:OffloadEnv")

__all__ = ["ENV_ID", "require_rl"]
