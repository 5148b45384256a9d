"""Pareto fronts of variants and the ECLD-versus-baselines comparison."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mecopt.variants.variant import Variant

__all__ = ["pareto_front", "pareto_mask"]


def pareto_mask(costs: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``costs`` (every column minimised).

    A row is dominated when another row is no worse in every column and better in one. Rows
    with a NaN are never on the front.
    """
    c = np.asarray(costs, dtype=float)
    if c.ndim != 2:
        raise ValueError(f"costs must be 2-D, got shape {c.shape}")
    ok = ~np.isnan(c).any(axis=1)
    le = (c[:, None, :] <= c[None, :, :]).all(axis=2)  # le[j, i]: j no worse than i
    lt = (c[:, None, :] < c[None, :, :]).any(axis=2)
    dominated = ((le & lt) & ok[:, None]).any(axis=0)
    return ok & ~dominated


def pareto_front(variants: Sequence[Variant], x: str = "storage") -> list[Variant]:
    """Variants on the Pareto front of (``x``, -accuracy, hallucination).

    Parameters
    ----------
    variants
        Candidates.
    x
        ``"storage"`` (bytes) or ``"energy"`` (J per query on the phone, 256 prompt and 128
        output tokens; measured catalogues use their measured energy).
    """
    if x not in ("storage", "energy"):
        raise ValueError(f"x = {x!r}: must be 'storage' or 'energy'")
    costs = np.array([[_x(v, x), -v.accuracy.value, v.hallucination.value] for v in variants])
    if costs.size == 0:
        return []
    mask = pareto_mask(costs)
    return [v for v, m in zip(variants, mask, strict=True) if m]


def _x(v: Variant, x: str) -> float:
    if x == "storage":
        return v.storage_bytes
    if "energy_j" in v.measured:
        return float(v.measured["energy_j"])
    return v.energy_j("phone", 256, 128)
