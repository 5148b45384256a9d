"""The :class:`Variant` record and :func:`compress`: storage, memory, latency, energy, quality.

Storage is the weight file: each tensor's weights times its format's bits per weight
(:mod:`mecopt.variants.formats`) plus the file metadata. Runtime memory adds the KV cache at a
context length (float16 keys and values), activations and a modelled runtime overhead. On a
:class:`~mecopt.variants.hardware.Device`:

- prefill latency ``= 2 P prompt_tokens / (flops x flops_eff)`` (compute-bound);
- decode latency per token ``= max(bytes read / (bandwidth x bandwidth_eff),
  2 P / (flops x flops_eff))`` where the bytes read are the weights except the embedding
  table (one row is read per token) plus the KV cache of the context (memory-bound);
- energy ``= power_w x (prefill + output_tokens x decode)``.

``P`` is the parameter count without the embedding table. These are ``modelled`` figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mecopt.variants.architecture import BaseModel, base_model
from mecopt.variants.formats import (
    BLOCK_BPW,
    METADATA_BYTES_PER_TOKEN,
    PRESETS,
    GroupFormat,
    preset_tensor_formats,
)
from mecopt.variants.hardware import DEFAULT_POPULATION, Device, DevicePopulation, device
from mecopt.variants.published import BASE_SCORES, Figure, prune_retention, quant_retention

__all__ = ["ECLD_DEFAULT", "MODEL_BITS", "Variant", "compress", "ecld"]

#: Weight widths :func:`compress` accepts (16 = float16, no groups).
MODEL_BITS = (2, 3, 4, 5, 6, 8, 16)
PRUNE_KINDS = ("width", "depth")
TENSOR_CLASSES = ("embeddings", "attention", "mlp", "output")
#: Modelled runtime overhead (buffers, runtime), bytes.
RUNTIME_OVERHEAD_BYTES = 0.3e9
#: MLP widths after width pruning are rounded to a multiple of this (k-quant block size).
CHANNEL_MULTIPLE = 256


@dataclass(frozen=True)
class Variant:
    """A compact model variant: how it was made and its figures in physical units.

    Use :func:`compress` (modelled, from a base model) or a catalogue
    (:func:`mecopt.variants.catalogue`) to make one.
    """

    name: str
    base: BaseModel
    arch: BaseModel
    prune: float
    prune_kind: str
    formats: Mapping[str, str]
    distilled: bool
    storage_bytes: float
    weight_bytes: float
    accuracy: Figure
    hallucination: Figure
    generalisation: Figure
    preset: str | None = None
    storage_source: str = "modelled"
    measured: Mapping[str, Any] = field(default_factory=dict, compare=False)

    # ----------------------------------------------------------------- sizes
    @property
    def parameters(self) -> int:
        """Parameter count after pruning."""
        return self.arch.parameters

    @property
    def bits_per_weight(self) -> float:
        """Mean stored bits per weight (weights only)."""
        return 8.0 * self.weight_bytes / self.parameters

    def runtime_memory(self, context_tokens: int = 4096) -> float:
        """Weights + float16 KV cache + activations at ``context_tokens`` + overhead, bytes.

        Activations (modelled): the float16 hidden state and MLP activation of one layer for
        every context token, ``2 context (hidden + intermediate)`` bytes (layers run one at
        a time); the runtime overhead is :data:`RUNTIME_OVERHEAD_BYTES` (scaled down for
        models under 1 GB).
        """
        if context_tokens < 0:
            raise ValueError(f"context_tokens = {context_tokens}: must be >= 0")
        kv = self.arch.kv_bytes_per_token() * context_tokens
        act = 2.0 * context_tokens * (self.arch.hidden + self.arch.intermediate)
        overhead = RUNTIME_OVERHEAD_BYTES * min(1.0, self.storage_bytes / 1e9)
        return self.storage_bytes + kv + act + overhead

    # --------------------------------------------------------------- devices
    def fits(self, dev: Device | str, context_tokens: int = 4096) -> bool:
        """Does the variant fit the device's usable memory?"""
        d = device(dev)
        return self.runtime_memory(context_tokens) <= d.usable_bytes

    def accessibility(
        self, population: DevicePopulation = DEFAULT_POPULATION, context_tokens: int = 4096
    ) -> float:
        """Share of ``population`` that can host the variant, in [0, 1]."""
        return float(population.accessibility(self.runtime_memory(context_tokens)))

    def _compute_params(self) -> float:
        emb = self.arch.vocab * self.arch.hidden
        return self.parameters - (0 if self.arch.tied else emb)

    def _read_bytes(self) -> float:
        emb_bytes = self.arch.vocab * self.arch.hidden * _bpw(self.formats["embeddings"]) / 8.0
        return self.weight_bytes - (0.0 if self.arch.tied else emb_bytes)

    def prefill_s(self, dev: Device | str, prompt_tokens: int) -> float:
        """Modelled prefill time of ``prompt_tokens`` tokens on ``dev``, seconds."""
        d = device(dev)
        return 2.0 * self._compute_params() * prompt_tokens / (d.flops * d.flops_eff)

    def decode_s(self, dev: Device | str, context_tokens: int = 0) -> float:
        """Modelled time of one decoded token with ``context_tokens`` in the cache, seconds."""
        d = device(dev)
        read = self._read_bytes() + self.arch.kv_bytes_per_token() * context_tokens
        return max(
            read / (d.bandwidth * d.bandwidth_eff),
            2.0 * self._compute_params() / (d.flops * d.flops_eff),
        )

    def latency_s(self, dev: Device | str, prompt_tokens: int, output_tokens: int) -> float:
        """Modelled latency of one query (prefill + decode), seconds."""
        if prompt_tokens < 0 or output_tokens < 0:
            raise ValueError("prompt_tokens and output_tokens must be >= 0")
        mid = prompt_tokens + output_tokens / 2.0
        return self.prefill_s(dev, prompt_tokens) + output_tokens * self.decode_s(dev, int(mid))

    def energy_j(self, dev: Device | str, prompt_tokens: int, output_tokens: int) -> float:
        """Modelled energy of one query on ``dev``: its power times the latency, J."""
        return device(dev).power_w * self.latency_s(dev, prompt_tokens, output_tokens)

    # ----------------------------------------------------------------- views
    def quality(self) -> dict[str, Figure]:
        """Accuracy, hallucination and generalisation with their sources."""
        return {
            "accuracy": self.accuracy,
            "hallucination": self.hallucination,
            "generalisation": self.generalisation,
        }

    def to_dict(self, dev: Device | str | None = None, prompt_tokens: int = 256,
                output_tokens: int = 128) -> dict[str, Any]:
        """JSON-able summary; with ``dev``, its modelled latency and energy there."""
        out: dict[str, Any] = {
            "name": self.name,
            "base": self.base.name,
            "prune": self.prune,
            "prune_kind": self.prune_kind,
            "distilled": self.distilled,
            "preset": self.preset,
            "formats": dict(self.formats),
            "parameters": self.parameters,
            "storage_bytes": self.storage_bytes,
            "storage_source": self.storage_source,
            "bits_per_weight": round(self.bits_per_weight, 4),
            "runtime_memory_bytes": self.runtime_memory(),
            "accessibility": self.accessibility(),
            **{k: f.to_dict() for k, f in self.quality().items()},
        }
        if self.measured:
            out["measured"] = dict(self.measured)
        if dev is not None:
            d = device(dev)
            out["device"] = d.name
            out["latency_s"] = {"value": self.latency_s(d, prompt_tokens, output_tokens),
                                "source": "modelled"}
            out["energy_j"] = {"value": self.energy_j(d, prompt_tokens, output_tokens),
                               "source": "modelled"}
        return out


