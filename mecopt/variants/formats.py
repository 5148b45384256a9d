"""Weight storage formats: llama.cpp block formats, their presets, and generic group-wise codes.

**llama.cpp block formats** (bits per weight from the block layouts in ``ggml``): legacy
blocks of 32 weights with a float16 scale (``Q8_0`` 34 bytes = 8.5 bpw, ``Q4_0`` 4.5,
``Q4_1`` 5.0, ``Q5_0`` 5.5, ``Q5_1`` 6.0) and k-quant super-blocks of 256 weights
(``Q2_K`` 84 bytes = 2.625 bpw, ``Q3_K`` 110 = 3.4375, ``Q4_K`` 144 = 4.5, ``Q5_K`` 176 = 5.5,
``Q6_K`` 210 = 6.5625). Norm vectors stay float32.

**Presets** (``q8_0``, ``q6_k``, ``q5_k_m``, ``q5_k_s``, ``q4_k_m``, ``q4_k_s``, ``q4_0``,
``q3_k_l``, ``q3_k_m``, ``q3_k_s``, ``q2_k``, ``f16``) choose a format per tensor as
llama.cpp's quantiser does for Llama-type models: the output matrix (or the tied embedding)
is ``Q6_K`` in every k-quant and legacy 4/5-bit preset; ``_M`` presets spend ``Q6_K`` on
``attn_v`` and ``ffn_down`` of the layers where ``use_more_bits`` holds (the first and last
eighth and every third layer between); ``q4_k_s`` uses ``Q5_K`` for them in the first eighth;
``q3_k_m``/``q3_k_l`` raise ``attn_v``, ``attn_output`` and ``ffn_down`` to 4/5-bit; ``q2_k``
keeps ``attn_v`` at ``Q4_K`` (grouped-query attention with >= 4 query heads per key-value head)
and ``attn_output``/``ffn_down`` at ``Q3_K``. A GGUF file also holds metadata, dominated by
the tokenizer: :data:`METADATA_BYTES_PER_TOKEN` (fitted: the bf16 GGUF of Llama-3-8B-Instruct
is 16,068,890,912 bytes for 8,030,261,248 parameters, i.e. about 61 bytes per vocabulary entry).

**Published sizes** of the Llama-3.1-8B GGUF files (:data:`PUBLISHED_GGUF_GB`, GB = 1e9 bytes,
llama.cpp release b3472, Hugging Face model card ``fedric95/Meta-Llama-3.1-8B-GGUF``; the same
figures in ``second-state/Meta-Llama-3.1-8B-GGUF``) are the check of this storage model.

**Generic group-wise codes** (``GroupFormat(bits, group_size)``) are the format of the real
pipeline (:mod:`mecopt.variants.packing`): ``bits`` per weight plus a float16 scale and a
float16 offset per group, ``bits + 32 / group_size`` bits per weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mecopt.errors import UnknownNameError
from mecopt.variants.architecture import BaseModel, Tensor

__all__ = [
    "BLOCK_BPW", "METADATA_BYTES_PER_TOKEN", "PRESETS", "PUBLISHED_GGUF_GB", "GroupFormat",
    "preset_storage_bytes", "preset_tensor_formats", "use_more_bits",
]  # fmt: skip

#: Bits per weight of the llama.cpp tensor formats.
BLOCK_BPW = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0,
    "Q8_0": 34 * 8 / 32, "Q4_0": 18 * 8 / 32, "Q4_1": 20 * 8 / 32, "Q5_0": 22 * 8 / 32,
    "Q5_1": 24 * 8 / 32,
    "Q2_K": 84 * 8 / 256, "Q3_K": 110 * 8 / 256, "Q4_K": 144 * 8 / 256, "Q5_K": 176 * 8 / 256,
    "Q6_K": 210 * 8 / 256,
}  # fmt: skip

#: GGUF metadata (tokenizer and header) per vocabulary entry, bytes (fitted, see above).
METADATA_BYTES_PER_TOKEN = 61.0

#: Published GGUF file sizes of Llama-3.1-8B, GB (source in the module docstring).
PUBLISHED_GGUF_GB = {
    "f16": 16.10, "q8_0": 8.54, "q6_k": 6.60, "q5_k_m": 5.73, "q5_k_s": 5.60, "q4_k_m": 4.92,
    "q4_k_s": 4.69, "q4_0": 4.66, "q3_k_l": 4.32, "q3_k_m": 4.02, "q3_k_s": 3.66, "q2_k": 3.18,
}  # fmt: skip
PUBLISHED_GGUF_SOURCE = (
    "Hugging Face model card fedric95/Meta-Llama-3.1-8B-GGUF (llama.cpp b3472); "
    "Q4_0 from second-state/Meta-Llama-3.1-8B-GGUF"
)


@dataclass(frozen=True)
class GroupFormat:
    """Generic group-wise integer codes: ``bits`` per weight, float16 scale + offset per group."""

    bits: int
    group_size: int

    @property
    def bpw(self) -> float:
        """Bits per weight including the group scales and offsets."""
        return self.bits + 32.0 / self.group_size


def use_more_bits(i: int, n: int) -> bool:
    """llama.cpp's choice of layers that get more bits in ``_M`` presets."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def _rule(base: str, overrides: Callable[[Tensor, int, BaseModel], str | None]):
    def fmt(t: Tensor, model: BaseModel) -> str:
        if t.cls == "norm":
            return "F32"
        if t.cls == "output" or (t.cls == "embeddings" and model.tied):
            return "Q6_K" if base not in ("F16", "Q8_0") else base
        return overrides(t, model.layers, model) or base
    return fmt


