"""Saving and loading real compressed models: packed low-bit weights in one safetensors file.

A saved variant is a folder with the model's ``config.json``, its tokenizer files and
``weights.safetensors``. Every 2-D weight of the tensor classes chosen for quantisation is
stored as packed codes (``<name>.codes``, uint8) plus float16 group scales and offsets
(:mod:`mecopt.variants.packing`); the other tensors (norms, and everything when ``bits`` is
16 or 32) are stored in float16 or float32. The folder's **storage bytes** is the size of
``weights.safetensors``: the saving shows in the file. Loading dequantises every weight to
float32 and returns an ordinary ``LlamaForCausalLM`` (inference runs on dequantised weights,
so CPU latency does not improve with quantisation here; see the benchmark README).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.measure._deps import import_torch, import_transformers
from mecopt.variants.packing import PackedMatrix, pack_matrix, unpack_matrix

__all__ = ["WEIGHTS_FILE", "load_variant", "save_variant", "tensor_class"]

WEIGHTS_FILE = "weights.safetensors"
_META_FILE = "quantisation.json"
TENSOR_CLASSES = ("embeddings", "attention", "mlp", "output")


def tensor_class(name: str) -> str | None:
    """Tensor class of a Llama state-dict key, or ``None`` for norms and buffers."""
    if name.endswith("embed_tokens.weight"):
        return "embeddings"
    if name == "lm_head.weight":
        return "output"
    if ".self_attn." in name and name.endswith("_proj.weight"):
        return "attention"
    if ".mlp." in name and name.endswith("_proj.weight"):
        return "mlp"
    return None


def _per_class(bits: int | Mapping[str, int]) -> dict[str, int]:
    if isinstance(bits, Mapping):
        unknown = sorted(set(bits) - set(TENSOR_CLASSES))
        if unknown:
            raise ValueError(
                f"bits: unknown tensor class(es) {unknown}; valid: {', '.join(TENSOR_CLASSES)}"
            )
        return {c: int(bits.get(c, 16)) for c in TENSOR_CLASSES}
    return dict.fromkeys(TENSOR_CLASSES, int(bits))


def save_variant(
    model: Any,
    tokenizer: Any,
    folder: str | os.PathLike[str],
    *,
    bits: int | Mapping[str, int] = 32,
    group_size: int = 32,
) -> int:
    """Save ``model`` with its weights stored at ``bits`` (packed below 16); return the bytes.

    Parameters
    ----------
    model
        A ``LlamaForCausalLM``.
    tokenizer
        Its tokenizer (saved alongside).
    folder
        Output folder (created).
    bits
        32 or 16 (float storage), or 2, 3, 4, 8 (packed group-wise codes); or a mapping from
        tensor class (``"embeddings"``, ``"attention"``, ``"mlp"``, ``"output"``) to bits.
    group_size
        Weights per quantisation group along a row; must divide every quantised row.

    Returns
    -------
    int
        Size of the weights file, bytes.

    Raises
    ------
    ValueError
        For unsupported bits, an unknown tensor class or a group size that does not divide a
        row (the message names the tensor).
    """
    from safetensors.numpy import save_file

    torch = import_torch()
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    per_class = _per_class(bits)
    tensors: dict[str, np.ndarray] = {}
    packed_meta: dict[str, dict[str, Any]] = {}
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    for name, value in model.state_dict().items():
        if tied and name == "lm_head.weight":
            continue
        arr = value.detach().to(torch.float32).cpu().numpy()
        cls = tensor_class(name)
        b = per_class.get(cls, 16) if cls is not None else 16
        if b == 32 and cls is None:
            b = 16 if min(per_class.values()) < 16 else 32  # norms follow the float width
        if b in (16, 32):
            tensors[name] = arr.astype(np.float16 if b == 16 else np.float32)
            continue
        try:
            pm = pack_matrix(arr, b, group_size)
        except ValueError as exc:
            raise ValueError(f"{exc} (tensor {name}, shape {tuple(arr.shape)})") from None
        tensors[name + ".codes"] = pm.codes
        tensors[name + ".scale"] = pm.scale
        tensors[name + ".offset"] = pm.offset
        packed_meta[name] = {"shape": list(pm.shape), "bits": b, "group_size": group_size}
    save_file(tensors, str(out / WEIGHTS_FILE))
    model.config.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / _META_FILE).write_text(
        json.dumps({"bits": per_class, "group_size": group_size, "packed": packed_meta}, indent=1),
        encoding="utf-8",
    )
    return (out / WEIGHTS_FILE).stat().st_size


def load_variant(folder: str | os.PathLike[str]) -> tuple[Any, Any]:
    """Load a folder written by :func:`save_variant`: dequantised float32 model and tokenizer.

    Raises
    ------
    FileNotFoundError
        If the folder or its weights file is missing.
    """
    from safetensors.numpy import load_file

    path = Path(folder)
    if not (path / WEIGHTS_FILE).is_file():
        raise FileNotFoundError(f"no {WEIGHTS_FILE} in {path}")
    torch = import_torch()
    transformers = import_transformers()
    meta = json.loads((path / _META_FILE).read_text(encoding="utf-8"))
    raw = load_file(str(path / WEIGHTS_FILE))
    state = {}
    for name, info in meta["packed"].items():
        pm = PackedMatrix(
            raw.pop(name + ".codes"),
            raw.pop(name + ".scale"),
            raw.pop(name + ".offset"),
            tuple(info["shape"]),
            int(info["bits"]),
            int(info["group_size"]),
        )
        state[name] = torch.from_numpy(unpack_matrix(pm))
    for name, arr in raw.items():
        state[name] = torch.from_numpy(arr.astype(np.float32))
    config = transformers.AutoConfig.from_pretrained(path, local_files_only=True)
    model = transformers.LlamaForCausalLM(config)
    missing, unexpected = model.load_state_dict(state, strict=False)
    bad = [m for m in missing if m != "lm_head.weight" and "rotary" not in m]
    if bad or unexpected:
        raise ValueError(
            f"{path}: weights do not match the config (missing {bad}, extra {unexpected})"
        )
    if getattr(config, "tie_word_embeddings", False):
        model.tie_weights()
    tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    return model.to(torch.float32).eval(), tokenizer
