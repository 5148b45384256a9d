"""The price prior of :class:`~mecopt.longterm.priced.PricedPolicy`: long-term prices from
what is observable at slot 0.

The hindsight optimum of a trace is the per-slot problem at its LP dual prices
(:func:`mecopt.formulations.hindsight_pricing.row_prices`): used as fixed weights in the
exact slot solver they reproduce it closely. Those prices are not known online, but they
vary smoothly with what a controller sees at slot 0: the offered ES load, the number of
devices, the arrival rate, the constraint levels, the channel and the local energy against
the budget. The prior is a k-nearest-neighbour regression (inverse-distance weights on
standardised features) over the duals of training traces (seeds >= 1,000,000, disjoint
from every benchmark seed), shipped as a small JSON file in ``mecopt/data/prices/`` and
refitted by ``benchmarks/online/fit_prior.py``.
"""

from __future__ import annotations

import dataclasses
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.errors import MecoptError
from mecopt.longterm.simulator import Observation

#: The features, in order (see :func:`slot0_features`).
FEATURES = (
    "load",
    "n_devices",
    "arrival_rate",
    "min_accuracy",
    "max_hallucination",
    "local_energy_ratio",
    "spectral_eff",
)
#: The prices the prior predicts: s per unit accuracy, s per unit hallucination probability
#: and the mean per-device energy price, s/J.
PRICES = ("accuracy", "hallucination", "energy")
#: Name of the shipped prior.
DEFAULT_PRIOR = "default"


class PriorError(MecoptError, ValueError):
    """A prior file that is missing or malformed."""


def slot0_features(obs: Observation, b: int, arrival_rate: float) -> np.ndarray:
    """The features of member ``b`` from its slot-0 observation.

    ``load`` is the offered ES work per slot over the ES capacity, ``U x rate x mean edge
    work / (sum_j C_j x slot)`` (the mean edge work of the queries in view; of every device
    when no query arrived); ``local_energy_ratio`` the mean local energy of a query over the
    per-slot budget; ``spectral_eff`` the mean over devices of their best ES's
    ``log2(1 + SNR)``. A target that is off counts as 0 (accuracy) or 1 (hallucination).
    """
    q = obs.has_query[b]
    pick = q if q.any() else np.ones_like(q)
    work = float(np.mean(obs.edge_work[b, pick]))
    e_loc = float(np.mean(obs.local_energy[b, pick]))
    n_dev = q.size
    load = n_dev * arrival_rate * work / (float(obs.capacity[b].sum()) * obs.slot_s)
    budget = float(np.mean(obs.energy_budget[b]))
    ratio = arrival_rate * e_loc / budget if budget > 0 else 1e3
    se = float(np.mean(obs.spectral_eff[b].max(axis=1)))
    return np.array(
        [
            load,
            n_dev,
            arrival_rate,
            0.0 if obs.min_accuracy is None else obs.min_accuracy,
            1.0 if obs.max_hallucination is None else obs.max_hallucination,
            ratio,
            se,
        ]
    )


