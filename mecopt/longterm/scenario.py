"""Parameters of a long-term offloading scenario, validated.

A :class:`LongtermScenario` fixes everything but the random draws: the network (ES
positions, capacities, bandwidth), the arrival process, the profile the queries come from,
the device model and the three long-term constraints. :func:`make_scenario` builds a named
scenario with overrides; ``"default"`` is the only built-in name.

The default scenario (all numbers **modelled** unless the field says otherwise) is set so
that every constraint binds:

- arrivals: Bernoulli, 0.6 queries per device per 100 ms slot;
- queries: the synthetic profile (device model right on 45 %, edge model on 56 %, the
  published aggregates of arXiv 2602.07958); ``profile="babi-tiny"`` uses the measured one;
- devices: ``phone-1b`` (35.8 ms and 0.18 J per local answer, see
  :mod:`mecopt.longterm.devices`);
- channel: the kim2026 geometry and free-space path loss (4 ESs in a 500 m square, 3.5 GHz,
  0.2 W), a 1 MHz uplink per ES (a narrowband share, so that the upload is milliseconds and
  depends on the channel) and a 2 kB context sent with every prompt; Rayleigh block fading,
  Gauss-Markov over slots with rho = 0.9;
- ES compute: ``1e15 FLOP/s x U(0.6, 1.4)`` per ES: the four ESs together clear about 16
  queries per slot, so always-offload overloads them from about 27 devices on and is slow
  before that (processor sharing and backlog);
- constraints: mean energy at most 0.075 J per slot per device (always-local spends about
  0.107), mean effective accuracy at least 0.52 (always-local: 0.45) and mean hallucination
  at most 0.28 (always-local: about 0.33).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import numpy as np

from mecopt.errors import MecoptError
from mecopt.longterm.devices import DEFAULT_DEVICE, DeviceModel, device_model
from mecopt.registry import Registry

ARRIVALS = ("bernoulli", "poisson")


class InfeasibleScenarioError(MecoptError, ValueError):
    """A scenario whose constraints no policy can meet (for example an accuracy target above
    what even the more accurate model of every query reaches)."""


@dataclasses.dataclass(frozen=True)
class LongtermScenario:
    """The parameters of a long-term scenario (every field validated on construction).

    Parameters
    ----------
    name
        Scenario name (provenance only).
    n_servers
        M, the number of edge servers (1 to 9): 4 uses the kim2026 positions, other
        counts a regular grid over the area.
    slot_s
        Slot length Delta, s.
    arrival
        ``"bernoulli"`` (at most one query per device and slot, probability
        ``arrival_rate``) or ``"poisson"`` (``arrival_rate`` queries per slot on average;
        a device launches at most one query per slot and buffers the rest, FIFO, so a
        query's latency includes its wait in the device buffer).
    arrival_rate
        Queries per device per slot, in (0, 1] for Bernoulli and (0, 1) for Poisson.
    profile
        Name or path of the profile the queries are drawn from (``mecopt.profiles``).
    device
        Device model name (:func:`mecopt.longterm.devices.device_model`).
    edge_hallucination_share
        Share of the edge model's wrong answers that are hallucinations, [0, 1] (modelled).
    edge_work_factor
        Edge work per query = factor x local latency x device FLOP/s.
    context_bytes
        Bytes sent with every prompt besides the prompt itself (conversation context).
    area_m, carrier_hz, tx_power_w, bandwidth_hz, noise_w_per_hz
        Geometry and uplink: square side (m), carrier (Hz), device transmit power (W),
        uplink bandwidth per ES (Hz, shared equally by the queries offloaded to it in a
        slot), noise density (W/Hz).
    fading_rho
        Gauss-Markov correlation of the Rayleigh fading between slots, in [0, 1).
    speed_mps
        Device speed for random-walk mobility, m/s (0: static devices).
    es_capacity_flops, capacity_spread
        ES compute ``C_j = es_capacity_flops x U(1 - spread, 1 + spread)``, FLOP/s.
    per_user_cap_flops
        Largest compute share one query gets, FLOP/s.
    energy_budget_j
        Long-term mean energy budget of every device, J per slot (>= 0).
    min_accuracy
        Long-term mean effective accuracy target A_min in [0, 1], or ``None``.
    max_hallucination
        Long-term mean hallucination cap H_max in [0, 1], or ``None``.

    Raises
    ------
    ValueError
        For a value out of range, naming the field and the value.
    InfeasibleScenarioError
        If ``min_accuracy`` is above, or ``max_hallucination`` below, what the profile
        allows even with every query on its better model.
    """

    name: str = "default"
    n_servers: int = 4
    slot_s: float = 0.1
    arrival: str = "bernoulli"
    arrival_rate: float = 0.6
    profile: str = "synthetic"
    device: str = DEFAULT_DEVICE
    edge_hallucination_share: float = 0.4
    edge_work_factor: float = 8.0
    context_bytes: float = 2000.0
    area_m: float = 500.0
    carrier_hz: float = 3.5e9
    tx_power_w: float = 0.2
    bandwidth_hz: float = 1e6
    noise_w_per_hz: float = 4e-21
    fading_rho: float = 0.9
    speed_mps: float = 0.0
    es_capacity_flops: float = 1.0e15
    capacity_spread: float = 0.4
    per_user_cap_flops: float = 1513e12
    energy_budget_j: float = 0.075
    min_accuracy: float | None = 0.52
    max_hallucination: float | None = 0.28

    def __post_init__(self) -> None:
        if isinstance(self.n_servers, bool) or not isinstance(self.n_servers, int | np.integer) \
                or not 1 <= self.n_servers <= 9:
            raise ValueError(f"n_servers = {self.n_servers!r}: must be a whole number in 1..9")
        object.__setattr__(self, "n_servers", int(self.n_servers))
        for field, rule in _RULES.items():
            value = getattr(self, field)
            if value is None and field in ("min_accuracy", "max_hallucination"):
                continue
            if isinstance(value, bool | str | bytes):  # no true -> 1.0 or "0.5" -> 0.5
                raise ValueError(f"{field} = {value!r}: must be a number")
            try:
                x = float(value)
            except (TypeError, ValueError, OverflowError):
                raise ValueError(f"{field} = {value!r}: must be a number") from None
            if not math.isfinite(x) or not rule[0](x):
                raise ValueError(f"{field} = {value!r}: {rule[1]}")
            object.__setattr__(self, field, x)
        if self.arrival not in ARRIVALS:
            raise ValueError(f"arrival = {self.arrival!r}: must be one of "
                             + ", ".join(repr(a) for a in ARRIVALS))
        if self.arrival == "bernoulli" and self.arrival_rate > 1:
            raise ValueError(f"arrival_rate = {self.arrival_rate!r}: a Bernoulli rate is a "
                             "probability per slot, must lie in (0, 1]")
        if self.arrival == "poisson" and self.arrival_rate >= 1:
            raise ValueError(f"arrival_rate = {self.arrival_rate!r}: a device launches at most "
                             "one query per slot, so a Poisson rate >= 1 per slot makes its "
                             "buffer grow without bound; must lie in (0, 1)")
        if not isinstance(self.profile, str) or not isinstance(self.device, str):
            raise ValueError("profile and device must be names (strings)")
        self.device_model()  # validates the name
        best_acc, best_hall = achievable_quality(self.profile, self.device_model(),
                                                 self.edge_hallucination_share)
        if self.min_accuracy is not None and self.min_accuracy > best_acc + 1e-12:
            raise InfeasibleScenarioError(
                f"min_accuracy = {self.min_accuracy:g} is infeasible: even with every query "
                f"on its more accurate model the mean effective accuracy on profile "
                f"{self.profile!r} is {best_acc:.4f}"
            )
        if self.max_hallucination is not None and self.max_hallucination < best_hall - 1e-12:
            raise InfeasibleScenarioError(
                f"max_hallucination = {self.max_hallucination:g} is infeasible: even with every "
                f"query on its less hallucinating model the mean hallucination on profile "
                f"{self.profile!r} is {best_hall:.4f}"
            )

    def device_model(self) -> DeviceModel:
        """The :class:`~mecopt.longterm.devices.DeviceModel` of every device."""
        return device_model(self.device)

    def es_positions(self) -> np.ndarray:
        """(M, 2) ES positions in m."""
        return es_positions(self.n_servers, self.area_m)

    def replace(self, **changes: Any) -> LongtermScenario:
        """A copy with some fields changed (validated again)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown scenario parameter(s): {', '.join(unknown)}; valid: "
                             + ", ".join(f.name for f in dataclasses.fields(self)))
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LongtermScenario:
        """Rebuild from :meth:`to_dict` output (validated)."""
        return cls().replace(**dict(data))


