"""Lyapunov drift-plus-penalty: long-term constraints as per-slot weights, each slot exact.

The simulator keeps one virtual queue per long-term constraint (see
:mod:`mecopt.longterm.simulator`): ``Z_u`` (J) for the energy budget ``b_u`` of device u,
``Y`` (queries) for the accuracy target and ``H`` (queries) for the hallucination cap.
Normalising the energy queue by the budget (``Z_u / b_u`` budgets, energy ``e / b_u``), the
drift of ``L = (sum_u (Z_u / b_u)^2 + Y^2 + H^2) / 2`` over a slot is at most a constant plus

    sum_u (Z_u / b_u^2) (e_u - b_u) + Y sum_i (A_min - acc_i) + H sum_i (hall_i - H_max),

and the policy minimises drift + V x (sum of latencies) each slot (Neely's drift-plus-penalty).
Dropping the terms no decision changes and dividing by V, the slot problem is the one-shot
instance with the weighted objective

    mean_i ( delay_i + (Z_u / (V b_u^2)) e_i - (Y / V) acc_i + (H / V) hall_i ),

that is ``cost_energy = Z_u / (V b_u^2)`` (s/J), ``cost_accuracy = Y / V`` and
``cost_hallucination = H / V`` (s); it is solved exactly by an exact backend through
:func:`mecopt.solve`. The ES backlog enters as the instance's ``edge_wait``.

**The trade-off V** (1/s: how much normalised constraint backlog one second of latency is
worth). The standard result: the time-average penalty is within ``O(1/V)`` of the best
achievable and the virtual queues grow as ``O(V)``, so the constraints converge more slowly
(larger violations over a finite horizon) as V grows. Small V: constraints met quickly,
higher latency; large V: lower latency, slower convergence of the constraints.
``benchmarks/longterm/`` measures the curve on the default scenario.
"""

from __future__ import annotations

import math
import time

import numpy as np

from mecopt.heuristics import goa
from mecopt.longterm.simulator import Observation
from mecopt.longterm.slot_instance import scatter, slot_instance
from mecopt.longterm.slot_policies import SlotPolicy, check_solver, exact_solve

#: Default trade-off parameter V (1/s); see the module docstring.
DEFAULT_V = 3.0


class LyapunovPolicy(SlotPolicy):
    """Drift-plus-penalty with virtual queues for energy, accuracy and hallucination.

    Parameters
    ----------
    V
        Latency weight, 1/s (> 0). Larger V: lower latency, slower constraint convergence.
    solver
        Exact backend for the slot problem (default ``"highs"``).
    time_limit
        Seconds per slot solve (``None``: no limit); a slot without a usable exact answer
        falls back to GOA on the same weighted instance (counted in ``stats()``).
    """

    name = "lyapunov"

    def __init__(self, V: float = DEFAULT_V, solver: str = "highs",  # noqa: N803 - the usual name
                 time_limit: float | None = None) -> None:
        v = float(V)
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"V = {V!r}: must be a number > 0")
        self.V = v
        self.solver = check_solver(solver)
        self.time_limit = time_limit

    def weights(self, obs: Observation, b: int, users: np.ndarray) -> dict[str, object]:
        """The instance weights of member ``b``'s slot problem."""
        budget = np.maximum(obs.energy_budget[b, users], 1e-12)
        return {
            "cost_energy": obs.energy_queue[b, users] / (self.V * budget * budget),
            "cost_accuracy": float(obs.accuracy_queue[b]) / self.V,
            "cost_hallucination": float(obs.hallucination_queue[b]) / self.V,
        }

    def decide(self, obs: Observation, b: int) -> np.ndarray:
        users = np.flatnonzero(obs.has_query[b])
        inst, _ = slot_instance(obs, b, **self.weights(obs, b, users))
        assert inst is not None
        t0 = time.perf_counter()
        a = exact_solve(inst, self.solver, self.time_limit, self._stats)
        if a is None:
            self._stats["fallback_goa"] += 1
            a = goa(inst, self.rng)
        self._solve_s += time.perf_counter() - t0
        return scatter(obs.has_query.shape[1], users, a)
