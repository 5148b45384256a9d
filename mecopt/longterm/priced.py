"""``priced``: each slot solved exactly under learned prices of the long-term constraints.

For long-term average constraints the optimal decision rule is a per-slot problem whose
weights are the constraints' dual prices; the hindsight optimum of a trace is, within a
fraction of a percent, the exact per-slot solve at its LP duals. ``priced`` estimates
those prices online:

1. **Prior** (slot 0): :mod:`mecopt.longterm.price_prior` predicts the accuracy,
   hallucination and energy prices from what is observable at slot 0 (offered ES load,
   U, arrival rate, constraint levels, channel, local energy against the budget), learned
   offline from hindsight's LP duals on training traces.
2. **Correction** (every slot): each price moves with the running deficit of its
   constraint spread over what is left of the horizon, ``delta = deficit / expected
   remaining`` (accuracy: ``A_min n - sum acc`` over the expected remaining queries;
   hallucination likewise; energy per device: spending above the budget's pace over the
   budget left), ``p = max(0, prior + kp delta + ki sum_s delta_s)``. ``delta`` is small
   while the horizon is long and grows towards its end.
3. **Energy guard** (hard): a device answers locally only if its spending so far, the
   local answer and a reserve for uploading its expected remaining queries stay within
   ``T b_u``; otherwise it must offload (through the instance's per-user energy cap).
4. **Backstop** (hard): when the accuracy deficit after the slot could not be made up by
   half of what the expected remaining queries can still give (the last slot: none), the
   slot is solved again with the accuracy target that closes the gap (hallucination
   likewise).

The slot problem is the one-shot instance of :mod:`mecopt.longterm.slot_instance` (the
ES backlog as ``edge_wait``) with ``cost_accuracy``, ``cost_hallucination`` and per-user
``cost_energy`` set to the prices, solved by an exact backend (HiGHS by default).

**What it observes**: the current slot's :class:`~mecopt.longterm.simulator.Observation`
(queries, channels, backlogs, the running totals of energy, accuracy and hallucination),
the scenario's arrival rate and the horizon T. Nothing of later slots: it is causal.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.heuristics import goa
from mecopt.instance import Instance
from mecopt.longterm.per_slot import SlotPolicy, check_solver, exact_solve
from mecopt.longterm.price_prior import (
    DEFAULT_PRIOR,
    PRICES,
    PricePrior,
    load_prior,
    slot0_features,
)
from mecopt.longterm.protocol import EnvInfo
from mecopt.longterm.simulator import Observation
from mecopt.longterm.slot_instance import scatter, slot_instance


@dataclasses.dataclass(frozen=True)
class PricedGains:
    """The tuning constants of :class:`PricedPolicy` (tuned on training seeds only).

    Attributes
    ----------
    accuracy_kp, accuracy_ki
        s per unit of the accuracy ``delta`` (deficit per expected remaining query), and
        per unit of its running sum over slots.
    hallucination_kp, hallucination_ki
        The same for the hallucination cap.
    energy_kp
        s/J per unit of a device's relative overspend (energy above the budget's pace over
        the budget left).
    margin
        Aim this far inside the accuracy and hallucination targets (per query): the price
        correction's aim.
    backstop_margin
        How far inside the targets (per query) the backstop holds the running totals. The
        default is ``margin``: the backstop counts on the remaining queries to make up part
        of a deficit, and the margin absorbs what the last slots fail to. A small value
        (``1e-5``) stops the backstop forcing the last few slots of a loaded horizon onto
        the ESs to make up the margin itself (tuning traces at U = 40: mean gap to the LP
        bound 6.79 -> 5.13 %) but ends more traces just below the accuracy target (U = 20:
        6/6 -> 5/6 feasible; U = 40: 5/6 -> 4/6; ``benchmarks/online/tuning.md``).
    backstop_share
        Share of what the expected remaining queries could still recover that the backstop
        counts on (0: every slot must close its own deficit; 1: all of it).
    reserve_count
        Queries per ES assumed when reserving energy for a device's future uploads.
    """

    accuracy_kp: float = 20.0
    accuracy_ki: float = 0.5
    hallucination_kp: float = 20.0
    hallucination_ki: float = 0.5
    energy_kp: float = 0.05
    margin: float = 0.0005
    backstop_margin: float = 0.0005
    backstop_share: float = 0.5
    reserve_count: float = 4.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = float(getattr(self, f.name))
            if not np.isfinite(v) or v < 0:
                raise ValueError(
                    f"priced gain {f.name} = {getattr(self, f.name)!r}: must be a number >= 0"
                )
        if self.backstop_share > 1:
            raise ValueError(
                f"priced gain backstop_share = {self.backstop_share!r}: must lie in [0, 1]"
            )


class PricedPolicy(SlotPolicy):
    """Exact per-slot solves under learned prices of the long-term constraints.

    Parameters
    ----------
    prior
        Price prior: a shipped name (``"default"``), a path to a prior ``.json`` or a
        :class:`~mecopt.longterm.price_prior.PricePrior`.
    prices
        Fixed starting prices ``{"accuracy": s, "hallucination": s, "energy": s/J or (U,)
        s/J}`` instead of the prior (for example hindsight's LP duals); missing keys come
        from the prior.
    correct
        Apply the online correction (``False``: the starting prices throughout; the guard
        and backstop still hold).
    solver
        Exact backend of the slot problem (default ``"highs"``).
    time_limit
        Seconds per slot solve (``None``: none); a slot without a usable exact answer
        falls back to GOA on the same instance (counted in ``stats()``).
    **gains
        Fields of :class:`PricedGains`.

    Examples
    --------
    >>> import mecopt.longterm as lt
    >>> tr = lt.trace(n_devices=6, horizon=20, seed=3)
    >>> r = lt.run(tr, "priced")
    >>> r.feasible
    True
    """

    name = "priced"

    def __init__(
        self,
        prior: str | Path | PricePrior = DEFAULT_PRIOR,
        prices: dict[str, Any] | None = None,
        correct: bool = True,
        solver: str = "highs",
        time_limit: float | None = None,
        **gains: float,
    ) -> None:
        self.fixed = _check_prices(prices)
        # The prior is needed only for prices not given.
        self.prior = None if set(self.fixed) >= set(PRICES) else load_prior(prior)
        self.correct = bool(correct)
        self.solver = check_solver(solver)
        self.time_limit = time_limit
        try:
            self.gains = PricedGains(**gains)
        except TypeError:
            raise ValueError(
                f"unknown priced option(s) {sorted(gains)}; gains: "
                + ", ".join(f.name for f in dataclasses.fields(PricedGains))
            ) from None

    # ------------------------------------------------------------------ state
    def reset(self, info: EnvInfo, rng: np.random.Generator) -> None:
        super().reset(info, rng)
        b, u = info.batch, info.n_devices
        self.rate = float(info.scenario.arrival_rate)
        self.base = np.zeros((b, 2))  # starting accuracy and hallucination prices
        self.base_e = np.zeros((b, u))
        self.integral = np.zeros((b, 2))
        self.best_acc = np.zeros((b, 2))  # running sums: best reachable accuracy, queries
        self.least_hall = np.zeros(b)
        self.trajectory: list[list[float]] = []

    def _start(self, obs: Observation) -> None:
        """Starting prices of every member from the slot-0 observation."""
        for b in range(obs.has_query.shape[0]):
            p = {} if self.prior is None else self.prior.predict(slot0_features(obs, b, self.rate))
            p.update(self.fixed)
            self.base[b] = (p["accuracy"], p["hallucination"])
            self.base_e[b] = np.broadcast_to(np.asarray(p["energy"], float), self.base_e.shape[1:])

    def prices(self, obs: Observation) -> tuple[np.ndarray, np.ndarray]:
        """((B, 2) accuracy and hallucination prices, (B, U) energy prices) for the slot
        of ``obs``; advances the integral terms (call once per slot)."""
        g = self.gains
        if obs.t == 0:
            self._start(obs)
        remaining = np.maximum(self.rate * obs.has_query.shape[1] * (obs.horizon - obs.t), 1.0)
        n = obs.n_queries
        delta = np.zeros_like(self.base)
        if obs.min_accuracy is not None:
            delta[:, 0] = ((obs.min_accuracy + g.margin) * n - obs.accuracy_sum) / remaining
        if obs.max_hallucination is not None:
            delta[:, 1] = (
                obs.hallucination_sum - (obs.max_hallucination - g.margin) * n
            ) / remaining
        budget = obs.energy_budget
        left = np.maximum(budget * (obs.horizon - obs.t), 1e-12)
        over = (obs.energy_used - budget * obs.t) / left
        if not self.correct:
            return self.base.copy(), self.base_e.copy()
        self.integral += delta
        kp = np.array([g.accuracy_kp, g.hallucination_kp])
        ki = np.array([g.accuracy_ki, g.hallucination_ki])
        quality = np.maximum(self.base + kp * delta + ki * self.integral, 0.0)
        energy = np.maximum(self.base_e + g.energy_kp * over, 0.0)
        return quality, energy

    # ------------------------------------------------------------------ deciding
    def act(self, obs: Observation) -> np.ndarray:
        self._quality, self._energy = self.prices(obs)
        self.trajectory.append(
            [float(obs.t), *self._quality.mean(axis=0).tolist(), float(self._energy.mean())]
        )
        return super().act(obs)

    def decide(self, obs: Observation, b: int) -> np.ndarray:
        users = np.flatnonzero(obs.has_query[b])
        t0 = time.perf_counter()
        weights = {
            "cost_accuracy": float(self._quality[b, 0]),
            "cost_hallucination": float(self._quality[b, 1]),
            "cost_energy": self._energy[b, users],
        }
        cap = self._energy_cap(obs, b, users)
        if cap is not None:
            weights["energy_budget"] = cap
        inst, _ = slot_instance(obs, b, **weights)
        assert inst is not None
        a = self._solve(inst)
        targets = self._backstop(obs, b, users, inst, a)
        if targets:
            self._stats["backstop"] += 1
            inst2, _ = slot_instance(obs, b, **weights, **targets)
            assert inst2 is not None
            a2 = exact_solve(inst2, self.solver, self.time_limit, self._stats)
            if a2 is not None:
                a = a2
        self._solve_s += time.perf_counter() - t0
        return scatter(obs.has_query.shape[1], users, a)

    def _solve(self, inst: Instance) -> np.ndarray:
        a = exact_solve(inst, self.solver, self.time_limit, self._stats)
        if a is None:
            self._stats["fallback_goa"] += 1
            a = goa(inst, self.rng)
        return a

    def _energy_cap(self, obs: Observation, b: int, users: np.ndarray) -> np.ndarray | None:
        """Per-user energy caps of the slot instance, or ``None`` when no device is held to
        offloading: a device whose local answer would leave too little of ``T b_u`` for
        uploading its expected remaining queries may only offload."""
        n_t = users.size
        m = obs.capacity.shape[1]
        per_up = obs.prompt_bits[b, users, None] / (obs.bandwidth[b] * obs.spectral_eff[b, users])
        up_max = obs.tx_power[b, users] * per_up.max(axis=1) * n_t
        future = self.rate * (obs.horizon - obs.t - 1)
        reserve = (
            future
            * obs.tx_power[b, users]
            * per_up.min(axis=1)
            * min(self.gains.reserve_count, max(n_t / m, 1.0))
            * 2.0
        )
        allowance = obs.energy_budget[b, users] * obs.horizon - obs.energy_used[b, users] - reserve
        e_local = obs.local_energy[b, users]
        forced = allowance < e_local
        if not forced.any():
            return None
        self._stats["energy_guard"] += int(forced.sum())
        return np.where(forced, up_max * (1 + 1e-6), np.maximum(e_local, up_max) * 2.0)

    def _backstop(
        self, obs: Observation, b: int, users: np.ndarray, inst: Instance, a: np.ndarray
    ) -> dict[str, float]:
        """Slot targets that keep the quality constraints reachable, when the priced
        answer ``a`` misses them (empty when it does not)."""
        import mecopt

        acc_l, acc_e = obs.acc_local[b, users], obs.acc_edge[b, users]
        h_l, h_e = obs.hall_local[b, users], obs.hall_edge[b, users]
        n_t = users.size
        self.best_acc[b] += (float(np.maximum(acc_l, acc_e).sum()), n_t)
        self.least_hall[b] += float(np.minimum(h_l, h_e).sum())
        seen = self.best_acc[b, 1]
        future = self.rate * obs.has_query.shape[1] * (obs.horizon - obs.t - 1)
        share = self.gains.backstop_share
        m = mecopt.evaluate(inst, a)
        out: dict[str, float] = {}
        n_all = obs.n_queries[b] + n_t
        if obs.min_accuracy is not None:
            room = share * future * max(self.best_acc[b, 0] / seen - obs.min_accuracy, 0.0)
            target = obs.min_accuracy + self.gains.backstop_margin
            need = (target * n_all - obs.accuracy_sum[b] - room) / n_t
            best = float(np.mean(np.maximum(acc_l, acc_e)))
            if m.accuracy < need - 1e-12:
                out["min_accuracy"] = min(need, best * (1 - 1e-9))
        if obs.max_hallucination is not None and m.mean_hallucination is not None:
            room = share * future * max(obs.max_hallucination - self.least_hall[b] / seen, 0.0)
            limit = obs.max_hallucination - self.gains.backstop_margin
            cap = (limit * n_all - obs.hallucination_sum[b] + room) / n_t
            least = float(np.mean(np.minimum(h_l, h_e)))
            if m.mean_hallucination > cap + 1e-12:
                out["max_hallucination"] = max(cap, least * (1 + 1e-9) + 1e-12)
        return out

    def stats(self) -> dict[str, Any]:
        """Slot outcome counts, solver time and the price trajectory (mean over members:
        slot, accuracy price, hallucination price, mean energy price)."""
        out = super().stats()
        out["prices"] = self.trajectory
        return out


def _check_prices(prices: dict[str, Any] | None) -> dict[str, Any]:
    if prices is None:
        return {}
    if not isinstance(prices, dict):
        raise ValueError(f"prices = {prices!r}: must be a dict of accuracy, hallucination, energy")
    out: dict[str, Any] = {}
    for k, v in prices.items():
        if k not in ("accuracy", "hallucination", "energy"):
            raise ValueError(f"prices: unknown key {k!r}; use accuracy, hallucination, energy")
        arr = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"prices[{k!r}] = {v!r}: must be finite and >= 0")
        out[k] = float(arr) if arr.ndim == 0 else arr
    return out


def make_policy(**options: Any) -> PricedPolicy:
    """Registry factory of the ``priced`` policy."""
    return PricedPolicy(**options)
