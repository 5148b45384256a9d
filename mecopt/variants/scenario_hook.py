"""The ``variants=NAME`` scenario option: draw the device model's figures from a catalogue.

``mecopt.scenario("kim2026", N, seed, variants="babi-tiny")`` (CLI: ``--set
variants=babi-tiny``, optionally ``--set variant=ecld-q3``) makes every device run the chosen
variant of catalogue NAME (default: the catalogue's first ECLD variant) and the edge server run
the catalogue's reference (its row whose recipe starts with "reference", else its largest
model):

- ``acc_local`` is rescaled so its mean is the variant's accuracy (the per-query variation of
  the scenario's uncertainty curve is kept; values clipped to [0, 1]);
- ``hall_local`` / ``hall_edge`` are the variant's and the reference's hallucination rates;
- ``local_energy`` is the variant's energy per query: measured for a measured catalogue,
  otherwise modelled on the ``phone`` device for the user's prompt (4 bytes per token) and 32
  output tokens.

Delays, channels and the edge side are the scenario's own. The instance's ``meta`` records
the catalogue, the variant and the source of each figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mecopt.variants.catalogue import catalogue
from mecopt.variants.variant import Variant

__all__ = ["apply_variants", "pick_variant"]


def pick_variant(name: str, variant: str | None = None) -> tuple[Variant, Variant]:
    """(device variant, edge reference) of catalogue ``name``.

    Raises
    ------
    ValueError
        If ``variant`` is not in the catalogue, or no ECLD variant exists for the default.
    """
    variants = catalogue(name)
    if variant is None:
        chosen = next((v for v in variants if "ecld" in v.name.lower()), None)
        if chosen is None:
            raise ValueError(f"variants = {name!r}: no ECLD variant; pass variant=NAME")
    else:
        chosen = next((v for v in variants if v.name.lower() == variant.lower()), None)
        if chosen is None:
            valid = ", ".join(v.name for v in variants)
            raise ValueError(f"variant = {variant!r} is not in catalogue {name!r}; valid: {valid}")
    reference = _reference(variants)
    for v in (chosen, reference):
        if not (np.isfinite(v.accuracy.value) and np.isfinite(v.hallucination.value)):
            raise ValueError(f"variant {v.name}: accuracy or hallucination unknown")
    return chosen, reference


def _reference(variants: list[Variant]) -> Variant:
    """The edge model: the catalogue's row measured as the reference, else its largest."""
    marked = [v for v in variants if str(v.measured.get("recipe", "")).startswith("reference")]
    return marked[0] if marked else max(variants, key=lambda v: v.storage_bytes)


def apply_variants(fields: dict[str, Any], name: str, variant: str | None = None) -> dict[str, Any]:
    """Return scenario ``fields`` with the device model's figures taken from catalogue ``name``."""
    chosen, ref = pick_variant(name, variant)
    out = dict(fields)
    acc = np.asarray(out["acc_local"], dtype=float)
    out["acc_local"] = np.clip(acc * chosen.accuracy.value / max(acc.mean(), 1e-12), 0.0, 1.0)
    n = acc.shape[0]
    out["hall_local"] = np.full(n, chosen.hallucination.value)
    out["hall_edge"] = np.full(n, ref.hallucination.value)
    if "energy_j" in chosen.measured:
        out["local_energy"] = np.full(n, float(chosen.measured["energy_j"]))
        energy_source = "measured"
    else:
        tokens = np.maximum(1, np.rint(np.asarray(out["prompt_bits"]) / 32.0)).astype(int)
        out["local_energy"] = np.array([chosen.energy_j("phone", int(t), 32) for t in tokens])
        energy_source = "modelled"
    out["meta"] = {
        **out.get("meta", {}),
        "variants": name,
        "variant": chosen.name,
        "edge_variant": ref.name,
        "variant_sources": {
            "accuracy": chosen.accuracy.source,
            "hallucination": chosen.hallucination.source,
            "hall_edge": ref.hallucination.source,
            "local_energy": energy_source,
        },
    }
    return out