def _bpw(fmt: str) -> float:
    if fmt in BLOCK_BPW:
        return BLOCK_BPW[fmt]
    bits, _, group = fmt.removeprefix("g").partition("/")
    if group:
        return GroupFormat(int(bits), int(group)).bpw
    return float(bits)


def _pruned_arch(base: BaseModel, prune: float, kind: str) -> BaseModel:
    if kind == "depth":
        layers = max(1, round(base.layers * (1 - prune)))
        return base.scaled(name=f"{base.name}-depth", layers=layers)
    keep_kv = max(1, round(base.kv_heads * (1 - prune)))
    inter = max(CHANNEL_MULTIPLE,
                CHANNEL_MULTIPLE * round(base.intermediate * (1 - prune) / CHANNEL_MULTIPLE))
    return base.scaled(name=f"{base.name}-width", kv_heads=keep_kv, heads=keep_kv * base.gqa,
                       intermediate=inter)


def _class_formats(bits: int | Mapping[str, int], group_size: int) -> dict[str, str]:
    if isinstance(bits, Mapping):
        unknown = sorted(set(bits) - set(TENSOR_CLASSES))
        if unknown:
            raise ValueError(f"bits: unknown tensor class(es) {unknown}; valid: {TENSOR_CLASSES}")
        per = {c: bits.get(c, 16) for c in TENSOR_CLASSES}
    else:
        per = dict.fromkeys(TENSOR_CLASSES, bits)
    for cls, b in per.items():
        if isinstance(b, bool) or b not in MODEL_BITS:
            raise ValueError(f"bits[{cls}] = {b!r}: must be one of {MODEL_BITS}")
    return {c: "F16" if b == 16 else f"g{b}/{group_size}" for c, b in per.items()}