def _none(t: Tensor, n: int, m: BaseModel) -> str | None:
    return None


def _more(hi: str) -> Callable[[Tensor, int, BaseModel], str | None]:
    def f(t: Tensor, n: int, m: BaseModel) -> str | None:
        if t.name in ("attn_v", "ffn_down") and use_more_bits(t.layer, n):
            return hi
        return None
    return f


def _q4_k_s(t: Tensor, n: int, m: BaseModel) -> str | None:
    if t.name == "attn_v" and t.layer < 4:
        return "Q5_K"
    if t.name == "ffn_down" and t.layer < n // 8:
        return "Q5_K"
    return None


def _q5_k_s(t: Tensor, n: int, m: BaseModel) -> str | None:
    return "Q6_K" if t.name == "ffn_down" and t.layer < n // 8 else None


def _q3_k_m(t: Tensor, n: int, m: BaseModel) -> str | None:
    if t.name == "attn_v":
        return "Q5_K" if t.layer < 2 else "Q4_K"
    if t.name == "attn_output":
        return "Q4_K"
    if t.name == "ffn_down":
        return "Q5_K" if t.layer < n // 16 else "Q4_K"
    return None


def _q3_k_l(t: Tensor, n: int, m: BaseModel) -> str | None:
    return "Q5_K" if t.name in ("attn_v", "attn_output", "ffn_down") else None


def _q2_k(t: Tensor, n: int, m: BaseModel) -> str | None:
    if t.name == "attn_v":
        return "Q4_K" if m.gqa >= 4 else "Q3_K"
    if t.name in ("attn_output", "ffn_down"):
        return "Q3_K"
    return None


#: llama.cpp presets: name -> per-tensor format rule.
PRESETS: dict[str, Callable[[Tensor, BaseModel], str]] = {
    "f16": _rule("F16", _none),
    "q8_0": _rule("Q8_0", _none),
    "q6_k": _rule("Q6_K", _none),
    "q5_k_m": _rule("Q5_K", _more("Q6_K")),
    "q5_k_s": _rule("Q5_K", _q5_k_s),
    "q4_k_m": _rule("Q4_K", _more("Q6_K")),
    "q4_k_s": _rule("Q4_K", _q4_k_s),
    "q4_0": _rule("Q4_0", _none),
    "q3_k_l": _rule("Q3_K", _q3_k_l),
    "q3_k_m": _rule("Q3_K", _q3_k_m),
    "q3_k_s": _rule("Q3_K", _none),
    "q2_k": _rule("Q2_K", _q2_k),
}


def preset_tensor_formats(model: BaseModel, preset: str) -> list[tuple[Tensor, str]]:
    """Each tensor of ``model`` with the llama.cpp format ``preset`` gives it.

    Raises
    ------
    UnknownNameError
        For an unknown preset; the message lists the valid ones.
    """
    key = preset.lower()
    if key not in PRESETS:
        raise UnknownNameError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
    rule = PRESETS[key]
    return [(t, rule(t, model)) for t in model.tensors()]


def preset_storage_bytes(model: BaseModel, preset: str) -> float:
    """GGUF file size of ``model`` in llama.cpp preset ``preset``, bytes (weights + metadata)."""
    weights = sum(t.size * BLOCK_BPW[f] / 8.0 for t, f in preset_tensor_formats(model, preset))
    return weights + METADATA_BYTES_PER_TOKEN * model.vocab
