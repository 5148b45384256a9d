"""Reliability plot: accuracy of both models versus the device's alpha."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mecopt.profiles.profile import Profile

__all__ = ["plot_reliability", "save_reliability_plot"]


def plot_reliability(profile: Profile, ax: Any = None, *, bins: int = 10) -> Any:
    """Draw binned accuracy (with 95 % Wilson intervals) and the fitted curves versus alpha.

    Parameters
    ----------
    profile
        The profile to draw.
    ax
        A matplotlib ``Axes``; a new figure's axes if ``None``.
    bins
        Number of equal-width alpha bins.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(7.4, 5.2), layout="constrained").add_subplot()
    table = profile.table(bins)
    grid = np.linspace(0.0, 1.0, 201)
    ok = table.count > 0
    centre = 0.5 * (table.edges[:-1] + table.edges[1:])
    x = np.where(np.isnan(table.alpha_mean), centre, table.alpha_mean)[ok]
    for label, acc, lo, hi, curve, colour, dx in (
        (
            "device (local)",
            table.acc_local,
            table.local_lo,
            table.local_hi,
            profile.curve_local,
            "tab:blue",
            -0.006,
        ),
        (
            "edge",
            table.acc_edge,
            table.edge_lo,
            table.edge_hi,
            profile.curve_edge,
            "tab:orange",
            0.006,
        ),
    ):
        ax.errorbar(
            x + dx,
            acc[ok],
            yerr=[acc[ok] - lo[ok], hi[ok] - acc[ok]],
            fmt="o",
            color=colour,
            capsize=3,
            label=f"{label}: binned, 95 % Wilson interval",
        )
        ax.plot(grid, curve(grid), color=colour, alpha=0.8, label=f"{label}: fitted curve")
    lo_a, hi_a = float(profile.records.alpha.min()), float(profile.records.alpha.max())
    for a, b in ((0.0, lo_a), (hi_a, 1.0)):
        if b > a:
            ax.axvspan(a, b, color="0.85", alpha=0.6, lw=0)
    ax.axvline(lo_a, color="0.4", lw=0.8, ls=":")
    ax.axvline(hi_a, color="0.4", lw=0.8, ls=":",
               label=f"measured alpha range [{lo_a:.3g}, {hi_a:.4g}]; flat beyond")
    counts = ax.twinx()
    counts.bar(centre, table.count, width=np.diff(table.edges) * 0.9, color="grey", alpha=0.15)
    counts.set_ylabel("queries per bin", color="grey")
    ax.set_zorder(counts.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("alpha, device model's margin uncertainty (dimensionless)")
    ax.set_ylabel("accuracy (fraction correct)")
    tag = ", SYNTHETIC" if profile.synthetic else ", measured"
    ax.set_title(f"Profile {profile.name}: accuracy versus uncertainty "
                 f"({len(profile)} queries{tag})", fontsize=10)
    # Below the axes, so the legend never covers data.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize="small",
              frameon=False)
    return ax


def save_reliability_plot(profile: Profile, path: str | Path, *, bins: int = 10) -> Path:
    """Draw :func:`plot_reliability` and save it to ``path`` (format from the suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ax = plot_reliability(profile, bins=bins)
    ax.figure.savefig(path, dpi=120)
    return path
