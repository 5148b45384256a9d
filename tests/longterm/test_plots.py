"""The ``longterm compare`` figure: gap-to-hindsight panel, plain log ticks, title."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mecopt.longterm.plots as plots  # noqa: E402
from mecopt.longterm.policy_comparison import summarise  # noqa: E402
from mecopt.plotting import plain_log_ticks  # noqa: E402


def _rows(with_hindsight: bool) -> list[dict]:
    """Comparison rows of two policies (and hindsight) at U = 5, 10 over two seeds."""
    lat = {"greedy": (0.034, 0.036), "lyapunov": (0.045, 0.062), "hindsight": (0.030, 0.033)}
    rows = []
    for policy, (at5, at10) in lat.items():
        if policy == "hindsight" and not with_hindsight:
            continue
        for n, base in ((5, at5), (10, at10)):
            for seed in (0, 1):
                obj = base * (1 + 0.02 * seed)
                rows.append(
                    {
                        "solver": policy,
                        "n_users": n,
                        "seed": seed,
                        "objective": obj,
                        "bound": obj if policy == "hindsight" else None,
                        "status": "optimal" if policy == "hindsight" else "feasible",
                        "metrics": {"feasible": policy != "greedy"},
                    }
                )
    return rows


@pytest.fixture()
def captured(monkeypatch):
    """The figure a plot function would save, kept open for inspection."""
    figs = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figs.append(fig) or path)
    yield figs
    for fig in figs:
        plt.close(fig)


def test_gap_panel_shows_the_summary_gaps(captured):
    summary = summarise(_rows(with_hindsight=True))
    plots.plot_latency_vs_devices(summary, "unused.png", title="t")
    (fig,) = captured
    lat_ax, gap_ax, feas_ax = fig.axes
    assert gap_ax.get_ylabel() == "gap to hindsight (%)"
    # one line per policy (not hindsight) through its mean gap at U = 5 and 10
    lines = [
        ln
        for ln in gap_ax.get_lines()
        if ln.get_linestyle() == "-" and list(ln.get_xdata()) == [5.0, 10.0]
    ]
    got = sorted(tuple(np.round(ln.get_ydata(), 9)) for ln in lines)
    want = sorted(
        tuple(np.round([100 * s["gap_to_hindsight"] for s in summary if s["policy"] == p], 9))
        for p in ("greedy", "lyapunov")
    )
    assert got == want
    assert lat_ax.get_yscale() == "log" and feas_ax.get_ylim() == (-5, 105)


def test_no_gap_panel_without_hindsight(captured):
    plots.plot_latency_vs_devices(summarise(_rows(with_hindsight=False)), "unused.png")
    assert len(captured[0].axes) == 2


@pytest.mark.parametrize(("lo", "hi"), [(30.0, 65.0), (20.0, 20_000.0), (0.5, 3.0)])
def test_log_ticks_are_plain_numbers(lo, hi):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [lo, hi])
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    fig.canvas.draw()
    labels = [
        t.get_text() for t in ax.get_yticklabels() + ax.get_yticklabels(minor=True) if t.get_text()
    ]
    plt.close(fig)
    assert labels
    for text in labels:
        float(text.replace(",", ""))  # a plain number, never 6x10^1 or 10^2


def test_title_names_scenario_horizon_and_seeds():
    title = plots.comparison_title("default", 400, [2, 0, 1])
    assert title.startswith("Default scenario, T = 400 slots, trace seeds 0, 1, 2")
    assert "trace seed 3 " in plots.comparison_title("default", 50, [3])
