"""Figure of the demo's compact-variant part: which variant each device class hosts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mecopt.demo.variants_part import METHODS, DeploymentDemo

_MARKERS = "os^Dv"
_LABEL = {"milp": "exact MILP", "greedy": "greedy baseline"}
_COLORS = {"milp": "tab:blue", "greedy": "tab:orange"}


def plot_deployment_demo(demo: DeploymentDemo, path: str | Path) -> list[Path]:
    """Three panels sharing nothing but the story.

    (a) Each candidate variant's accuracy (measured), one row per variant, ordered by it;
    (b) the same rows: the modelled local latency of one query on each device class (mean
    over the class's users), a star where the exact deployment hosts the variant on that
    class and a cross where the variant does not fit the class's memory; (c) per device
    class, the mean delay of its users under the exact deployment and under the greedy
    baseline, with the hosted variant and the users answering locally written on the bar.

    Returns
    -------
    list of pathlib.Path
        The files written (a PNG also gets a PDF).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mecopt.plotting import save_figure

    prob = demo.problem
    classes = prob.class_names
    exact = demo.results["milp"]
    acc = np.array([v.accuracy.value for v in demo.variants])
    order = np.argsort(acc, kind="stable")
    y = np.arange(len(order))
    hosted = {exact.choice.get(c) for c in classes} - {None}
    fig, (ax_acc, ax_lat, ax_d) = plt.subplots(
        1,
        3,
        figsize=(13, 0.28 * len(order) + 2.6),
        layout="constrained",
        gridspec_kw={"width_ratios": [1.1, 2, 2]},
    )
    ax_acc.barh(
        y,
        acc[order],
        color=["tab:green" if prob.variant_names[v] in hosted else "tab:gray" for v in order],
        height=0.6,
    )
    for k, v in enumerate(order):
        ax_acc.text(acc[v] + 0.02, k, f"{acc[v]:.3f}", va="center", fontsize=7)
    ax_acc.set_yticks(y, [prob.variant_names[v] for v in order], fontsize=8)
    ax_acc.set_xlim(0, 1)
    ax_acc.set_xlabel("accuracy (measured)")
    ax_acc.set_title("(a) candidate variants", fontsize=10)
    for c, name in enumerate(classes):
        users = prob.user_class == c
        lat = 1e3 * prob.local_delay[users].mean(axis=0)[order]
        fits = np.asarray(prob.fits[c], dtype=bool)[order]
        color = plt.get_cmap("tab10")(c)
        marker = _MARKERS[c % len(_MARKERS)]
        ax_lat.plot(lat[fits], y[fits], ls="none", marker=marker, color=color, ms=5, label=name)
        ax_lat.plot(lat[~fits], y[~fits], ls="none", marker="x", color=color, ms=6)
        if exact.choice.get(name) is not None:
            k = int(np.flatnonzero(order == prob.variant_names.index(exact.choice[name]))[0])
            ax_lat.plot(lat[k], y[k], marker="*", ms=15, color=color, mec="k", ls="none")
    ax_lat.plot(
        [],
        [],
        marker="*",
        ms=11,
        color="white",
        mec="k",
        ls="none",
        label="hosted on that class (exact)",
    )
    if not np.asarray(prob.fits, dtype=bool).all():
        ax_lat.plot([], [], marker="x", color="k", ls="none", label="does not fit in memory")
    ax_lat.set_yticks(y, [])
    ax_lat.set_ylim(ax_acc.get_ylim())
    ax_lat.set_xlim(left=0)
    ax_lat.set_xlabel("local latency per query (ms, modelled per device class)")
    ax_lat.set_title("(b) latency on each device class", fontsize=10)
    ax_lat.legend(fontsize=8, loc="lower right")
    for a in (ax_acc, ax_lat):
        a.grid(True, axis="x", alpha=0.3)

    width = 0.38
    x = np.arange(len(classes))
    top = 0.0
    for k, method in enumerate(METHODS):
        rows = demo.per_class(method)
        if rows[0]["delay_ms"] is None:
            continue
        pos = x + (k - 0.5) * width
        delay = np.array([r["delay_ms"] for r in rows])
        top = max(top, float(delay.max()))
        res = demo.results[method]
        ax_d.bar(
            pos,
            delay,
            width,
            color=_COLORS[method],
            label=f"{_LABEL[method]}: {1e3 * res.objective:.3f} ms overall ({res.status})",
        )
        for p, r in zip(pos, rows, strict=True):
            ax_d.text(
                p,
                0.03 * r["delay_ms"],
                f"{r['variant']}, {r['local']}/{r['users']} local",
                rotation=90,
                ha="center",
                va="bottom",
                fontsize=7,
                color="white",
            )
    ax_d.set_xticks(x, classes)
    ax_d.set_ylim(0, 1.3 * top)
    ax_d.set_ylabel("mean delay of the class's users (ms)")
    ax_d.set_title("(c) hosted variant and delay per device class", fontsize=10)
    ax_d.legend(fontsize=8, loc="upper left")
    ax_d.grid(True, axis="y", alpha=0.3)
    fig.suptitle(
        f"Compact variants: {demo.title()}\naccuracy measured on held-out questions, "
        "local latency modelled; delays evaluated by mecopt.evaluate (measured)",
        fontsize=10,
    )
    return save_figure(fig, path)