def compress(
    base: BaseModel | str,
    *,
    prune: float = 0.0,
    prune_kind: str = "width",
    bits: int | Mapping[str, int] | None = None,
    group_size: int = 64,
    distill: bool = False,
    preset: str | None = None,
    name: str | None = None,
) -> Variant:
    """Describe a compressed variant of ``base`` (modelled storage, memory, speed, quality).

    Parameters
    ----------
    base
        A :class:`BaseModel` or a name from :func:`mecopt.variants.base_models`.
    prune
        Share of heads and MLP channels (``"width"``) or of layers (``"depth"``) removed, in
        [0, 1). Width pruning removes whole key-value groups and rounds the MLP width to a
        multiple of 256.
    prune_kind
        ``"width"`` or ``"depth"``.
    bits
        Weight bits (one of :data:`MODEL_BITS`; 16 = float16), or a mapping per tensor class
        (``"embeddings"``, ``"attention"``, ``"mlp"``, ``"output"``). Group-wise codes store a
        float16 scale and offset per group. Not with ``preset``; default 16.
    group_size
        Weights per quantisation group; must divide every quantised row.
    distill
        Whether the pruned model was distilled from the base (changes the quality model).
    preset
        A llama.cpp preset (``"q4_k_m"``, ``"q8_0"``, ...) instead of ``bits``.
    name
        Variant name (default: built from the knobs).

    Returns
    -------
    Variant

    Raises
    ------
    ValueError
        For a pruning ratio outside [0, 1), an unknown pruning kind, bits outside the supported
        set, a group size that does not divide a row, or both ``bits`` and ``preset``.
    UnknownNameError
        For an unknown base model or preset.
    """
    b = base_model(base)
    if isinstance(prune, bool) or not isinstance(prune, int | float) or not 0.0 <= prune < 1.0:
        raise ValueError(f"prune = {prune!r}: the pruning ratio must be in [0, 1)")
    if prune_kind not in PRUNE_KINDS:
        raise ValueError(f"prune_kind = {prune_kind!r}: must be 'width' or 'depth'")
    if preset is not None and bits is not None:
        raise ValueError("give either bits or preset, not both")
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group_size = {group_size!r}: must be a whole number >= 1")
    arch = _pruned_arch(b, prune, prune_kind) if prune > 0 else b
    if preset is not None:
        key = preset.lower()
        pairs = preset_tensor_formats(arch, key)
        formats = {c: next((f for t, f in pairs if t.cls == c), "Q6_K") for c in TENSOR_CLASSES}
        weight_bytes = sum(t.size * BLOCK_BPW[f] / 8.0 for t, f in pairs)
    else:
        key = None
        formats = _class_formats(16 if bits is None else bits, group_size)
        weight_bytes = 0.0
        for t in arch.tensors():
            if t.cls == "norm":
                weight_bytes += t.size * 4.0
                continue
            fmt = formats["embeddings" if t.cls == "output" and arch.tied else t.cls]
            if fmt != "F16" and t.cols % group_size:
                raise ValueError(
                    f"group_size = {group_size} does not divide the row length {t.cols} of "
                    f"{t.name} in {arch.name}"
                )
            weight_bytes += t.size * _bpw(fmt) / 8.0
    storage = weight_bytes + METADATA_BYTES_PER_TOKEN * arch.vocab
    removed = 1.0 - arch.parameters / b.parameters
    bpw = 8.0 * weight_bytes / arch.parameters
    quality = _quality(b, removed, prune_kind, distill, bpw)
    label = name or _name(b, prune, prune_kind, distill, key, bits, group_size)
    return Variant(
        name=label, base=b, arch=arch, prune=float(prune), prune_kind=prune_kind,
        formats=formats, distilled=bool(distill), storage_bytes=storage,
        weight_bytes=weight_bytes, preset=key, **quality,
    )


