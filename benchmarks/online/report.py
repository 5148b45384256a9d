"""Tables and plots of the online-control benchmark (``run.py report``).

Per cell and policy: traces run, traces meeting every long-term constraint, the gap of the
mean latency to hindsight per trace (to its optimum where proven within 1e-4, otherwise to
its proven lower bound, which overstates the gap), the accuracy slack (mean effective
accuracy minus the target: "feasible by over-offloading" shows as a large slack) and the
decision time per slot with the load average of the machine when the run started.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.bench import ResultStore

HERE = Path(__file__).parent
HINDSIGHT = "hindsight"
DEFAULT_TARGET = 0.52


def load_rows(store: Path, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored rows with their cell and decoded metrics."""
    from run import SWEEP, cell_of

    with ResultStore(store) as db:
        rows = [r for r in db.rows() if r["sweep"] == SWEEP]
    for r in rows:
        r["metrics"] = json.loads(r["metrics"]) if r.get("metrics") else {}
        r["cell"] = cell_of(r, cfg)
    return [r for r in rows if r["cell"] is not None]


def references(rows: list[dict[str, Any]]) -> dict[tuple[str, int], tuple[float, bool]]:
    """(cell, seed) -> (hindsight reference latency, proven optimal)."""
    out = {}
    for r in rows:
        if r["solver"] != HINDSIGHT:
            continue
        if r["status"] == "optimal" and r["objective"] is not None:
            out[(r["cell"], r["seed"])] = (r["objective"], True)
        elif r["bound"] is not None and np.isfinite(r["bound"]) and r["bound"] > 0:
            out[(r["cell"], r["seed"])] = (r["bound"], False)
    return out