_POS = (lambda x: x > 0, "must be > 0")
_NONNEG = (lambda x: x >= 0, "must be >= 0")
_UNIT = (lambda x: 0 <= x <= 1, "must lie in [0, 1]")
_RULES: dict[str, tuple[Callable[[float], bool], str]] = {
    "slot_s": _POS,
    "arrival_rate": _POS,
    "edge_hallucination_share": _UNIT,
    "edge_work_factor": _POS,
    "context_bytes": _NONNEG,
    "area_m": _POS,
    "carrier_hz": _POS,
    "tx_power_w": _POS,
    "bandwidth_hz": _POS,
    "noise_w_per_hz": _POS,
    "fading_rho": (lambda x: 0 <= x < 1, "must lie in [0, 1) (Gauss-Markov correlation)"),
    "speed_mps": _NONNEG,
    "es_capacity_flops": _POS,
    "capacity_spread": (lambda x: 0 <= x < 1, "must lie in [0, 1)"),
    "per_user_cap_flops": _POS,
    "energy_budget_j": (lambda x: x >= 0, "must be >= 0 (J per slot per device)"),
    "min_accuracy": _UNIT,
    "max_hallucination": _UNIT,
}

#: kim2026 ES positions in a 500 m square (arXiv 2602.07958).
_KIM_POSITIONS = ((125.0, 125.0), (125.0, 375.0), (375.0, 125.0), (375.0, 375.0))


