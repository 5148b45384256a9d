"""PPO-Lagrangian with PID multipliers (the CPPO-PID form, no built-in margin).

:class:`PPOLag` is :class:`~mecopt.rl.slot_ppo.SlotPPO` whose multipliers are set after
every rollout by :class:`PIDLagrangian`, one PID controller per constraint (Stooke et al.
2020; OmniSafe ``common/pid_lagrange.py``): with the measured constraint error
``delta = J_c - d`` (limit ``d = 0``: the constraint itself),

    I <- max(0, I + Ki delta)
    P <- ema P + (1 - ema) delta,     C <- ema C + (1 - ema) J_c
    lambda = min(max(Kp P + I + Kd max(0, C - C_prev), 0), lambda_max).

The integral term is plain dual ascent; the smoothed proportional and derivative terms
damp its overshoot and oscillation. The multipliers are kept apart from the policy
optimiser, observed by the network and used by its decoder (:mod:`mecopt.rl.network`).

**What ``J_c`` measures.** The constraints are per trace (a trace meets its energy,
accuracy and hallucination constraints or not), so ``J_c`` is the ``cost_quantile``
quantile, over the episodes of the rollout (each a whole trace window), of each
episode's signed violation (:func:`mecopt.rl.features.violations`: the worst device's
relative energy excess, the relative accuracy shortfall, the relative hallucination
excess). With the default 1.0 (the worst episode) the multiplier rises while any of the
rollout's traces misses the constraint and falls once all have slack: the multiplier
targets feasibility on every trace, not on average, without adding a margin to the
limit.

Defaults (our cost scale, not OmniSafe's, whose costs are counts per episode): Kp 5,
Ki 5, Kd 0.5, ema 0.9; the violations are relative (0.01 = 1 % short of the target), so
a rollout 1 % short raises the multiplier by 0.05 through the integral; in the default
scenario at U = 20 the accuracy multiplier reaches 0.9-1.3 in 64 000 steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mecopt.rl.features import COST_NAMES
from mecopt.rl.slot_ppo import SlotPPO, SlotRecorder


class PIDLagrangian:
    """One PID-controlled multiplier per constraint (see the module docstring).

    Parameters
    ----------
    n
        Number of constraints.
    kp, ki, kd
        PID gains (>= 0).
    ema
        Smoothing of the proportional and derivative terms, in [0, 1).
    limits
        Cost limits ``d_k`` (default 0: the constraint itself).
    maximum
        Upper projection bound.
    """

    def __init__(self, n: int = 3, *, kp: float = 5.0, ki: float = 5.0, kd: float = 0.5,
                 ema: float = 0.9, limits: Any = 0.0, maximum: float = 100.0) -> None:
        for name, v in (("pid_kp", kp), ("pid_ki", ki), ("pid_kd", kd)):
            if not float(v) >= 0:
                raise ValueError(f"{name} = {v!r}: must be >= 0")
        if not 0.0 <= float(ema) < 1.0:
            raise ValueError(f"pid_ema = {ema!r}: must lie in [0, 1)")
        self.kp, self.ki, self.kd, self.ema = float(kp), float(ki), float(kd), float(ema)
        self.limits = np.broadcast_to(np.asarray(limits, float), (n,)).copy()
        self.maximum = float(maximum)
        self.integral = np.zeros(n)
        self.p = np.zeros(n)
        self.c = np.zeros(n)
        self.values = np.zeros(n)
        self._started = False

    def update(self, measured: np.ndarray) -> np.ndarray:
        """One PID step on the measured constraint values ``J_c``; return the multipliers."""
        cost = np.asarray(measured, float)
        delta = cost - self.limits
        self.integral = np.maximum(self.integral + self.ki * delta, 0.0)
        if not self._started:
            self.p, self.c, self._started = delta.copy(), cost.copy(), True
        c_prev = self.c.copy()
        self.p = self.ema * self.p + (1 - self.ema) * delta
        self.c = self.ema * self.c + (1 - self.ema) * cost
        out = self.kp * self.p + self.integral + self.kd * np.maximum(self.c - c_prev, 0.0)
        self.values = np.clip(out, 0.0, self.maximum)
        return self.values


class PPOLag(SlotPPO):
    """:class:`~mecopt.rl.slot_ppo.SlotPPO` with PID Lagrange multipliers.

    Parameters
    ----------
    *args, **kwargs
        As :class:`~mecopt.rl.slot_ppo.SlotPPO`.
    pid_kp, pid_ki, pid_kd, pid_ema
        PID gains and smoothing.
    cost_quantile
        Quantile over a rollout's episodes of the violation the PID controls, in (0, 1].
    """

    def __init__(self, *args: Any, pid_kp: float = 5.0, pid_ki: float = 5.0,
                 pid_kd: float = 0.5, pid_ema: float = 0.9, cost_quantile: float = 1.0,
                 **kwargs: Any) -> None:
        if not 0.0 < float(cost_quantile) <= 1.0:
            raise ValueError(f"cost_quantile = {cost_quantile!r}: must lie in (0, 1]")
        self.cost_quantile = float(cost_quantile)
        self.lagrange = PIDLagrangian(len(COST_NAMES), kp=pid_kp, ki=pid_ki, kd=pid_kd,
                                      ema=pid_ema)
        super().__init__(*args, **kwargs)

    def multipliers(self) -> np.ndarray:
        return self.lagrange.values.copy()

    def _after_rollout(self, rec: SlotRecorder) -> None:
        if rec.violations:
            v = np.quantile(np.stack(rec.violations), self.cost_quantile, axis=0)
            self.lagrange.update(v)
            for name, x, lam in zip(COST_NAMES, v, self.lagrange.values, strict=True):
                self.logger.record(f"violation/{name}", float(x))
                self.logger.record(f"lagrange/{name}", float(lam))
        super()._after_rollout(rec)
