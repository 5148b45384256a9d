"""Pareto fronts of variants and the ECLD-versus-baselines comparison."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mecopt.variants.variant import Variant

__all__ = ["pareto_front", "pareto_mask", "recipe_comparison"]


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


def recipe_comparison(variants: Sequence[Variant]) -> list[dict[str, Any]]:
    """ECLD against quantisation-only, pruning-only and pruning + distillation variants.

    Each variant is put in its recipe group (measured catalogues name it; modelled ones
    follow from the knobs) and listed by storage within its group.
    """
    groups: dict[str, list] = {"quantisation only": [], "pruning only": [],
                               "pruning + distillation": [], "ECLD (all three)": [],
                               "same size from scratch": []}
    for v in variants:
        recipe = v.measured.get("recipe", "") if v.measured else ""
        quant = any(f not in ("F16", "F32") for f in v.formats.values())
        if recipe:
            key = {"quantisation only": "quantisation only", "pruning only": "pruning only",
                   "pruning + distillation": "pruning + distillation",
                   "pruning + distillation + quantisation": "ECLD (all three)",
                   "same size, trained from scratch": "same size from scratch",
                   "same size from scratch + quantisation": "same size from scratch",
                   }.get(recipe)
        elif v.prune > 0 and v.distilled:
            key = "ECLD (all three)" if quant else "pruning + distillation"
        elif v.prune > 0:
            key = None if quant else "pruning only"
        else:
            key = "quantisation only" if quant else None
        if key:
            groups[key].append(v)
    rows = []
    for key, vs in groups.items():
        for v in sorted(vs, key=lambda x: x.storage_bytes):
            rows.append({"recipe": key, "variant": v.name, "storage_bytes": v.storage_bytes,
                         "accuracy": v.accuracy.to_dict(), "hallucination":
                         v.hallucination.to_dict(), "generalisation": v.generalisation.to_dict()})
    return rows
