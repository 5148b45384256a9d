"""Named variant catalogues: modelled big-model catalogues and the measured ``babi-tiny``.

- ``"llama-3.1-8b"``, ``"mistral-nemo-12b"``, ``"qwen3-8b"``, ``"llama-3.2-3b"``,
  ``"llama-3.2-1b"``: the float16 base, the llama.cpp presets, width and depth pruning with and
  without distillation, and the ECLD default (:func:`mecopt.variants.ecld`); storage, memory,
  speed and energy modelled, quality published where a source exists (see
  :mod:`mecopt.variants.published`).
- ``"babi-tiny"``: the real compressed variants of the bAbI-tiny edge model, measured by
  ``benchmarks/variants/build_babi_tiny.py`` (storage = the saved file; accuracy,
  hallucination, generalisation measured on held-out questions).
- ``"smollm2"``: real compressed variants of the pretrained SmolLM2-135M-Instruct, measured
  the same way by ``benchmarks/variants/smollm2/build_smollm2.py``.
"""

from __future__ import annotations

import math
from functools import lru_cache

from mecopt.errors import UnknownNameError
from mecopt.variants.architecture import BaseModel, base_models
from mecopt.variants.catalogue_io import CATALOGUE_DIR, read_measured_catalogue
from mecopt.variants.published import Figure
from mecopt.variants.variant import Variant, compress, ecld

__all__ = ["available_catalogues", "catalogue"]

_PRESETS = ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0", "q3_k_m", "q3_k_s", "q2_k")


def _modelled(base: str) -> list[Variant]:
    out = [compress(base, name=f"{base}-f16")]
    out += [compress(base, preset=p, name=f"{base}-{p}") for p in _PRESETS]
    for kind, ratio in (("width", 0.35), ("depth", 0.5)):
        tag = f"{kind}{round(100 * ratio)}"
        out.append(compress(base, prune=ratio, prune_kind=kind, name=f"{base}-{tag}"))
        out.append(compress(base, prune=ratio, prune_kind=kind, distill=True,
                            name=f"{base}-{tag}-kd"))
        out.append(compress(base, prune=ratio, prune_kind=kind, distill=True, preset="q4_k_m",
                            name=f"{base}-{tag}-kd-q4_k_m"))
    out.append(ecld(base))
    return out


def _measured_base(provenance: dict) -> BaseModel:
    """The base model of a measured catalogue (defaults: the bAbI-tiny edge model)."""
    arch = provenance.get("architecture", {})
    return BaseModel(
        str(arch.get("name", "babi-tiny-edge")), int(arch.get("layers", 3)),
        int(arch.get("hidden", 96)), int(arch.get("heads", 4)), int(arch.get("kv_heads", 4)),
        int(arch.get("head_dim", 24)), int(arch.get("intermediate", 192)),
        int(arch.get("vocab", 64)), bool(arch.get("tied", True)),
        str(arch.get("source", "benchmarks/uncertainty/train_babi_tiny.py (edge model)")),
    )


def _measured(name: str) -> list[Variant]:
    data = read_measured_catalogue(CATALOGUE_DIR / f"{name}.json")
    base = _measured_base(data["provenance"])
    out = []
    for r in data["rows"]:
        keep = 1.0 - float(r["prune"])
        kv = max(1, round(base.kv_heads * keep))
        arch = base.scaled(
            name=r["name"], kv_heads=kv, heads=kv * base.gqa,
            intermediate=max(1, round(base.intermediate * keep)),
        ) if r["prune"] > 0 else base
        bits = int(r["bits"])
        fmt = r.get("format") or {16: "F16", 32: "F32"}.get(
            bits, f"g{bits}/{r.get('group_size')}"
        )

        def fig(key: str, row=r) -> Figure:
            v = row.get(key)
            return Figure(math.nan if v is None else float(v), "measured")

        out.append(Variant(
            name=r["name"], base=base, arch=arch, prune=float(r["prune"]),
            prune_kind="width",
            formats=dict.fromkeys(("embeddings", "attention", "mlp", "output"), fmt),
            distilled=r["origin"] == "distilled", storage_bytes=float(r["storage_bytes"]),
            weight_bytes=float(r["storage_bytes"]), accuracy=fig("accuracy"),
            hallucination=fig("hallucination"), generalisation=fig("generalisation"),
            storage_source="measured",
            measured={k: r[k] for k in ("recipe", "origin", "auroc", "latency_s", "energy_j",
                                        "hallucination_hard", "n_test", "n_hard", "parameters",
                                        "memory_bytes", "format", "container") if k in r},
        ))
    return out


_MODELLED = {m.lower(): m for m in base_models()}


def available_catalogues() -> list[str]:
    """Names accepted by :func:`catalogue`."""
    measured = sorted(p.stem for p in CATALOGUE_DIR.glob("*.json"))
    return sorted(_MODELLED) + measured


@lru_cache(maxsize=16)
def _cached(key: str) -> tuple[Variant, ...]:
    if key in _MODELLED:
        return tuple(_modelled(_MODELLED[key]))
    return tuple(_measured(key))


def catalogue(name: str) -> list[Variant]:
    """The variants of catalogue ``name`` (see :func:`available_catalogues`).

    Raises
    ------
    UnknownNameError
        For an unknown name; the message lists the valid ones.
    """
    key = str(name).lower()
    if key not in available_catalogues():
        raise UnknownNameError(
            f"unknown variant catalogue {name!r}; valid: {', '.join(available_catalogues())}"
        )
    return list(_cached(key))
