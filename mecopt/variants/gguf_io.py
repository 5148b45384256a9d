"""Writing compressed Llama models as GGUF files (llama.cpp's format) with the ``gguf`` package.

:func:`write_gguf` stores a transformers ``LlamaForCausalLM`` (pruned or not) as one GGUF file:
the 2-D weights in ``Q8_0`` or ``Q4_0`` (blocks of 32 weights with one float16 scale, as
llama.cpp quantises them; the ``gguf`` package's numpy quantisers) or ``F16``/``F32``, norms in
float32, the query and key projections permuted the way llama.cpp's converter does (the
loader undoes it), and the architecture in the ``llama.*`` metadata (head counts, MLP width,
head dimension), so a pruned model loads back as its own smaller architecture. The tokenizer
metadata can be copied from another GGUF file (the SmolLM2 file the model came from); models
with a tokenizer GGUF cannot describe (the word-level bAbI-tiny ones) keep their tokenizer
files beside the GGUF file, which :func:`mecopt.measure.load_model` then uses.

Loading back is :func:`mecopt.measure.load_model` (transformers' GGUF loader, which
dequantises to float32). The file's size is the storage figure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.errors import MissingDependencyError
from mecopt.measure._deps import import_torch

__all__ = ["GGUF_TYPES", "gguf_tensor_name", "quantised_copy", "write_gguf"]

#: Weight formats :func:`write_gguf` writes for the 2-D weights.
GGUF_TYPES = ("F32", "F16", "Q8_0", "Q4_0")
_FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7}  # llama.cpp's LLAMA_FTYPE_* values
_LAYER = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
_TOP = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}


def _gguf() -> Any:
    try:
        import gguf
    except ImportError:
        raise MissingDependencyError(
            "writing GGUF files needs gguf: pip install 'mecopt[measure]'"
        ) from None
    return gguf


def gguf_tensor_name(name: str) -> str | None:
    """GGUF name of a transformers Llama state-dict key (``None`` for buffers)."""
    if name in _TOP:
        return _TOP[name]
    parts = name.split(".")
    if len(parts) > 3 and parts[0] == "model" and parts[1] == "layers":
        rest = ".".join(parts[3:])
        if rest in _LAYER:
            return f"blk.{parts[2]}.{_LAYER[rest]}"
    return None


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's rotary permutation of a query or key projection (the loader reverses it)."""
    return (
        w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
        .swapaxes(1, 2)
        .reshape(w.shape)
    )


def _copy_tokenizer(writer: Any, source: Path, gguf: Any) -> None:
    reader = gguf.GGUFReader(str(source))
    for field in reader.fields.values():
        if not field.name.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub)


