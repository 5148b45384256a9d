"""Policies that solve each slot as a one-shot instance: ``goa`` and ``myopic-optimal``.

Both build the slot's :class:`mecopt.Instance` (:mod:`mecopt.longterm.slot_instance`, ES
backlog as ``edge_wait``) for every batch member and hand it to the existing machinery:
the GOA heuristic, or an exact backend through :func:`mecopt.solve`.
"""

from __future__ import annotations

import collections
import time
from typing import Any

import numpy as np

from mecopt.errors import UnknownNameError
from mecopt.heuristics import goa
from mecopt.instance import Instance
from mecopt.longterm.protocol import EnvInfo
from mecopt.longterm.simulator import NO_QUERY, Observation
from mecopt.longterm.slot_instance import scatter, slot_instance

#: Statuses of an exact per-slot solve that carry a usable assignment.
_USABLE = ("optimal", "feasible")


class SlotPolicy:
    """Base: build each member's slot instance, decide it, gather the actions."""

    name = ""

    def reset(self, info: EnvInfo, rng: np.random.Generator) -> None:
        self.info = info
        self.rng = rng
        self._stats: collections.Counter[str] = collections.Counter()
        self._solve_s = 0.0

    def decide(self, obs: Observation, b: int) -> np.ndarray:  # pragma: no cover - abstract
        """(U,) actions of member ``b``."""
        raise NotImplementedError

    def act(self, obs: Observation) -> np.ndarray:
        out = np.full(obs.has_query.shape, NO_QUERY, dtype=np.int64)
        for b in range(obs.has_query.shape[0]):
            if obs.has_query[b].any():
                out[b] = self.decide(obs, b)
        return out

    def stats(self) -> dict[str, Any]:
        """Counts of per-slot outcomes and the time spent in solvers."""
        return {**dict(self._stats), "solve_seconds": round(self._solve_s, 6)}


class GoaPolicy(SlotPolicy):
    """GOA (arXiv 2602.07958) on every slot: uncertain queries (``alpha > tau``) offloaded
    first, then alpha-weighted greedy with the stop rule; the ES backlog enters through the
    instance's ``edge_wait``. It ignores the long-term constraints.

    Parameters
    ----------
    tau
        Uncertainty threshold in [0, 1] (0.6 as in the published setting); ``None`` turns
        the first step off.
    """

    name = "goa"

    def __init__(self, tau: float | None = 0.6) -> None:
        if tau is not None and not 0.0 <= float(tau) <= 1.0:
            raise ValueError(f"tau = {tau!r}: must lie in [0, 1]")
        self.tau = None if tau is None else float(tau)

    def decide(self, obs: Observation, b: int) -> np.ndarray:
        inst, users = slot_instance(obs, b, tau=self.tau)
        assert inst is not None
        t0 = time.perf_counter()
        a = goa(inst, self.rng)
        self._solve_s += time.perf_counter() - t0
        return scatter(obs.has_query.shape[1], users, a)


def exact_solve(inst: Instance, solver: str, time_limit: float | None,
                stats: collections.Counter[str]) -> np.ndarray | None:
    """Solve with an exact backend; the assignment, or ``None`` without a usable one."""
    import mecopt

    res = mecopt.solve(inst, solver, time_limit=time_limit, threads=1)
    stats[res.status] += 1
    return None if res.status not in _USABLE or res.assignment is None else res.assignment


def check_solver(solver: str) -> str:
    """Validate an exact solver name (listing the valid ones)."""
    from mecopt.solve import get_solver

    impl, _ = get_solver(solver)
    if getattr(impl, "kind", "") != "exact":
        raise UnknownNameError(f"solver {solver!r} is not an exact solver; use one of: "
                               "highs, ortools-mip, ortools-cpsat, pyomo, cvxpy, bruteforce")
    return solver


class MyopicOptimal(SlotPolicy):
    """The exact per-slot optimum under the constraints on the running totals.

    Each slot minimises the slot's mean latency (an exact backend on the slot instance)
    subject to what keeps the totals so far within the long-term constraints:

    - energy: a device may answer locally only if its energy so far plus the local answer
      stays within ``budget x (t + 1)``; otherwise it offloads (its instance budget is the
      largest uplink energy it could need, so every offload is allowed);
    - accuracy: the slot's mean effective accuracy must make up the deficit,
      ``(A_min (n_so_far + n_t) - acc_so_far) / n_t``, capped at the best the slot allows;
    - hallucination: likewise, ``(H_max (n_so_far + n_t) - hall_so_far) / n_t``, at least the
      least the slot allows.

    When the two quality targets cannot be met together the hallucination target is
    dropped for the slot, then the accuracy target (counted in ``stats()``). It plans no
    further than the slot: the reference for what per-slot optimality achieves.

    Parameters
    ----------
    solver
        Exact backend name (default ``"highs"``).
    time_limit
        Seconds per slot solve (``None``: no limit).
    """

    name = "myopic-optimal"

    def __init__(self, solver: str = "highs", time_limit: float | None = None) -> None:
        self.solver = check_solver(solver)
        self.time_limit = time_limit

    def decide(self, obs: Observation, b: int) -> np.ndarray:
        users = np.flatnonzero(obs.has_query[b])
        n_t = users.size
        spent = obs.energy_used[b, users]
        allowance = obs.energy_budget[b, users] * (obs.t + 1) - spent
        e_local = obs.local_energy[b, users]
        # Largest uplink energy of an offload: every query of the slot on the worst ES.
        worst = (obs.prompt_bits[b, users, None] * n_t
                 / (obs.bandwidth[b] * obs.spectral_eff[b, users])).max(axis=1)
        up_max = obs.tx_power[b, users] * worst
        forced = allowance < e_local
        budget = np.where(forced, np.maximum(allowance, up_max * (1 + 1e-6)),
                          np.maximum(allowance, e_local))
        acc_l, acc_e = obs.acc_local[b, users], obs.acc_edge[b, users]
        h_l, h_e = obs.hall_local[b, users], obs.hall_edge[b, users]
        targets: dict[str, float | None] = {"min_accuracy": None, "max_hallucination": None}
        n_all = obs.n_queries[b] + n_t
        if obs.min_accuracy is not None:
            need = (obs.min_accuracy * n_all - obs.accuracy_sum[b]) / n_t
            best = float(np.mean(np.where(forced, acc_e, np.maximum(acc_l, acc_e))))
            if need > 0:
                targets["min_accuracy"] = min(need, best * (1 - 1e-9))
        if obs.max_hallucination is not None:
            cap = (obs.max_hallucination * n_all - obs.hallucination_sum[b]) / n_t
            least = float(np.mean(np.where(forced, h_e, np.minimum(h_l, h_e))))
            if cap < 1:
                targets["max_hallucination"] = max(cap, least * (1 + 1e-9) + 1e-12)
        t0 = time.perf_counter()
        a = None
        inst = None
        for drop in ((), ("max_hallucination",), ("max_hallucination", "min_accuracy")):
            kw = {k: (None if k in drop else v) for k, v in targets.items()}
            inst, _ = slot_instance(obs, b, energy_budget=budget, **kw)
            assert inst is not None
            a = exact_solve(inst, self.solver, self.time_limit, self._stats)
            if a is not None:
                if drop:
                    self._stats["dropped_" + "+".join(drop)] += 1
                break
        self._solve_s += time.perf_counter() - t0
        if a is None:  # no usable solution even with the energy rule alone (time limit)
            self._stats["fallback_goa"] += 1
            a = goa(inst, self.rng)
        return scatter(obs.has_query.shape[1], users, a)
