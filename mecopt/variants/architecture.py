"""Base LLM architectures from their public configurations, and their weight tensors.

Each :class:`BaseModel` holds the figures of the model's public ``config.json`` (layers,
hidden size, attention and key-value heads, head dimension, MLP width, vocabulary, tied
embeddings). :meth:`BaseModel.tensors` lists its weight matrices with their tensor class
(embeddings, attention, MLP, output) and layer, which is what the storage model sizes.
Parameter counts follow exactly; they match the published counts (Llama-3.1-8B 8.03 B,
Qwen3-8B 8.19 B, Mistral-NeMo-12B 12.25 B, Llama-3.2-1B 1.24 B, Llama-3.2-3B 3.21 B).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mecopt.errors import UnknownNameError

__all__ = ["BaseModel", "Tensor", "base_model", "base_models"]


@dataclass(frozen=True)
class Tensor:
    """One weight matrix: its name (GGUF style), class, layer (-1 outside blocks) and shape."""

    name: str
    cls: str  # "embeddings", "attention", "mlp", "output", "norm"
    layer: int
    rows: int
    cols: int

    @property
    def size(self) -> int:
        """Number of weights."""
        return self.rows * self.cols


@dataclass(frozen=True)
class BaseModel:
    """A decoder-only transformer (Llama-style: grouped-query attention, gated MLP).

    Attributes
    ----------
    name
        Model name.
    layers, hidden, heads, kv_heads, head_dim, intermediate, vocab
        Architecture, from the public config.
    tied
        Output projection shares the embedding matrix.
    source
        Where the figures come from.
    """

    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    tied: bool
    source: str

    def tensors(self) -> list[Tensor]:
        """Every weight tensor (norm vectors as 1-row tensors of class ``"norm"``)."""
        h, q, kv = self.hidden, self.heads * self.head_dim, self.kv_heads * self.head_dim
        out = [Tensor("token_embd", "embeddings", -1, self.vocab, h)]
        for i in range(self.layers):
            out += [
                Tensor("attn_norm", "norm", i, 1, h),
                Tensor("attn_q", "attention", i, q, h),
                Tensor("attn_k", "attention", i, kv, h),
                Tensor("attn_v", "attention", i, kv, h),
                Tensor("attn_output", "attention", i, h, q),
                Tensor("ffn_norm", "norm", i, 1, h),
                Tensor("ffn_gate", "mlp", i, self.intermediate, h),
                Tensor("ffn_up", "mlp", i, self.intermediate, h),
                Tensor("ffn_down", "mlp", i, h, self.intermediate),
            ]
        out.append(Tensor("output_norm", "norm", -1, 1, h))
        if not self.tied:
            out.append(Tensor("output", "output", -1, self.vocab, h))
        return out

    @property
    def parameters(self) -> int:
        """Parameter count (the tied output counted once)."""
        return sum(t.size for t in self.tensors())

    @property
    def gqa(self) -> int:
        """Query heads per key-value head."""
        return self.heads // self.kv_heads

    def kv_bytes_per_token(self, bytes_per_value: float = 2.0) -> float:
        """KV-cache bytes per token of context (keys and values of every layer)."""
        return 2.0 * self.layers * self.kv_heads * self.head_dim * bytes_per_value

    def scaled(self, **changes: int | str) -> BaseModel:
        """A copy with some architecture fields changed (used by pruning)."""
        return replace(self, **changes)


_HF = "public config.json on the Hugging Face Hub"

_BASE = (
    BaseModel("Llama-3.1-8B", 32, 4096, 32, 8, 128, 14336, 128256, False,
              f"meta-llama/Llama-3.1-8B, {_HF}"),
    BaseModel("Qwen3-8B", 36, 4096, 32, 8, 128, 12288, 151936, False, f"Qwen/Qwen3-8B, {_HF}"),
    BaseModel("Mistral-NeMo-12B", 40, 5120, 32, 8, 128, 14336, 131072, False,
              f"mistralai/Mistral-Nemo-Base-2407, {_HF}"),
    BaseModel("Llama-3.2-1B", 16, 2048, 32, 8, 64, 8192, 128256, True,
              f"meta-llama/Llama-3.2-1B, {_HF}"),
    BaseModel("Llama-3.2-3B", 28, 3072, 24, 8, 128, 8192, 128256, True,
              f"meta-llama/Llama-3.2-3B, {_HF}"),
)  # fmt: skip


def base_models() -> dict[str, BaseModel]:
    """The known base models by name."""
    return {m.name: m for m in _BASE}


def base_model(name: str | BaseModel) -> BaseModel:
    """Look up a base model by name (case-insensitive); a :class:`BaseModel` passes through.

    Raises
    ------
    UnknownNameError
        For an unknown name; the message lists the valid names.
    """
    if isinstance(name, BaseModel):
        return name
    models = {k.lower(): v for k, v in base_models().items()}
    try:
        return models[str(name).lower()]
    except KeyError:
        raise UnknownNameError(
            f"unknown base model {name!r}; valid: {', '.join(base_models())}"
        ) from None
