"""Figures of the long-term system (matplotlib, no display needed).

Every function writes the file it is given and, for a ``.png``, a vector ``.pdf`` beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

_MARKERS = "osD^v<>ph*X"


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _color(k: int) -> Any:
    """The k-th colour of the tab10 palette (one per policy, never reused by extra lines)."""
    return _plt().get_cmap("tab10")(k % 10)


def _save(fig: Any, path: str | Path) -> Path:
    from mecopt.plotting import save_figure

    return save_figure(fig, path)[0]


def _finish(fig: Any, handles: list[Any], labels: list[str], title: str, path: str | Path) -> Path:
    """One legend below the panels, the title, and the files."""
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=min(len(labels), 8),
        fontsize=8,
        frameon=False,
    )
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, path)


def comparison_title(scenario: str, horizon: int, seeds: Sequence[int]) -> str:
    """The title of a policy comparison: scenario, T and the trace seeds, in words."""
    seeds = sorted(int(s) for s in seeds)
    return (
        f"{scenario.capitalize()} scenario, T = {horizon} slots, "
        f"trace seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))} "
        "(measured on simulated traces)"
    )


def plot_latency_vs_devices(
    summary: Sequence[Mapping[str, Any]], path: str | Path, *, title: str = ""
) -> Path:
    """Mean latency, gap to hindsight and constraint satisfaction against the devices.

    Left: mean latency per query (log axis with plain tick labels), one line per policy;
    error bars are the spread (min to max) over seeds; a filled marker means every seed
    met every constraint, a hollow one that some seed violated one. Middle (when the
    summary has hindsight rows): the gap to hindsight, ``(latency - H) / latency`` with H
    the hindsight optimum or its proven bound (:func:`mecopt.longterm.policy_comparison.summarise`),
    on a linear axis where differences of a few per cent stay visible; a negative gap means
    the policy beats the optimum by breaking a constraint. Right: the share of seeds
    meeting every constraint.

    Parameters
    ----------
    summary
        Output of :func:`mecopt.longterm.policy_comparison.summarise`.
    path
        Output file (PNG, PDF, SVG); a PNG also gets a vector PDF beside it.
    title
        Figure title; :func:`comparison_title` names the scenario, T and the seeds.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from mecopt.plotting import plain_log_ticks

    plt = _plt()
    policies = list(dict.fromkeys(s["policy"] for s in summary))
    with_gap = any(s.get("gap_to_hindsight") is not None for s in summary)
    ratios = [3, 2, 2] if with_gap else [3, 2]
    fig, axes = plt.subplots(
        1,
        len(ratios),
        figsize=(4.6 * len(ratios) + 1.2, 4.6),
        layout="constrained",
        gridspec_kw={"width_ratios": ratios},
    )
    ax, ax_feas = axes[0], axes[-1]
    ax_gap = axes[1] if with_gap else None
    handles: list[Any] = []
    labels: list[str] = []
    xs: set[float] = set()
    for k, pol in enumerate(policies):
        rows = sorted(
            (s for s in summary if s["policy"] == pol and s["latency_ms"]["mean"] is not None),
            key=lambda s: s["n_devices"],
        )
        if not rows:
            continue
        hind = pol.startswith("hindsight")
        x = np.array([s["n_devices"] for s in rows], dtype=float)
        y = np.array([s["latency_ms"]["mean"] for s in rows])
        lo = y - np.array([s["latency_ms"]["min"] for s in rows])
        hi = np.array([s["latency_ms"]["max"] for s in rows]) - y
        feas = np.array([s["feasible"] == 1.0 for s in rows])
        marker = _MARKERS[k % len(_MARKERS)]
        color = _color(k)
        ax.errorbar(
            x,
            y,
            yerr=[lo, hi],
            capsize=3,
            color=color,
            lw=2.5 if hind else 1.5,
            ls="--" if hind else "-",
        )
        ax.plot(x[feas], y[feas], ls="none", marker=marker, color=color, ms=7)
        ax.plot(x[~feas], y[~feas], ls="none", marker=marker, mfc="white", mec=color, ms=7)
        handles.append(ax.plot([], [], marker=marker, color=color, ls="--" if hind else "-")[0])
        labels.append(pol)
        ax_feas.plot(x, [100 * (s["feasible"] or 0.0) for s in rows], marker=marker, color=color)
        if ax_gap is not None and not hind:
            gap = [
                (s, 100 * s["gap_to_hindsight"])
                for s in rows
                if s.get("gap_to_hindsight") is not None
            ]
            if gap:
                gx = np.array([s["n_devices"] for s, _ in gap], dtype=float)
                gy = np.array([g for _, g in gap])
                gf = np.array([s["feasible"] == 1.0 for s, _ in gap])
                ax_gap.plot(gx, gy, color=color)
                ax_gap.plot(gx[gf], gy[gf], ls="none", marker=marker, color=color, ms=7)
                ax_gap.plot(
                    gx[~gf], gy[~gf], ls="none", marker=marker, mfc="white", mec=color, ms=7
                )
        xs.update(x.tolist())
    ax.set_xlabel("devices U")
    ax.set_ylabel("mean latency per query (ms)")
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    ax.set_title("Latency (hollow: a seed violates a constraint)", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    if ax_gap is not None:
        ax_gap.axhline(0.0, color="k", lw=1)
        ax_gap.set_xlabel("devices U")
        ax_gap.set_ylabel("gap to hindsight (%)")
        ax_gap.set_title("Gap (latency - hindsight) / latency, mean over seeds", fontsize=10)
        ax_gap.grid(alpha=0.3)
    ax_feas.set_xlabel("devices U")
    ax_feas.set_ylabel("seeds meeting every constraint (%)")
    ax_feas.set_title("Constraints met", fontsize=10)
    ax_feas.set_ylim(-5, 105)
    ax_feas.grid(alpha=0.3)
    for a in axes:
        a.set_xticks(sorted(xs))
        a.set_xticklabels([f"{v:g}" for v in sorted(xs)])
    return _finish(fig, handles, labels, title, path)


def plot_tradeoff(
    points: Sequence[Mapping[str, Any]], path: str | Path, *, title: str = ""
) -> Path:
    """The Lyapunov V trade-off: latency and constraint slack against V.

    ``points``: dicts with ``V``, ``latency_ms`` (mean, min, max), ``accuracy_slack``
    (accuracy - A_min), ``energy_slack`` (1 - worst energy / budget),
    ``hallucination_slack`` (H_max - hallucination), each a mean over seeds.
    """
    plt = _plt()
    pts = sorted(points, key=lambda p: p["V"])
    v = np.array([p["V"] for p in pts])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4), constrained_layout=True)
    y = np.array([p["latency_ms"]["mean"] for p in pts])
    err = [
        y - np.array([p["latency_ms"]["min"] for p in pts]),
        np.array([p["latency_ms"]["max"] for p in pts]) - y,
    ]
    ax.errorbar(v, y, yerr=err, marker="o", capsize=3, color="tab:blue")
    ax.set_xscale("log")
    ax.set_xlabel("V (1/s)")
    ax.set_ylabel("mean latency per query (ms)")
    ax.set_title("Latency (spread over seeds)", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    for key, label, marker in (
        ("energy_slack", "energy: 1 - worst device / budget", "s"),
        ("accuracy_slack", "accuracy - A_min", "^"),
        ("hallucination_slack", "H_max - hallucination", "v"),
    ):
        ax2.plot(v, [p[key] for p in pts], marker=marker, label=label)
    ax2.axhline(0.0, color="k", lw=1)
    ax2.set_xscale("log")
    ax2.set_xlabel("V (1/s)")
    ax2.set_ylabel("constraint slack (< 0: violated)")
    ax2.set_title("Constraint slack (mean over seeds)", fontsize=10)
    ax2.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, path)


