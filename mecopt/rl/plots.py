"""Plots of learned policies: one run's learning curve and seed-averaged curves."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mecopt.rl.features import COST_NAMES


def read_curve(path: str | Path) -> dict[str, np.ndarray]:
    """Columns of a ``curve.csv`` as float arrays."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return {}
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def _save(fig: object, stem: Path) -> list[Path]:
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for p in paths:
        fig.savefig(p, dpi=150, bbox_inches="tight")  # type: ignore[attr-defined]
    return paths


def plot_run_curve(path: str | Path, stem: str | Path, *, title: str = "") -> list[Path]:
    """Reward and costs of one run against environment steps (PNG and PDF)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = read_curve(path)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    if c:
        ax1.plot(c["steps"], c["reward"], color="C0")
        for k, name in enumerate(COST_NAMES):
            ax2.plot(c["steps"], c[f"cost_{name}"], color=f"C{k + 1}", label=name)
    ax1.set(xlabel="environment steps (slots x episodes)",
            ylabel="reward per slot (-latency / slot)", title=title or "learning curve")
    ax2.axhline(0.0, color="k", lw=0.8, ls=":")
    ax2.set(xlabel="environment steps (slots x episodes)",
            ylabel="mean cost (<= 0: constraint met)", title="constraint costs (measured)")
    ax2.legend(loc="best", fontsize=8)
    fig.tight_layout()
    out = _save(fig, Path(stem))
    plt.close(fig)
    return out


def plot_seed_curves(curves: Mapping[str, Sequence[dict[str, np.ndarray]]], stem: str | Path,
                     *, column: str = "reward", ylabel: str = "reward per slot",
                     title: str = "") -> list[Path]:
    """Mean and 95 % interval over seeds, one line per algorithm (PNG and PDF).

    The seeds' curves are interpolated onto a common step grid; the interval is the mean
    +- 1.96 standard errors (t-free: a normal approximation, stated in the legend title).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4))
    for k, (name, runs) in enumerate(curves.items()):
        runs = [r for r in runs if r]
        if not runs:
            continue
        top = min(r["steps"][-1] for r in runs)
        grid = np.linspace(min(r["steps"][0] for r in runs), top, 100)
        ys = np.array([np.interp(grid, r["steps"], r[column]) for r in runs])
        m = ys.mean(axis=0)
        h = 1.96 * ys.std(axis=0, ddof=1) / np.sqrt(len(runs)) if len(runs) > 1 else 0 * m
        ax.plot(grid, m, color=f"C{k}", label=f"{name} ({len(runs)} seeds)")
        ax.fill_between(grid, m - h, m + h, color=f"C{k}", alpha=0.2, lw=0)
    ax.set(xlabel="environment steps (slots x episodes)", ylabel=ylabel,
           title=title or "learning curves (measured)")
    ax.legend(loc="best", fontsize=8, title="mean, 95 % interval", title_fontsize=8)
    fig.tight_layout()
    out = _save(fig, Path(stem))
    plt.close(fig)
    return out