@dataclasses.dataclass(frozen=True)
class PricePrior:
    """Training points (features, duals) and the k-NN rule that predicts from them.

    Attributes
    ----------
    points
        (K, F) features of the training traces, columns :data:`FEATURES`.
    prices
        (K, 3) their hindsight LP prices, columns :data:`PRICES`.
    scale
        (F,) feature scales of the distance (the training spread).
    weights
        (F,) weight of each feature in the distance (0 leaves it out; chosen by
        leave-one-out error when the prior is fitted).
    k
        Neighbours averaged.
    provenance
        How the file was made (seeds, commit, solver).
    """

    points: np.ndarray
    prices: np.ndarray
    scale: np.ndarray
    weights: np.ndarray | None = None
    k: int = 5
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        p = np.asarray(self.points, dtype=float)
        y = np.asarray(self.prices, dtype=float)
        if p.ndim != 2 or p.shape[1] != len(FEATURES) or y.shape != (p.shape[0], len(PRICES)):
            raise PriorError(
                f"price prior: points must be (K, {len(FEATURES)}) and prices "
                f"(K, {len(PRICES)}), got {p.shape} and {y.shape}"
            )
        if p.shape[0] == 0 or not (np.isfinite(p).all() and np.isfinite(y).all()):
            raise PriorError("price prior: needs at least one finite training point")
        if not 1 <= int(self.k):
            raise PriorError(f"price prior: k = {self.k!r} must be >= 1")
        object.__setattr__(self, "points", p)
        object.__setattr__(self, "prices", y)
        object.__setattr__(self, "scale", np.maximum(np.asarray(self.scale, float), 1e-12))
        w = np.ones(p.shape[1]) if self.weights is None else np.asarray(self.weights, float)
        if w.shape != (p.shape[1],) or np.any(w < 0) or not np.any(w > 0):
            raise PriorError(f"price prior: weights must be {p.shape[1]} numbers >= 0, not all 0")
        object.__setattr__(self, "weights", w)

    def predict(self, features: np.ndarray) -> dict[str, float]:
        """Prices at ``features`` (F,): the inverse-distance mean of the k nearest points."""
        d = np.sqrt((self.weights * ((self.points - features) / self.scale) ** 2).sum(axis=1))
        near = np.argsort(d)[: int(self.k)]
        w = 1.0 / np.maximum(d[near], 1e-6)
        y = (w[:, None] * self.prices[near]).sum(axis=0) / w.sum()
        return {name: float(max(v, 0.0)) for name, v in zip(PRICES, y, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the file format)."""
        return {
            "features": list(FEATURES),
            "prices_names": list(PRICES),
            "k": int(self.k),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "points": self.points.tolist(),
            "prices": self.prices.tolist(),
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PricePrior:
        """Rebuild from :meth:`to_dict` output (validated)."""
        if list(data.get("features", [])) != list(FEATURES):
            raise PriorError(
                f"price prior: features {data.get('features')!r} differ from {list(FEATURES)}"
            )
        try:
            return cls(
                points=np.array(data["points"]),
                prices=np.array(data["prices"]),
                scale=np.array(data["scale"]),
                weights=None if data.get("weights") is None else np.array(data["weights"]),
                k=int(data.get("k", 5)),
                provenance=dict(data.get("provenance", {})),
            )
        except KeyError as exc:
            raise PriorError(f"price prior: missing field {exc}") from None

    @classmethod
    def fit(
        cls,
        points: np.ndarray,
        prices: np.ndarray,
        k: int = 5,
        provenance: dict[str, Any] | None = None,
        weights: np.ndarray | None = None,
    ) -> PricePrior:
        """A prior on training points, the scale being each feature's spread (std)."""
        p = np.asarray(points, dtype=float)
        scale = p.std(axis=0)
        scale[scale <= 1e-12] = 1.0
        return cls(
            points=p,
            prices=np.asarray(prices, float),
            scale=scale,
            weights=weights,
            k=k,
            provenance=provenance or {},
        )


def load_prior(prior: str | Path | PricePrior = DEFAULT_PRIOR) -> PricePrior:
    """A prior by name (a file ``mecopt/data/prices/NAME.json``), path or object.

    Raises
    ------
    PriorError
        If the file does not exist or is malformed (the message names it).
    """
    if isinstance(prior, PricePrior):
        return prior
    text = str(prior)
    if text.endswith(".json") or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise PriorError(f"price prior file {text!r} does not exist")
        raw = path.read_text()
    else:
        res = resources.files("mecopt") / "data" / "prices" / f"{text}.json"
        if not res.is_file():
            raise PriorError(
                f"price prior {text!r} is not shipped; "
                f"use {DEFAULT_PRIOR!r} or a path to a .json file"
            )
        raw = res.read_text()
    try:
        return PricePrior.from_dict(json.loads(raw))
    except json.JSONDecodeError as exc:
        raise PriorError(f"price prior {text!r}: not JSON ({exc})") from None
