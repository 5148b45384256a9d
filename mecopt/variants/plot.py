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


def save_measured_plot(
    rows: Sequence[dict[str, Any]],
    path: str | os.PathLike[str],
    *,
    title: str = "Measured compressed variants of the bAbI-tiny edge model",
) -> Path:
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
        axes[0].scatter(
            kb,
            r["generalisation"],
            facecolors="none",
            edgecolors=kw["color"],
            marker=kw["marker"],
            s=55,
        )
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
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(out, dpi=150)
    fig.savefig(out.with_suffix(".pdf"))
    plt.close(fig)
    return out


def save_pareto_plot(
    variants: Sequence[Any],
    front: Sequence[Any],
    path: str | os.PathLike[str],
    *,
    title: str = "",
) -> Path:
    """Accuracy and hallucination versus storage, Pareto front highlighted, sources marked.

    Filled markers are published figures, open markers modelled ones, squares measured.
    Writes ``path`` and a PDF beside it; returns ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    on_front = {v.name for v in front}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharex=True)
    for ax, key, label in (
        (axes[0], "accuracy", "accuracy (fraction)"),
        (axes[1], "hallucination", "hallucination rate (fraction)"),
    ):
        for v in variants:
            fig_ = getattr(v, key)
            if fig_.value != fig_.value:  # NaN: no score
                continue
            color = "C3" if v.name in on_front else "C0"
            marker = "s" if fig_.source == "measured" else "o"
            face = color if fig_.source != "modelled" else "none"
            ax.scatter(
                v.storage_bytes / 1e9,
                fig_.value,
                marker=marker,
                s=45,
                facecolors=face,
                edgecolors=color,
            )
            ax.annotate(
                v.name.split("-", 2)[-1],
                (v.storage_bytes / 1e9, fig_.value),
                fontsize=6,
                xytext=(3, 2),
                textcoords="offset points",
            )
        pts = sorted((v.storage_bytes / 1e9, getattr(v, key).value) for v in front)
        if pts:
            ax.plot(*zip(*pts, strict=True), color="C3", lw=0.8, alpha=0.6)
        ax.set_xscale("log")
        ax.set_xlabel("storage (GB, log scale)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", ls="", color="C3", label="Pareto front"),
        Line2D([], [], marker="o", ls="", color="C0", label="dominated"),
        Line2D([], [], marker="o", ls="", mfc="none", color="k", label="modelled"),
        Line2D([], [], marker="o", ls="", color="k", label="published"),
        Line2D([], [], marker="s", ls="", color="k", label="measured"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle(f"Variants of {title}: quality versus storage" if title else "Variants")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(out, dpi=150)
    fig.savefig(out.with_suffix(".pdf"))
    plt.close(fig)
    return out