def write_gguf(
    model: Any,
    path: str | os.PathLike[str],
    *,
    weight_type: str = "Q8_0",
    name: str = "mecopt-variant",
    tokenizer_from: str | os.PathLike[str] | None = None,
    tokenizer: Any | None = None,
    fallback: str | None = "F16",
) -> int:
    """Write ``model`` as a GGUF file; return its size in bytes.

    Parameters
    ----------
    model
        A transformers ``LlamaForCausalLM`` (any number of heads, key-value groups and MLP
        channels; the head dimension is kept in the metadata).
    path
        Output file (``.gguf``); its folder is created.
    weight_type
        Format of the 2-D weights: one of :data:`GGUF_TYPES`. ``Q8_0``/``Q4_0`` need every
        row's length to be a multiple of 32.
    name
        ``general.name`` of the file.
    tokenizer_from
        A GGUF file whose ``tokenizer.*`` metadata is copied (the model's original file).
    tokenizer
        A tokenizer to save beside the file instead (its files go to the output's folder).
    fallback
        Format of a 2-D weight whose rows the block format cannot hold (``"F16"`` or
        ``"F32"``, as llama.cpp's quantiser falls back), or ``None`` to refuse it.

    Returns
    -------
    int
        Size of the written file, bytes.

    Raises
    ------
    ValueError
        For an unknown ``weight_type`` or ``fallback``, a model that is not
        Llama-architecture, or (``fallback=None``) a row length the block format cannot hold
        (the message names the tensor).
    MissingDependencyError
        If the ``gguf`` package is not installed.
    """
    if weight_type not in GGUF_TYPES:
        raise ValueError(f"weight_type = {weight_type!r}: must be one of {', '.join(GGUF_TYPES)}")
    if fallback not in (None, "F16", "F32"):
        raise ValueError(f"fallback = {fallback!r}: must be 'F16', 'F32' or None")
    cfg = model.config
    if getattr(cfg, "model_type", None) != "llama":
        raise ValueError(f"model_type = {getattr(cfg, 'model_type', None)!r}: only llama models")
    gguf = _gguf()
    torch = import_torch()

    qtype = getattr(gguf.GGMLQuantizationType, weight_type)
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    rope = getattr(cfg, "rope_parameters", None) or {}
    theta = float(rope.get("rope_theta", getattr(cfg, "rope_theta", 10000.0)))
    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_name(name)
    writer.add_context_length(int(cfg.max_position_embeddings))
    writer.add_embedding_length(int(cfg.hidden_size))
    writer.add_block_count(int(cfg.num_hidden_layers))
    writer.add_feed_forward_length(int(cfg.intermediate_size))
    writer.add_head_count(int(cfg.num_attention_heads))
    writer.add_head_count_kv(int(cfg.num_key_value_heads))
    writer.add_rope_dimension_count(int(head_dim))
    writer.add_key_length(int(head_dim))
    writer.add_value_length(int(head_dim))
    writer.add_rope_freq_base(theta)
    writer.add_layer_norm_rms_eps(float(cfg.rms_norm_eps))
    writer.add_vocab_size(int(cfg.vocab_size))
    writer.add_file_type(_FILE_TYPE[weight_type])
    if tokenizer_from is not None:
        _copy_tokenizer(writer, Path(tokenizer_from), gguf)
    tied = bool(getattr(cfg, "tie_word_embeddings", False))
    for key, value in model.state_dict().items():
        if tied and key == "lm_head.weight":
            continue
        gname = gguf_tensor_name(key)
        if gname is None:
            continue
        arr = value.detach().to(torch.float32).cpu().numpy()
        if gname.endswith("attn_q.weight"):
            arr = _permute(arr, cfg.num_attention_heads)
        elif gname.endswith("attn_k.weight"):
            arr = _permute(arr, cfg.num_key_value_heads)
        if arr.ndim == 1:
            writer.add_tensor(gname, arr.astype(np.float32))
        elif weight_type in ("F32", "F16"):
            writer.add_tensor(gname, arr.astype(np.float32 if weight_type == "F32" else np.float16))
        elif arr.shape[-1] % block:
            if fallback is None:
                raise ValueError(
                    f"{weight_type} needs rows of a multiple of {block} weights; tensor {key} "
                    f"has rows of {arr.shape[-1]}"
                )
            writer.add_tensor(gname, arr.astype(np.float32 if fallback == "F32" else np.float16))
        else:
            data = gguf.quants.quantize(arr, qtype)
            writer.add_tensor(gname, data, raw_shape=data.shape, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if tokenizer is not None:
        tokenizer.save_pretrained(out.parent)
    return out.stat().st_size


def quantised_copy(model: Any, weight_type: str) -> Any:
    """An in-memory copy of ``model`` whose weights are rounded exactly as :func:`write_gguf`
    stores them (quantised and dequantised with the same ``gguf`` routines).

    Loading the written file must give the same model: answers of the two are the check that
    the file round-trips.

    Raises
    ------
    ValueError
        For an unknown ``weight_type``.
    """
    import copy

    if weight_type not in GGUF_TYPES:
        raise ValueError(f"weight_type = {weight_type!r}: must be one of {', '.join(GGUF_TYPES)}")
    gguf = _gguf()
    torch = import_torch()
    out = copy.deepcopy(model)
    qtype = getattr(gguf.GGMLQuantizationType, weight_type)
    with torch.no_grad():
        for key, param in out.named_parameters():  # tied weights once
            if gguf_tensor_name(key) is None or param.ndim != 2:
                continue
            arr = param.detach().to(torch.float32).cpu().numpy()
            block = gguf.GGML_QUANT_SIZES[qtype][0]
            if weight_type == "F16" or (weight_type != "F32" and arr.shape[-1] % block):
                back = arr.astype(np.float16).astype(np.float32)  # F16, or the F16 fallback
            elif weight_type == "F32":
                continue
            else:
                back = gguf.quants.dequantize(gguf.quants.quantize(arr, qtype), qtype)
            param.copy_(torch.from_numpy(np.ascontiguousarray(back, dtype=np.float32)))
    return out.eval()
