"""Figure of the demo's long-term part: latency, gap to hindsight and each constraint."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.demo.longterm_part import LongtermDemo

_MET, _VIOLATED, _HINDSIGHT = "tab:blue", "tab:red", "0.25"


def plot_longterm_demo(demo: LongtermDemo, path: str | Path) -> list[Path]:
    """One row of four panels sharing the policies (rows that ran, top to bottom).

    (a) mean latency per query (bars), hindsight's proven lower bound (dashed) and the gap
    to hindsight in a column on the right; (b) worst device's energy / budget; (c) mean
    effective accuracy; (d) mean hallucination, each a point with a stem from its limit
    (the slack, or the excess). Blue (a dot) when the constraint is met, red (a cross;
    a hatched bar in (a), which asks for every constraint) when not; hindsight in grey.

    Returns
    -------
    list of pathlib.Path
        The files written (a PNG also gets a PDF).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from mecopt.plotting import save_figure

    rows = [r for r in demo.rows if r["latency_ms"] is not None][::-1]
    y = np.arange(len(rows))
    names = [r["policy"] for r in rows]
    scen = demo.scenario
    fig, axes = plt.subplots(
        1,
        4,
        figsize=(13, 0.45 * len(rows) + 2.4),
        sharey=True,
        layout="constrained",
        gridspec_kw={"width_ratios": [2, 1, 1, 1]},
    )

    _latency_panel(axes[0], rows, y)

    panels = [
        (
            axes[1],
            "energy_ratio",
            "energy",
            1.0,
            "worst device energy / budget",
            "(b) energy budget: <= 1",
        ),
        (
            axes[2],
            "accuracy",
            "accuracy",
            scen.min_accuracy,
            "mean effective accuracy",
            f"(c) accuracy >= {scen.min_accuracy:g}",
        ),
        (
            axes[3],
            "hallucination",
            "hallucination",
            scen.max_hallucination,
            "mean hallucination probability",
            f"(d) hallucination <= {scen.max_hallucination:g}",
        ),
    ]
    for ax, key, con, limit, xlabel, title in panels:
        _constraint_panel(ax, rows, key, con, limit, xlabel, title)
    for ax in axes:
        ax.grid(True, axis="x", alpha=0.3)
    axes[0].set_yticks(y, names)
    handles = [
        Patch(color=_MET, label="constraint met (a: all met)"),
        Patch(
            facecolor=_VIOLATED,
            hatch="//",
            edgecolor="white",
            label="constraint violated (a: one or more)",
        ),
        Patch(color=_HINDSIGHT, label="hindsight optimum (offline, sees the trace)"),
        plt.Line2D(
            [], [], color="k", ls="--", lw=1, label="limit; in (a): hindsight's proven lower bound"
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(_title(demo), fontsize=10)
    return save_figure(fig, path)


def _color(row: dict[str, Any], good: bool) -> str:
    return _VIOLATED if not good else _HINDSIGHT if row["kind"] == "hindsight" else _MET


def _latency_panel(ax: Any, rows: list[dict[str, Any]], y: np.ndarray) -> None:
    """(a): latency bars (hatched when a constraint is broken), hindsight's bound and the
    gap column."""
    lat = [r["latency_ms"] for r in rows]
    ok = [all(r["met"].values()) for r in rows]
    drawn = ax.barh(
        y, lat, color=[_color(r, good) for r, good in zip(rows, ok, strict=True)], height=0.65
    )
    for bar, good in zip(drawn, ok, strict=True):
        if not good:
            bar.set_hatch("//")
            bar.set_edgecolor("white")
    hind = next((r for r in rows if r["kind"] == "hindsight"), None)
    if hind is not None and hind["bound_ms"] is not None:
        ax.axvline(hind["bound_ms"], color="k", ls="--", lw=1)
    right = 1.3 * max(lat)
    ax.set_xlim(0, right)
    for k, r in enumerate(rows):
        if r["kind"] == "hindsight" and r["status"] == "optimal":
            words = "optimal"
        elif r["gap"] is not None:
            words = f"{100 * r['gap']:+.1f} %"
        else:
            continue
        ax.text(0.985 * right, k, words, va="center", ha="right", fontsize=8)
    if any(r["gap"] is not None for r in rows):
        ax.set_ylim(-0.6, len(rows) - 0.05)  # room for the column's heading
        ax.text(
            0.985 * right,
            len(rows) - 0.3,
            "gap",
            ha="right",
            va="center",
            fontsize=8,
            fontweight="bold",
        )
    ax.set_xlabel("mean latency per query (ms)")
    ax.set_title("(a) latency and gap to hindsight", fontsize=10)


def _constraint_panel(
    ax: Any,
    rows: list[dict[str, Any]],
    key: str,
    con: str,
    limit: float | None,
    xlabel: str,
    title: str,
) -> None:
    """One constraint: a point per policy with a stem from its limit."""
    for k, r in enumerate(rows):
        good = r["met"][con]
        color = _color(r, good)
        if limit is not None:  # a stem from the limit: the slack (or the excess)
            ax.plot([limit, r[key]], [k, k], color=color, lw=2)
        ax.plot(r[key], k, ls="none", marker="o" if good else "X", color=color, ms=8)
    if limit is not None:
        ax.axvline(limit, color="k", ls="--", lw=1)
    ax.margins(x=0.15)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)


def _title(demo: LongtermDemo) -> str:
    """The figure's title, saying which policies are not shown and why."""
    title = (
        f"Long-term offloading, {demo.title()}\nmeasured on a simulated trace "
        "(modelled scenario); gap = (latency - hindsight) / latency"
    )
    by_reason: dict[str, list[str]] = {}
    for label, reason in demo.not_shown():
        by_reason.setdefault(reason, []).append(label)
    if by_reason:  # say what is not shown, and why, wrapped to the figure's width
        title += "\n" + textwrap.fill(
            "not shown: "
            + "; ".join(f"{', '.join(labels)} ({reason})" for reason, labels in by_reason.items()),
            170,
        )
    return title
