"""Tables and figures of the published replay (``replay.toml``), next to the published numbers.

Usage (from this folder)::

    python report.py [--db results/replay.sqlite] [--out results]

Uses the complete seeds only (every task of the seed stored). Writes ``results/REPLAY.md``
(calibration point, every cell's means, the published claims checked) and the figures in
``results/plots/`` (PNG and PDF).
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections import defaultdict
from pathlib import Path

import numpy as np

from mecopt.bench import ResultStore
from mecopt.bench.plots import plot_all

POLICIES = ("goa", "edge-all", "min-delay", "random", "local-all", "highs")
NAMES = {"goa": "GOA", "edge-all": "Edge all", "min-delay": "Min delay", "random": "Random",
         "local-all": "Local all", "highs": "exact (highs)"}
PUBLISHED = {"upload_ms": 1.62, "edge_ms": 15.76, "local_ms": 35.79, "acc_local": 44.74,
             "acc_edge": 56.17}


def complete_seeds(rows: list[dict]) -> list[int]:
    per_seed: dict[int, int] = defaultdict(int)
    for r in rows:
        per_seed[int(r["seed"])] += 1
    full = max(per_seed.values())
    return sorted(s for s, k in per_seed.items() if k == full)


def mean_ci(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    half = 1.96 * arr.std(ddof=1) / np.sqrt(arr.size) if arr.size > 1 else float("nan")
    return float(arr.mean()), float(half)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="results/replay.sqlite")
    parser.add_argument("--out", default="results")
    args = parser.parse_args()
    with ResultStore.open_existing(args.db) as store:
        rows = store.rows()
    seeds = complete_seeds(rows)
    rows = [r for r in rows if int(r["seed"]) in seeds]
    cell: dict[tuple[str, int, float], list[dict]] = defaultdict(list)
    for r in rows:
        cell[(r["solver"], int(r["n_users"]), round(float(r["tau"]), 3))].append(r)
    sizes = sorted({k[1] for k in cell})
    taus = sorted({k[2] for k in cell})
    commits = sorted({r["git_commit"] for r in rows})
    out = Path(args.out)
    lines = ["# Replay of the published experiment (measured)", "",
             f"Scenario `kim2026-published`, {len(seeds)} complete seeds per cell "
             f"(seeds {seeds[0]}..{seeds[-1]}), N = {sizes[0]}..{sizes[-1]}, tau = "
             f"{', '.join(f'{t:g}' for t in taus)}; commit(s) {', '.join(commits)}; "
             "remade by `sh remake.sh` in `benchmarks/replay/`.", "",
             "Means per user over the seeds; ± is the 95 % interval of the mean. Delays in ms, "
             "accuracy in %.", ""]

    # 1. The calibration point.
    ea = cell.get(("edge-all", 50, 0.6), [])
    loc = cell.get(("local-all", 50, 0.6), [])
    if ea and loc:
        up = mean_ci([1e3 * r["mean_comm_delay"] for r in ea])
        ed = mean_ci([1e3 * r["mean_edge_delay"] for r in ea])
        lo = mean_ci([1e3 * r["objective"] for r in loc])
        al = mean_ci([100 * r["accuracy"] for r in loc])
        ae = mean_ci([100 * r["accuracy"] for r in ea])
        lines += ["## The calibration point (N = 50, tau = 0.6, Edge all)", "",
                  "| quantity | published | this replay |", "|---|---|---|"]
        for label, key, (m, h) in (("upload (ms)", "upload_ms", up),
                                   ("edge compute (ms)", "edge_ms", ed),
                                   ("local delay (ms)", "local_ms", lo),
                                   ("accuracy all-local (%)", "acc_local", al),
                                   ("accuracy all-edge (%)", "acc_edge", ae)):
            lines.append(f"| {label} | {PUBLISHED[key]:g} | {m:.2f} ± {h:.2f} |")
        lines += ["", "The calibration itself used 2,000 runs (`calibration.md`); this table is "
                  "the replay's own seeds.", ""]

    # 2. Every cell.
    lines += ["## Mean delay (upload + compute) and accuracy per cell", "",
              "| tau | N | policy | delay (ms) | upload (ms) | compute (ms) | accuracy (%) "
              "| offloaded | rule kept |", "|---|---|---|---|---|---|---|---|---|"]
    for tau in taus:
        for n in sizes:
            for p in POLICIES:
                rs = cell.get((p, n, tau), [])
                if not rs:
                    continue
                d = mean_ci([1e3 * r["objective"] for r in rs if r["objective"] is not None])
                u = np.mean([1e3 * r["mean_comm_delay"] for r in rs])
                c = np.mean([1e3 * r["mean_edge_delay"] for r in rs])
                a = np.mean([100 * r["accuracy"] for r in rs])
                k = np.mean([r["n_offloaded"] for r in rs])
                ok = sum(r["status"] in ("optimal", "feasible") for r in rs)
                lines.append(f"| {tau:g} | {n} | {NAMES[p]} | {d[0]:.2f} ± {d[1]:.2f} | "
                             f"{u:.2f} | {c:.2f} | {a:.2f} | {k:.1f} | {ok}/{len(rs)} |")
    lines.append("")

    # 3. The exact solver: bound and gap (other-cells: the MILP bound is interference-free).
    lines += ["## The exact solver: proven bound and gap", "",
              "| tau | N | proven optimal | median gap of highs | median gap of GOA to the "
              "bound | median runtime (s) |", "|---|---|---|---|---|---|"]
    for tau in taus:
        for n in sizes:
            hs = cell.get(("highs", n, tau), [])
            gs = {r["instance_key"]: r for r in cell.get(("goa", n, tau), [])}
            if not hs:
                continue
            opt = sum(r["status"] == "optimal" for r in hs)
            gaps = [r["gap"] for r in hs if r["gap"] is not None]
            goa_gap = [(gs[r["instance_key"]]["objective"] - r["bound"])
                       / gs[r["instance_key"]]["objective"] for r in hs
                       if r["bound"] is not None and r["instance_key"] in gs
                       and gs[r["instance_key"]]["objective"]]
            lines.append(f"| {tau:g} | {n} | {opt}/{len(hs)} | "
                         f"{100 * statistics.median(gaps):.1f} % | "
                         f"{100 * statistics.median(goa_gap):.1f} % | "
                         f"{statistics.median(r['runtime'] for r in hs):.2f} |"
                         if gaps and goa_gap else f"| {tau:g} | {n} | {opt}/{len(hs)} | - | - "
                         "| - |")
    lines.append("")

    # 4. The published claims.
    def m(p: str, n: int, tau: float, key: str) -> float:
        return float(np.mean([r[key] for r in cell[(p, n, tau)]]))

    lines += ["## Published claims, checked on this replay", ""]
    if ("goa", 120, 0.6) in cell and ("edge-all", 120, 0.6) in cell:
        diffs = [100 * (m("edge-all", n, 0.6, "accuracy") - m("goa", n, 0.6, "accuracy"))
                 for n in sizes]
        cut = 1 - m("goa", 120, 0.6, "objective") / m("edge-all", 120, 0.6, "objective")
        lines.append(f"- GOA's accuracy is {min(diffs):.2f}-{max(diffs):.2f} points below "
                     "Edge all over N at tau = 0.6 (published: about 0.5-1.7).")
        lines.append(f"- GOA cuts the mean delay of Edge all by {100 * cut:.1f} % at N = 120, "
                     "tau = 0.6 (published: up to about 30 %).")
        gm = [100 * (m("goa", n, 0.6, "accuracy") - m("min-delay", n, 0.6, "accuracy"))
              for n in sizes]
        lines.append(f"- GOA is {min(gm):.2f}-{max(gm):.2f} accuracy points above Min delay "
                     "(published: more accurate).")
        grows = {p: all(m(p, a, 0.6, "objective") <= m(p, b, 0.6, "objective")
                        for a, b in zip(sizes, sizes[1:], strict=False))
                 for p in ("goa", "edge-all", "min-delay", "random")}
        lines.append("- Delay grows with N (tau = 0.6): " + ", ".join(
            f"{NAMES[p]} {'yes' if v else 'no'}" for p, v in grows.items()) + ".")
        dt = [(m("goa", 120, t, "objective"), m("goa", 120, t, "accuracy")) for t in taus]
        lines.append("- Raising tau at N = 120, GOA: delay " + " -> ".join(
            f"{1e3 * d:.2f}" for d, _ in dt) + " ms; accuracy " + " -> ".join(
            f"{100 * a:.2f}" for _, a in dt) + " % (published: both fall).")
    lines += ["", f"Load average when the report was made: {os.getloadavg()[0]:.2f} "
              "(runtimes are noisy: the machine was shared)."]
    out.mkdir(parents=True, exist_ok=True)
    (out / "REPLAY.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:40]))
    plot_all(rows, out / "plots", tau=0.6, tradeoff_n=max(sizes), prefix="replay_")


if __name__ == "__main__":
    main()
