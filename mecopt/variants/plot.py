"""Plots of variant catalogues: quality versus storage (PNG and vector PDF)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["save_measured_plot"]

_MARKERS = {
    "reference": "o", "quantisation only": "s", "pruning only": "v",
    "pruning + fine-tuning": "<", "pruning + distillation": "^",
    "pruning + distillation + quantisation": "*", "same size": "D",
}  # fmt: skip


def _marker(recipe: str) -> str:
    return next((m for k, m in _MARKERS.items() if recipe.startswith(k)), "o")


def save_measured_plot(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Accuracy, generalisation and hallucination versus storage of measured variants.

    Writes ``path`` and the same figure as PDF beside it; returns ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    recipes = list(dict.fromkeys(r["recipe"] for r in rows))
    colors = {rc: f"C{i}" for i, rc in enumerate(recipes)}
    for r in rows:
        kb = r["storage_bytes"] / 1e3
        kw = {"color": colors[r["recipe"]], "marker": _marker(r["recipe"]), "s": 55}
        axes[0].scatter(kb, r["accuracy"], label=r["recipe"], **kw)
        axes[0].scatter(kb, r["generalisation"], facecolors="none", edgecolors=kw["color"],
                        marker=kw["marker"], s=55)
        axes[1].scatter(kb, r["hallucination"], **kw)
        for ax, y in ((axes[0], r["accuracy"]), (axes[1], r["hallucination"])):
            ax.annotate(r["name"], (kb, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    axes[0].set_ylabel("accuracy (filled: held-out, open: harder split)")
    axes[1].set_ylabel("hallucination rate (share of answers)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("storage (kB, weights file, log scale)")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=False))
    fig.legend(uniq.values(), uniq.keys(), loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle("Measured compressed variants of the bAbI-tiny edge model")
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(out, dpi=150)
    fig.savefig(out.with_suffix(".pdf"))
    plt.close(fig)
    return out