def _name(b, prune, kind, distill, preset, bits, group) -> str:
    parts = [b.name]
    if prune > 0:
        parts.append(f"{kind}{round(100 * prune)}{'-kd' if distill else ''}")
    if preset:
        parts.append(preset)
    elif isinstance(bits, Mapping):
        parts.append("mixed-g" + str(group))
    elif bits not in (None, 16):
        parts.append(f"int{bits}-g{group}")
    else:
        parts.append("f16")
    return "-".join(parts)


def _quality(b: BaseModel, removed: float, kind: str, distill: bool, bpw: float) -> dict:
    scores = BASE_SCORES.get(b.name)
    if scores is None:
        nan = Figure(math.nan, "modelled", f"no published score for {b.name}")
        return {"accuracy": nan, "hallucination": nan, "generalisation": nan}
    rq, q_src = quant_retention(bpw) if bpw < 15.9 else (1.0, "published")
    out = {}
    for metric in ("accuracy", "generalisation", "hallucination"):
        rp, p_src = prune_retention(removed, kind, metric, distill)
        if metric == "hallucination":
            value = min(1.0, scores[metric] * rp / max(rq, 1e-9))
        else:
            value = scores[metric] * rp * rq
        # Published only where the value itself was published: the quantisation retention
        # is a published WinoGrande ratio transferred to this metric, hence modelled.
        quantised = bpw < 15.9
        src = "published" if p_src == "published" and not quantised else "modelled"
        note = (f"pruning ratio {rp:.3f} ({p_src}), quantisation retention {rq:.3f} "
                f"({q_src} WinoGrande ratio)")
        out[metric] = Figure(float(value), src, note)
    return out


#: The ECLD default knobs (documented): width pruning of 35 % of the key-value groups (8 -> 5)
#: and MLP channels (14336 -> 9216), distillation, 4-bit group-wise codes (group 64, float16
#: scale and offset: 4.5 bits per weight) for embeddings, attention and MLP, 6-bit for the
#: output matrix. For Llama-3.1-8B this gives 3.24 GB against the published 3.3 GB.
ECLD_DEFAULT: dict[str, Any] = {
    "prune": 0.35,
    "prune_kind": "width",
    "bits": {"embeddings": 4, "attention": 4, "mlp": 4, "output": 6},
    "group_size": 64,
    "distill": True,
}


def ecld(base: BaseModel | str = "Llama-3.1-8B", **changes: Any) -> Variant:
    """The ECLD default variant of ``base`` (:data:`ECLD_DEFAULT`, knobs overridable)."""
    knobs = {**ECLD_DEFAULT, **changes}
    name = knobs.pop("name", None) or f"{base_model(base).name}-ecld"
    return compress(base, name=name, **knobs)


_ = PRESETS  # re-exported through mecopt.variants