def per_trace(rows: list[dict[str, Any]], cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per (cell, policy, seed): gap %, feasible, accuracy slack, ms per slot."""
    ref = references(rows)
    out = []
    for r in rows:
        if r["solver"] == HINDSIGHT or r["objective"] is None:
            continue
        key = (r["cell"], r["seed"])
        target = cfg["cells"][r["cell"]].get("options", {}).get("min_accuracy", DEFAULT_TARGET)
        rec = {
            "cell": r["cell"],
            "policy": r["solver"],
            "seed": r["seed"],
            "latency_ms": 1e3 * r["objective"],
            "feasible": r["status"] == "feasible",
            "slack": r["metrics"].get("accuracy", np.nan) - target,
            "ms_per_slot": 1e3 * (r["runtime"] or 0.0) / r["horizon"],
            "load": r.get("load_avg"),
            "gap": None,
            "proven": None,
            "prices": r["metrics"].get("info", {}).get("prices"),
            "commit": (r.get("git_commit") or "?")[:7],
        }
        if key in ref:
            value, proven = ref[key]
            rec["gap"] = 100 * (r["objective"] - value) / value
            rec["proven"] = proven
        out.append(rec)
    return out


def hindsight_table(rows: list[dict[str, Any]], cfg: dict[str, Any]) -> list[str]:
    lines = [
        "| cell | traces | proven (gap <= 1e-4) | gap <= 2 % | median gap | worst gap "
        "| median time (s) | worst time (s) | median CPU (s) | median load | commit |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cell in cfg["order"]:
        g = [r for r in rows if r["cell"] == cell and r["solver"] == HINDSIGHT]
        if not g:
            continue
        gaps = [100 * (r["gap"] if r["gap"] is not None else np.inf) for r in g]
        times = [r["wall_time"] or r["runtime"] or 0.0 for r in g]
        loads = [r["load_avg"] for r in g if r.get("load_avg") is not None]
        cpu = [
            r.get("cpu_time") or (r["metrics"].get("info", {}).get("cpu_seconds") or [None])[0]
            for r in g
        ]
        cpu = [c for c in cpu if c is not None]
        lines.append(
            f"| {cell} | {len(g)} | {sum(r['status'] == 'optimal' for r in g)} | "
            f"{sum(x <= 2.0 for x in gaps)} | "
            f"{np.median(gaps):.3f} % | {np.max(gaps):.3f} % | {np.median(times):.1f} "
            f"| {np.max(times):.1f} | {np.median(cpu) if cpu else np.nan:.1f} "
            f"| {np.median(loads) if loads else np.nan:.1f} | "
            + ", ".join(sorted({(r.get("git_commit") or "?")[:7] for r in g}))
            + " |"
        )
    return lines


def policy_table(recs: list[dict[str, Any]], cfg: dict[str, Any]) -> list[str]:
    lines = [
        "| cell | policy | traces | feasible | mean gap | median gap | worst gap | "
        "gap to bound on | accuracy slack (mean, min) | ms/slot (median) | load | commit |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cell in cfg["order"]:
        pols = sorted(
            {r["policy"] for r in recs if r["cell"] == cell},
            key=lambda p: np.mean(
                [
                    r["gap"]
                    for r in recs
                    if r["cell"] == cell and r["policy"] == p and r["gap"] is not None
                ]
                or [np.inf]
            ),
        )
        for p in pols:
            g = [r for r in recs if r["cell"] == cell and r["policy"] == p]
            gaps = [r["gap"] for r in g if r["gap"] is not None]
            gtxt = (
                f"{np.mean(gaps):.2f} % | {np.median(gaps):.2f} % | {np.max(gaps):.2f} %"
                if gaps
                else "- | - | -"
            )
            on_bound = sum(r["proven"] is False for r in g)
            slack = [r["slack"] for r in g]
            loads = [r["load"] for r in g if r["load"] is not None]
            lines.append(
                f"| {cell} | {p} | {len(g)} | {sum(r['feasible'] for r in g)}/{len(g)} | "
                f"{gtxt} | {on_bound} | {np.mean(slack):+.4f}, {np.min(slack):+.4f} | "
                f"{np.median([r['ms_per_slot'] for r in g]):.1f} | "
                f"{np.median(loads) if loads else np.nan:.1f} | "
                + ", ".join(sorted({r["commit"] for r in g}))
                + " |"
            )
    return lines


TRAINING_SEED = re.compile(r"^(?P<algo>.+)-s(?P<seed>\d+)$")


def training_seed_table(recs: list[dict[str, Any]], cfg: dict[str, Any]) -> list[str]:
    """Learned policies over their training seeds (labels ``ALGO-sK``): per seed the mean
    gap and the feasible traces, and the mean over seeds with a 95 % t-interval."""
    from scipy import stats

    lines = [
        "| cell | learner | training seeds | mean gap per seed | gap (mean +- 95 %) "
        "| feasible traces per seed | accuracy slack (mean) |",
        "|---|---|---|---|---|---|---|",
    ]
    for cell in cfg["order"]:
        algos: dict[str, dict[int, list[dict[str, Any]]]] = {}
        for r in recs:
            m = TRAINING_SEED.match(r["policy"])
            if r["cell"] == cell and m:
                algos.setdefault(m["algo"], {}).setdefault(int(m["seed"]), []).append(r)
        for algo, by_seed in sorted(algos.items()):
            per = [
                np.mean([r["gap"] for r in g if r["gap"] is not None] or [np.nan])
                for _, g in sorted(by_seed.items())
            ]
            feas = [f"{sum(r['feasible'] for r in g)}/{len(g)}" for _, g in sorted(by_seed.items())]
            if len(per) > 1:
                half = stats.t.ppf(0.975, len(per) - 1) * np.std(per, ddof=1) / np.sqrt(len(per))
                ci = f"{np.mean(per):.2f} +- {half:.2f} %"
            else:
                ci = f"{per[0]:.2f} % (one seed, no interval)"
            slack = np.mean([r["slack"] for g in by_seed.values() for r in g])
            lines.append(
                f"| {cell} | {algo} | {', '.join(str(k) for k in sorted(by_seed))} | "
                + ", ".join(f"{x:+.2f} %" for x in per)
                + f" | {ci} | {', '.join(feas)} | {slack:+.4f} |"
            )
    return lines if len(lines) > 2 else []


def plot_gaps(recs: list[dict[str, Any]], cells: list[str], path: Path) -> None:
    """Box plot of the per-trace gap of every policy on the traces where it meets every
    constraint (a gap on a violating trace compares unlike things), one panel per cell in a
    grid of at most four columns; each label says on how many traces it did."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    cells = [c for c in cells if any(r["cell"] == c and r["gap"] is not None for r in recs)]
    if not cells:
        return
    ncols = min(4, len(cells))
    nrows = -(-len(cells) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 3.8 * nrows), squeeze=False)
    plain = FuncFormatter(lambda v, _pos: f"{v:g}")
    for i, ax in enumerate(axes.flat):
        if i >= len(cells):
            ax.set_visible(False)
            continue
        cell = cells[i]
        mine = [r for r in recs if r["cell"] == cell and r["gap"] is not None]
        pols = sorted({r["policy"] for r in mine if r["feasible"]})
        data = [[r["gap"] for r in mine if r["policy"] == p and r["feasible"]] for p in pols]
        labels = [
            f"{p} ({len(d)}/{sum(r['policy'] == p for r in mine)})"
            for p, d in zip(pols, data, strict=True)
        ]
        ax.boxplot(data, tick_labels=labels, showfliers=True)
        log = max((max(d) for d in data if d), default=0.0) > 10  # symlog only when needed
        if log:
            ax.set_yscale("symlog", linthresh=10)
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(FuncFormatter(lambda _v, _pos: ""))
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(cell, fontsize=10)
        ax.set_ylabel("gap to hindsight, %" + (" (symlog)" if log else ""), fontsize=9)
        # Right-anchored labels, smaller in crowded panels, so that they do not overlap.
        plt.setp(ax.get_xticklabels(), rotation=55, ha="right", rotation_mode="anchor",
                 fontsize=6 if len(labels) > 8 else 7)
        ax.tick_params(axis="y", labelsize=8)
    fig.suptitle(
        "Online policies against hindsight, per held-out trace (measured; traces "
        "where the policy meets every constraint; label: policy (feasible/all))",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_latency_vs_u(
    recs: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    cfg: dict[str, Any],
    horizon: int,
    path: Path,
) -> None:
    """Mean latency against U for the default-scenario cells of one horizon."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = {
        c["n_users"]: name
        for name, c in cfg["cells"].items()
        if c["horizon"] == horizon and not c.get("options")
    }
    hind = [
        (
            u,
            1e3
            * np.mean(
                [
                    r["objective"] if r["status"] == "optimal" else r["bound"]
                    for r in rows
                    if r["cell"] == c and r["solver"] == HINDSIGHT
                ]
            ),
        )
        for u, c in sorted(cells.items())
        if any(r["cell"] == c and r["solver"] == HINDSIGHT for r in rows)
    ]
    # a linear axis that keeps the close policies apart: a policy more than 3x hindsight's
    # latency is named in the title instead of flattening the others
    top = 3 * max((v for _, v in hind), default=np.inf)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    off_scale = []
    for p in sorted({r["policy"] for r in recs}):
        pts = [
            (u, np.mean([r["latency_ms"] for r in recs if r["cell"] == c and r["policy"] == p]))
            for u, c in sorted(cells.items())
            if any(r["cell"] == c and r["policy"] == p for r in recs)
        ]
        if pts and max(v for _, v in pts) > top:
            off_scale.append(p)
        elif pts:
            mine = [r["feasible"] for r in recs if r["policy"] == p and r["cell"] in cells.values()]
            broken = np.mean(mine) < 0.5  # below hindsight only by breaking a constraint
            ax.plot(
                *zip(*pts, strict=True),
                marker="o",
                ls=":" if broken else "-",
                label=p + (" (violates on most traces)" if broken else ""),
            )
    if hind:
        ax.plot(*zip(*hind, strict=True), "k--", marker="s", label="hindsight (opt. or bound)")
    ax.set_xlabel("devices U")
    ax.set_ylabel("mean latency per query, ms")
    title = f"Default scenario, T = {horizon}, held-out traces (measured)"
    if off_scale:
        title += "\noff the scale (> 3x hindsight): " + ", ".join(off_scale)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_prices(
    recs: list[dict[str, Any]], rows: list[dict[str, Any]], cell: str, path: Path, n: int = 6
) -> None:
    """The accuracy price of ``priced`` over the slots of a few traces, with the
    hindsight LP dual of each trace (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = [r for r in recs if r["cell"] == cell and r["policy"] == "priced" and r["prices"]]
    g = sorted(g, key=lambda r: r["seed"])[:n]
    if not g:
        return
    duals = {
        r["seed"]: (r["metrics"].get("info", {}).get("prices") or [None])[0]
        for r in rows
        if r["cell"] == cell and r["solver"] == HINDSIGHT
    }
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for k, r in enumerate(g):
        tr = np.array(r["prices"])
        (line,) = ax.plot(tr[:, 0], tr[:, 1], color=f"C{k}", label=f"seed {r['seed']}")
        d = duals.get(r["seed"])
        if d:
            ax.axhline(d["accuracy"], color=line.get_color(), ls="--", lw=0.8)
    ax.set_xlabel("slot")
    ax.set_ylabel("accuracy price, s per unit accuracy")
    ax.set_title(f"priced, {cell}: accuracy price; dashed: hindsight LP dual", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(cfg: dict[str, Any], store: Path) -> None:
    rows = load_rows(store, cfg)
    recs = per_trace(rows, cfg)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    versions = sorted({r["mecopt_version"] for r in rows if r.get("mecopt_version")})
    hind_v = sorted(
        {
            json.dumps(r["metrics"].get("info", {}).get("solver"))
            for r in rows
            if r["solver"] == HINDSIGHT
        }
    )
    done = [c for c in cfg["order"] if any(r["cell"] == c for r in rows)]
    missing = [c for c in cfg["order"] if c not in done]
    lines = [
        "# Online control against the hindsight optimum (measured)",
        "",
        f"Report made {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit "
        f"`{commit}` from `online.sqlite` (rows carry their own commit, start time and load "
        f"average); mecopt {', '.join(versions)}; hindsight solver {', '.join(hind_v)}, "
        "1 thread. Default long-term scenario (modelled) unless the cell overrides it; "
        f"held-out trace seeds {cfg['bench']['seeds']['start']}+ "
        f"({cfg['bench']['seeds']['count']} per cell; `myopic-optimal` on the first 5). "
        "Every figure is **measured** on simulated traces. Timings come from a 2-core "
        "machine shared with other jobs (the load column: 1-minute load average at the start "
        f"of each run, median over the traces); load at report time "
        f"{os.getloadavg()[0]:.1f}.",
        "",
        f"Cells run: {', '.join(done) or 'none'}. Not run: {', '.join(missing) or 'none'}.",
        "",
        "Every policy runs once per trace with the trace seed as its own seed (the "
        "learned policies sample their actions from it; the others are deterministic). "
        "A learned policy's label `ALGO-sK` names its training seed K (U = 20 cells only: "
        "they were trained for U = 20, M = 4); `ppo` and `bc` were trained on seed 0 only.",
        "",
        "## Hindsight",
        "",
        *hindsight_table(rows, cfg),
        "",
        "## Policies",
        "",
        "`gap`: (policy's mean latency - hindsight's) / hindsight's, per trace, where "
        "hindsight is proven optimal (gap <= 1e-4); on the traces counted in `gap to bound "
        "on` hindsight was stopped by its limit and the gap is taken to its proven lower "
        "bound (an upper bound on the true gap). The gap of a policy that breaks a "
        "constraint is not a like-for-like comparison (see `feasible`). `accuracy slack`: "
        "mean effective accuracy minus the target.",
        "",
        *policy_table(recs, cfg),
        "",
        "## Learned policies over training seeds",
        "",
        "Each training seed's policy on the same held-out traces; the interval is over "
        "training seeds (Student t, 95 %).",
        "",
        *(training_seed_table(recs, cfg) or ["No learned policy has run yet."]),
        "",
        "![gap per trace](gap_box.png)",
        "",
        "![latency vs U](latency_vs_u.png)",
        "",
        "![price trajectories](prices.png)",
        "",
    ]
    plot_gaps(recs, [c for c in cfg["order"] if c in done], HERE / "gap_box.png")
    plot_latency_vs_u(recs, rows, cfg, 100, HERE / "latency_vs_u.png")
    plot_prices(recs, rows, "u20-t100", HERE / "prices.png")
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
