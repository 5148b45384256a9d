"""Structured pruning of a transformers Llama model by slicing heads and MLP channels.

The pruned model is a genuinely smaller ``LlamaForCausalLM``: its config has fewer attention
heads (whole key-value groups are removed, so grouped-query attention stays valid) and a
narrower MLP, and its weight matrices are sliced copies, so it saves and loads as an ordinary
model. Every layer keeps the same number of heads and channels (the config is uniform), chosen
per layer by an activation-based importance score on a calibration batch:

- a key-value group scores the mean norm of its heads' contribution to the attention output,
  ``|| x_h W_o[:, h]^T ||`` averaged over calibration tokens;
- an MLP channel scores ``mean |act(gate) * up| * || W_down[:, c] ||``.

(torch-pruning's dependency graph does not terminate on transformers' Llama here, so the
slicing follows the config directly.)
"""

from __future__ import annotations

import copy
import math
from typing import Any

from mecopt.measure._deps import import_torch, import_transformers

__all__ = ["importance_scores", "prune_llama", "pruned_shape"]


def pruned_shape(config: Any, prune: float) -> tuple[int, int]:
    """Key-value groups and MLP channels kept per layer when ``prune`` of them are removed.

    Raises
    ------
    ValueError
        If ``prune`` is outside [0, 1).
    """
    if not 0.0 <= prune < 1.0:
        raise ValueError(f"prune = {prune!r}: the pruning ratio must be in [0, 1)")
    kv = config.num_key_value_heads
    keep_kv = max(1, round(kv * (1.0 - prune)))
    keep_ch = max(1, round(config.intermediate_size * (1.0 - prune)))
    return keep_kv, keep_ch


def _head_dim(config: Any) -> int:
    return getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads


def importance_scores(model: Any, input_ids: Any, attention_mask: Any) -> list[dict[str, Any]]:
    """Per layer: importance of each key-value group and of each MLP channel.

    Parameters
    ----------
    model
        A ``LlamaForCausalLM``.
    input_ids, attention_mask
        A calibration batch (padded positions are ignored).

    Returns
    -------
    list of dict
        One per layer with tensors ``"groups"`` (num_key_value_heads,) and ``"channels"``
        (intermediate_size,).
    """
    torch = import_torch()
    cfg = model.config
    hd = _head_dim(cfg)
    n_heads, n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
    per_group = n_heads // n_kv
    mask = attention_mask.bool()
    captured: dict[tuple[int, str], Any] = {}
    hooks = []
    for i, layer in enumerate(model.model.layers):
        def grab(name, idx=i):
            def hook(_module, args):
                captured[(idx, name)] = args[0].detach()
            return hook
        hooks.append(layer.self_attn.o_proj.register_forward_pre_hook(grab("attn")))
        hooks.append(layer.mlp.down_proj.register_forward_pre_hook(grab("mlp")))
    try:
        with torch.no_grad():
            model(input_ids=input_ids, attention_mask=attention_mask)
    finally:
        for h in hooks:
            h.remove()
    out = []
    for i, layer in enumerate(model.model.layers):
        x = captured[(i, "attn")][mask]  # (tokens, heads * hd)
        wo = layer.self_attn.o_proj.weight  # (hidden, heads * hd)
        head = torch.stack(
            [
                (x[:, h * hd : (h + 1) * hd] @ wo[:, h * hd : (h + 1) * hd].T).norm(dim=1).mean()
                for h in range(n_heads)
            ]
        )
        groups = head.reshape(n_kv, per_group).sum(dim=1)
        a = captured[(i, "mlp")][mask].abs().mean(dim=0)
        channels = a * layer.mlp.down_proj.weight.norm(dim=0)
        out.append({"groups": groups, "channels": channels})
    return out


def prune_llama(model: Any, prune: float, input_ids: Any, attention_mask: Any) -> Any:
    """Return a smaller copy of ``model`` with ``prune`` of its heads and MLP channels removed.

    Parameters
    ----------
    model
        A ``LlamaForCausalLM`` (left unchanged).
    prune
        Share of key-value groups (with their query heads) and of MLP channels to remove, in
        [0, 1); counts are rounded, at least one of each is kept.
    input_ids, attention_mask
        Calibration batch for :func:`importance_scores`.

    Returns
    -------
    LlamaForCausalLM
        The pruned model, in evaluation mode, with its own (smaller) config.

    Raises
    ------
    ValueError
        If ``prune`` is outside [0, 1).
    """
    torch = import_torch()
    transformers = import_transformers()
    cfg = model.config
    keep_kv, keep_ch = pruned_shape(cfg, prune)
    hd = _head_dim(cfg)
    per_group = cfg.num_attention_heads // cfg.num_key_value_heads
    scores = importance_scores(model, input_ids, attention_mask)
    new_cfg = copy.deepcopy(cfg)
    new_cfg.num_attention_heads = keep_kv * per_group
    new_cfg.num_key_value_heads = keep_kv
    new_cfg.head_dim = hd
    new_cfg.intermediate_size = keep_ch
    small = transformers.LlamaForCausalLM(new_cfg)
    state = model.state_dict()
    new_state = {}
    for i, s in enumerate(scores):
        groups = torch.sort(torch.topk(s["groups"], keep_kv).indices).values
        chans = torch.sort(torch.topk(s["channels"], keep_ch).indices).values
        q_rows = torch.cat(
            [torch.arange(g * per_group * hd, (g + 1) * per_group * hd) for g in groups.tolist()]
        )
        kv_rows = torch.cat([torch.arange(g * hd, (g + 1) * hd) for g in groups.tolist()])
        p = f"model.layers.{i}."
        new_state[p + "self_attn.q_proj.weight"] = state[p + "self_attn.q_proj.weight"][q_rows]
        new_state[p + "self_attn.k_proj.weight"] = state[p + "self_attn.k_proj.weight"][kv_rows]
        new_state[p + "self_attn.v_proj.weight"] = state[p + "self_attn.v_proj.weight"][kv_rows]
        new_state[p + "self_attn.o_proj.weight"] = state[p + "self_attn.o_proj.weight"][:, q_rows]
        new_state[p + "mlp.gate_proj.weight"] = state[p + "mlp.gate_proj.weight"][chans]
        new_state[p + "mlp.up_proj.weight"] = state[p + "mlp.up_proj.weight"][chans]
        new_state[p + "mlp.down_proj.weight"] = state[p + "mlp.down_proj.weight"][:, chans]
    for key, value in state.items():
        if key not in new_state:
            new_state[key] = value
    missing, unexpected = small.load_state_dict(new_state, strict=False)
    if unexpected or [m for m in missing if "rotary" not in m and m != "lm_head.weight"]:
        raise RuntimeError(f"pruned state does not match: missing {missing}, extra {unexpected}")
    if getattr(new_cfg, "tie_word_embeddings", False):
        small.tie_weights()
    kept = sum(p.numel() for p in small.parameters())
    if not math.isfinite(kept) or kept <= 0:  # pragma: no cover - defensive
        raise RuntimeError("pruned model has no parameters")
    return small.eval()
