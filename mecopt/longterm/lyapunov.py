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

**The energy scale W** (slots). The drift weights the energy queue by ``1 / s_u^2``; the
textbook choice ``s_u = b_u`` makes the weight ``Z_u / (V b_u^2)`` jump to about 6 s/J after
a single local answer (0.18 J against a budget of 0.075 J per slot), while hindsight's
energy prices are 0-0.04 s/J: the policy then offloads far more than the optimum and
leaves a third of the budget unused. A queue can only settle at its price, ``Z ~ p V
s^2``, when that level is large against one increment (one local answer); so the queue is
normalised by ``s_u^2 = W b_u^2`` instead, the budget of W slots, which makes
``cost_energy = Z_u / (V W b_u^2)``. ``W = 1`` is the textbook weight; the default
:data:`DEFAULT_ENERGY_WINDOW` was chosen on training seeds (``benchmarks/online/``).

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
from mecopt.longterm.per_slot import SlotPolicy, check_solver, exact_solve
from mecopt.longterm.simulator import Observation
from mecopt.longterm.slot_instance import scatter, slot_instance

#: Default trade-off parameter V (1/s); see the module docstring.
DEFAULT_V = 3.0
#: Default energy normalisation W (slots of budget); see the module docstring.
DEFAULT_ENERGY_WINDOW = 20.0


class LyapunovPolicy(SlotPolicy):
    """Drift-plus-penalty with virtual queues for energy, accuracy and hallucination.

    Parameters
    ----------
    V
        Latency weight, 1/s (> 0). Larger V: lower latency, slower constraint convergence.
    energy_window
        W (slots, >= 1): the energy queue is normalised by the budget of W slots, its
        weight is ``Z_u / (V W b_u^2)``; 1 gives the textbook weight.
    solver
        Exact backend for the slot problem (default ``"highs"``).
    time_limit
        Seconds per slot solve (``None``: no limit); a slot without a usable exact answer
        falls back to GOA on the same weighted instance (counted in ``stats()``).
    """

    name = "lyapunov"

    def __init__(self, V: float = DEFAULT_V,  # noqa: N803 - the usual name
                 energy_window: float = DEFAULT_ENERGY_WINDOW, solver: str = "highs",
                 time_limit: float | None = None) -> None:
        v = float(V)
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"V = {V!r}: must be a number > 0")
        w = float(energy_window)
        if not math.isfinite(w) or w < 1:
            raise ValueError(f"energy_window = {energy_window!r}: must be a number >= 1 "
                             "(slots of budget)")
        self.V = v
        self.energy_window = w
        self.solver = check_solver(solver)
        self.time_limit = time_limit

    def weights(self, obs: Observation, b: int, users: np.ndarray) -> dict[str, object]:
        """The instance weights of member ``b``'s slot problem."""
        budget = np.maximum(obs.energy_budget[b, users], 1e-12)
        return {
            "cost_energy": obs.energy_queue[b, users]
            / (self.V * self.energy_window * budget * budget),
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
