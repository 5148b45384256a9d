"""Plots of single-instance comparisons (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

from mecopt.compare import Comparison


def plot_comparison(comparison: Comparison, path: str | Path, *, title: str = "") -> Path:
    """Bar charts of mean delay and accuracy per solver, with the best proven bound.

    Parameters
    ----------
    comparison
        The result of :func:`mecopt.compare.compare`.
    path
        Output file; the format follows the suffix (``.png``, ``.pdf``, ``.svg``).
    title
        Figure title.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in comparison.rows() if r["mean_delay_ms"] is not None]
    names = [r["solver"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    colors = {"optimal": "tab:blue", "feasible": "tab:orange"}
    bars = ax1.bar(names, [r["mean_delay_ms"] for r in rows],
                   color=[colors.get(r["status"], "lightgrey") for r in rows])
    for bar, r in zip(bars, rows, strict=True):
        if r["status"] not in colors:
            bar.set_hatch("//")
    if comparison.best_bound is not None:
        ax1.axhline(comparison.best_bound * 1e3, color="k", ls="--", lw=1,
                    label="best proven bound")
        ax1.legend(loc="lower right")
    ax1.set_ylabel("mean delay (ms)")
    ax1.set_title("Mean delay (blue: proven optimal; grey: violates a constraint)",
                  fontsize=10)
    ax2.bar(names, [100 * (r["accuracy"] or 0.0) for r in rows], color="tab:green")
    ax2.set_ylabel("served accuracy (%)")
    ax2.set_title("Accuracy")
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", rotation=45)
        for lab in ax.get_xticklabels():
            lab.set_horizontalalignment("right")
    if title:
        fig.suptitle(title)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