def es_positions(n_servers: int, area_m: float) -> np.ndarray:
    """(M, 2) ES positions: the kim2026 layout for M = 4, else a regular grid."""
    if n_servers == 4:
        return np.array(_KIM_POSITIONS) * (area_m / 500.0)
    cols = math.ceil(math.sqrt(n_servers))
    rows = math.ceil(n_servers / cols)
    xs = (np.arange(cols) + 0.5) * area_m / cols
    ys = (np.arange(rows) + 0.5) * area_m / rows
    grid = np.array([(x, y) for y in ys for x in xs])
    return grid[:n_servers]


def hallucination_probability(acc: np.ndarray, share: float | np.ndarray) -> np.ndarray:
    """Hallucination probability of a model with correctness probability ``acc``: the given
    share of its wrong answers (modelled)."""
    return np.asarray(share) * (1.0 - np.asarray(acc))


@cache
def _profile_curves(profile: str) -> tuple[np.ndarray, np.ndarray]:
    from mecopt.profiles import load_profile

    p = load_profile(profile)
    alpha = p.records.alpha
    acc_l = np.clip(np.asarray(p.curve_local(alpha), dtype=float), 0, 1)
    acc_e = np.clip(np.asarray(p.curve_edge(alpha), dtype=float), 0, 1)
    return acc_l, acc_e


def achievable_quality(profile: str, device: DeviceModel,
                       edge_share: float) -> tuple[float, float]:
    """Best mean effective accuracy and least mean hallucination any policy can reach on the
    profile (every query on its better model for that figure)."""
    acc_l, acc_e = _profile_curves(profile)
    h_l = hallucination_probability(acc_l, device.hallucination_share)
    h_e = hallucination_probability(acc_e, edge_share)
    return float(np.mean(np.maximum(acc_l, acc_e))), float(np.mean(np.minimum(h_l, h_e)))


#: Named scenarios: name -> the defaults of that scenario.
SCENARIOS: Registry[Callable[[], LongtermScenario]] = Registry("long-term scenario")
SCENARIOS.register("default", LongtermScenario)


def make_scenario(scenario: str | LongtermScenario = "default",
                  **overrides: Any) -> LongtermScenario:
    """Return a named scenario (or ``scenario`` itself) with ``overrides`` applied.

    Raises
    ------
    UnknownNameError
        For an unknown scenario name.
    ValueError
        For an unknown parameter or a bad value.
    """
    base = scenario if isinstance(scenario, LongtermScenario) else SCENARIOS.get(scenario)()
    return base.replace(**overrides) if overrides else base
