"""Plots of single-instance comparisons (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import LogFormatter

from mecopt.compare import Comparison
from mecopt.instance import Instance


class PlainLogFormatter(LogFormatter):
    """Tick labels of a log axis as plain numbers (``60``, ``0.2``), never ``6x10^1``.

    It labels the same ticks as matplotlib's log formatter (minor ticks too when the axis
    spans few decades), only the text differs.
    """

    def __call__(self, x: float, pos: int | None = None) -> str:
        shown = super().__call__(x, pos)
        if not shown:
            return ""
        return f"{x:,.0f}" if x >= 1e4 else f"{x:g}"


def plain_log_ticks(axis: Any) -> None:
    """Plain-number tick labels on a log-scaled ``axis`` (``ax.xaxis`` or ``ax.yaxis``)."""
    axis.set_major_formatter(PlainLogFormatter())
    axis.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


def save_figure(fig: Any, path: str | Path) -> list[Path]:
    """Write ``fig`` to ``path`` (format from the suffix; a PNG also gets a vector PDF
    beside it), close it and return the files written."""
    import matplotlib.pyplot as plt

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150)
    written = [out]
    if out.suffix.lower() == ".png":
        written.append(out.with_suffix(".pdf"))
        fig.savefig(written[-1])
    plt.close(fig)
    return written


def describe(inst: Instance) -> str:
    """A title in words: scenario, N, M, tau, interference, accuracy target."""
    scen = inst.meta.get("scenario", "instance")
    parts = [
        f"{scen}: N = {inst.n_users} users, M = {inst.n_servers} edge servers",
        "no uncertainty rule" if inst.tau is None else f"tau = {inst.tau:g}",
        f"interference {inst.interference}",
    ]
    if inst.min_accuracy is not None:
        parts.append(f"accuracy target {100 * inst.min_accuracy:g} %")
    if "seed" in inst.meta:
        parts.append(f"seed {inst.meta['seed']}")
    return ", ".join(parts)


def plot_comparison(
    comparison: Comparison, path: str | Path, *, title: str = "", min_accuracy: float | None = None
) -> list[Path]:
    """Mean delay (bars) and accuracy (points) per solver, with the best proven bound.

    Parameters
    ----------
    comparison
        The result of :func:`mecopt.compare.compare`.
    path
        Output file; the format follows the suffix (``.png``, ``.pdf``, ``.svg``). A PNG is
        also written as vector PDF beside it.
    title
        Figure title (words; see :func:`describe`).
    min_accuracy
        The instance's accuracy target, drawn as a dashed line.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in comparison.rows() if r["mean_delay_ms"] is not None]
    names = [r["solver"] for r in rows]
    x = np.arange(len(rows))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.6), constrained_layout=True)
    colors = {"optimal": "tab:blue", "feasible": "tab:orange"}
    bars = ax1.bar(
        x,
        [r["mean_delay_ms"] for r in rows],
        color=[colors.get(r["status"], "lightgrey") for r in rows],
    )
    for bar, r in zip(bars, rows, strict=True):
        if r["status"] not in colors:
            bar.set_hatch("//")
    handles = [
        Patch(color="tab:blue", label="proven optimal"),
        Patch(color="tab:orange", label="feasible"),
        Patch(facecolor="lightgrey", hatch="//", label="violates a constraint"),
    ]
    if comparison.best_bound is not None:
        handles.append(
            ax1.axhline(
                comparison.best_bound * 1e3, color="k", ls="--", lw=1, label="best proven bound"
            )
        )
    ax1.set_ylabel("mean delay per user (ms)")
    ax1.set_title("Mean delay", fontsize=10)
    ax2.plot(
        x,
        [100 * (r["accuracy"] or 0.0) for r in rows],
        "o",
        color="tab:green",
        label="served accuracy",
    )
    if min_accuracy is not None:
        ax2.axhline(
            100 * min_accuracy,
            color="k",
            ls="--",
            lw=1,
            label=f"accuracy target {100 * min_accuracy:g} %",
        )
    ax2.set_ylabel("mean served accuracy (%)")
    ax2.set_title("Accuracy", fontsize=10)
    ax2.grid(True, axis="y", alpha=0.3)
    for ax in (ax1, ax2):
        ax.set_xticks(x, names, rotation=45, ha="right")
    # Legends below the panels, so they never cover a bar or a point.
    fig.legend(
        handles=handles + ax2.get_legend_handles_labels()[0],
        loc="outside lower center",
        ncol=6,
        fontsize=8,
        frameon=False,
    )
    fig.suptitle((title + "\n" if title else "") + "measured on this machine", fontsize=10)
    return save_figure(fig, path)
