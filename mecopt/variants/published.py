"""Published quality points of compressed big models, and the documented interpolation.

Accuracy is the 5-shot MMLU score, generalisation the 5-shot GSM8K score (a harder,
multi-step task), and hallucination the share of untruthful answers ``1 - TruthfulQA(0)``,
all as fractions. Sources:

- Base and pruned-and-distilled models: arXiv 2408.11796 (LLM pruning and distillation in
  practice: the Minitron approach), benchmark table: Llama-3.1-8B MMLU 65.3, GSM8K 48.6,
  TruthfulQA 45.0; Llama-3.1-Minitron-4B-Width (hidden 3072, MLP 9216, 4.5 B parameters)
  60.5 / 41.2 / 42.9; -Depth (16 of 32 layers, 4.5 B) 58.7 / 16.8 / 38.2; Mistral-NeMo-12B
  69.0 / 56.4 / 49.8.
- Quantisation: WinoGrande (0-shot) of the Llama-3.1-8B GGUF files by llama.cpp preset
  (Hugging Face model card fedric95/Meta-Llama-3.1-8B-GGUF): Q8_0 74.11, Q4_K_M 73.17,
  Q3_K_M 72.77, Q3_K_S 72.38, Q2_K 68.43. The **retention** ``score(q) / score(Q8_0)`` at each
  file's bits per weight is the published quantisation point.

Interpolation (documented, ``modelled`` between points): a variant's score is
``base x R_prune(removed share, kind) x R_quant(bits per weight)``. ``R_quant`` is
piecewise linear in bits per weight through the published retention points (1 at 8.5 bpw and
above; below 3.17 bpw it continues the last segment's slope, clipped at 0). ``R_prune`` is
linear in the removed parameter share from 1 (nothing removed) through the Minitron point of
its kind (width or depth, 44 % of the parameters removed) and continues that slope beyond it.
Without distillation no published point exists: the loss is modelled as
:data:`UNDISTILLED_LOSS_FACTOR` times the distilled loss. Hallucination follows the same
pruning interpolation between the published TruthfulQA points; quantisation raises it by the
same relative amount as it lowers accuracy (modelled). Every returned figure carries its
source label: ``published`` only where the value itself was published (the base models, the
depth-pruned-and-distilled point); a quantised variant's figures apply a published
WinoGrande retention to another metric and are therefore ``modelled``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "BASE_SCORES", "PRUNE_POINTS", "QUANT_RETENTION", "UNDISTILLED_LOSS_FACTOR", "Figure",
    "prune_retention", "quant_retention",
]  # fmt: skip

SOURCE_MINITRON = "arXiv 2408.11796, benchmark table"
SOURCE_GGUF_EVAL = "Hugging Face model card fedric95/Meta-Llama-3.1-8B-GGUF (WinoGrande 0-shot)"


@dataclass(frozen=True)
class Figure:
    """A value with its source: ``measured``, ``published`` or ``modelled``, and a note."""

    value: float
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.source not in ("measured", "published", "modelled"):
            raise ValueError(f"source = {self.source!r}: measured, published or modelled")

    def to_dict(self) -> dict[str, object]:
        """JSON-able form."""
        v = None if not np.isfinite(self.value) else float(self.value)
        return {"value": v, "source": self.source, "note": self.note}


#: Published scores of base models as fractions: accuracy (MMLU 5-shot), generalisation
#: (GSM8K 5-shot), hallucination (1 - TruthfulQA 0-shot).
BASE_SCORES = {
    "Llama-3.1-8B": {"accuracy": 0.653, "generalisation": 0.486, "hallucination": 0.550},
    "Mistral-NeMo-12B": {"accuracy": 0.690, "generalisation": 0.564, "hallucination": 0.502},
}

#: Published pruned-and-distilled points relative to Llama-3.1-8B: removed parameter share
#: (1 - 4.5 / 8.03) and the score ratios of the Minitron width and depth models.
PRUNE_POINTS = {
    "width": {"removed": 1 - 4.51 / 8.03, "accuracy": 60.5 / 65.3,
              "generalisation": 41.2 / 48.6, "hallucination": (1 - 0.429) / 0.550},
    "depth": {"removed": 1 - 4.51 / 8.03, "accuracy": 58.7 / 65.3,
              "generalisation": 16.8 / 48.6, "hallucination": (1 - 0.382) / 0.550},
}  # fmt: skip

#: Published quantisation retention points: (bits per weight of the GGUF file, retention).
_GGUF_BPW = {"q8_0": 8.54e9 * 8 / 8.03e9, "q4_k_m": 4.92e9 * 8 / 8.03e9,
             "q3_k_m": 4.02e9 * 8 / 8.03e9, "q3_k_s": 3.66e9 * 8 / 8.03e9,
             "q2_k": 3.18e9 * 8 / 8.03e9}  # fmt: skip
_WINO = {"q8_0": 74.1121, "q4_k_m": 73.1650, "q3_k_m": 72.7703, "q3_k_s": 72.3757, "q2_k": 68.4294}
QUANT_RETENTION = tuple(
    sorted((_GGUF_BPW[k], _WINO[k] / _WINO["q8_0"]) for k in _WINO)
)

#: Modelled: pruning without distillation loses this many times the distilled loss.
UNDISTILLED_LOSS_FACTOR = 3.0


def quant_retention(bpw: float) -> tuple[float, str]:
    """Score retention at ``bpw`` bits per weight and its source label."""
    xs = np.array([p[0] for p in QUANT_RETENTION])
    ys = np.array([p[1] for p in QUANT_RETENTION])
    if any(abs(bpw - x) < 0.02 for x in xs):
        return float(np.interp(bpw, xs, ys)), "published"
    if bpw >= xs[-1]:
        return 1.0, "modelled"
    if bpw < xs[0]:
        slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
        return float(max(0.0, ys[0] - slope * (xs[0] - bpw))), "modelled"
    return float(np.interp(bpw, xs, ys)), "modelled"


def prune_retention(removed: float, kind: str, metric: str, distilled: bool) -> tuple[float, str]:
    """Score ratio after removing ``removed`` of the parameters by ``kind`` pruning.

    ``metric`` is ``"accuracy"``, ``"generalisation"`` or ``"hallucination"`` (for which the
    ratio multiplies the untruthful share). Returns the ratio and its source label.
    """
    if removed <= 0:
        return 1.0, "published"
    point = PRUNE_POINTS[kind]
    slope = (point[metric] - 1.0) / point["removed"]
    ratio = 1.0 + slope * removed
    # Published only for depth pruning at the Minitron share: Minitron's width model prunes
    # the hidden size and MLP, while width pruning here removes heads and MLP channels.
    exact = distilled and kind == "depth" and abs(removed - point["removed"]) < 0.01
    if not distilled:
        ratio = 1.0 + UNDISTILLED_LOSS_FACTOR * (ratio - 1.0)
    return float(max(0.0, ratio)), "published" if exact else "modelled"