def plot_over_time(
    series: Mapping[str, Mapping[str, np.ndarray]],
    path: str | Path,
    *,
    budget: float,
    min_accuracy: float | None,
    window: int = 50,
    title: str = "",
) -> Path:
    """Energy and accuracy over time per policy: running (cumulative) means.

    ``series[policy]`` holds ``energy`` (T,) mean J per device in each slot and
    ``accuracy_sum`` / ``queries`` (T,) per slot; the plot shows cumulative means (what the
    long-term constraints judge) against the budget and the target.
    """
    plt = _plt()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    for k, (pol, s) in enumerate(series.items()):
        t = np.arange(1, len(s["energy"]) + 1)
        mark = _MARKERS[k % len(_MARKERS)]
        every = max(1, len(t) // 10)
        q = np.maximum(np.cumsum(s["queries"]), 1)
        style = {"label": pol, "marker": mark, "markevery": every, "ms": 4, "color": _color(k)}
        ax.plot(t, np.cumsum(s["energy"]) / t, **style)
        ax2.plot(t, np.cumsum(s["accuracy_sum"]) / q, **style)
    ax.axhline(budget, color="k", ls="--", lw=1, label="budget")
    ax.set_xlabel("slot t")
    ax.set_ylabel("running mean energy per device (J/slot)")
    ax.grid(alpha=0.3)
    if min_accuracy is not None:
        ax2.axhline(min_accuracy, color="k", ls="--", lw=1, label="A_min")
    ax2.set_xlabel("slot t")
    ax2.set_ylabel("running mean effective accuracy")
    ax2.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    extra_h, extra_l = ax2.get_legend_handles_labels()
    handles += [h for h, lab in zip(extra_h, extra_l, strict=True) if lab not in labels]
    labels += [lab for lab in extra_l if lab not in labels]
    return _finish(fig, handles, labels, title, path)
