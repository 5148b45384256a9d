"""Long-term benchmarks: latency vs devices per policy, the Lyapunov V trade-off, and energy
and accuracy over time, on the default long-term scenario.

Usage::

    python benchmarks/longterm/run.py devices  [--workers 1]   # latency_vs_devices.{md,png,pdf}
    python benchmarks/longterm/run.py tradeoff [--workers 1]   # tradeoff.{md,png,pdf}
    python benchmarks/longterm/run.py time                     # over_time.{png,pdf}
    python benchmarks/longterm/run.py report                   # tables and plots from the store

``devices`` and ``tradeoff`` are sweeps run through :mod:`mecopt.bench` into the resumable
store ``longterm.sqlite`` beside this file: a rerun only runs what is missing. Once
``mecopt.longterm.hindsight`` is installed, ``hindsight`` joins the policies and a rerun
of ``devices`` adds only its rows, and the table gains the gap of each policy to it.
Every policy of a (devices, seed) pair runs on the same trace (common random numbers).
The figures are measured on simulated traces of a modelled scenario (see
:mod:`mecopt.longterm.scenario`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

import mecopt
import mecopt.longterm as lt
from mecopt.bench import ResultStore
from mecopt.longterm.plots import plot_latency_vs_devices, plot_over_time, plot_tradeoff
from mecopt.longterm.policy_comparison import compare, summarise, to_markdown

HERE = Path(__file__).parent
STORE = HERE / "longterm.sqlite"
DEVICES = [5, 10, 20, 40]
SEEDS = [0, 1, 2]
HORIZON = 400
V_MAIN = 3.0
V_GRID = [0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
TRADEOFF_DEVICES = 20
MYOPIC_MAX_DEVICES = 20
HINDSIGHT_LIMIT = 120.0


def policies() -> list[dict[str, Any]]:
    """The compared policies (hindsight when installed)."""
    out: list[dict[str, Any]] = [{"name": n} for n in ("local", "offload", "random", "greedy",
                                                       "goa")]
    # One exact solve with quality rows per slot costs about 1 s at U = 20 and several at
    # U = 40 on the shared machine: too much for U = 40 x T = 400 x 3 seeds here.
    out.append({"name": "myopic-optimal", "options": {"time_limit": 10.0},
                "max_n": MYOPIC_MAX_DEVICES})
    out.append({"name": "lyapunov", "options": {"V": V_MAIN}})
    if "hindsight" in lt.available_policies():
        out.append({"name": "hindsight", "options": {"time_limit": HINDSIGHT_LIMIT}})
    return out


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=HERE).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def header(title: str, what: str) -> list[str]:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    scen = lt.make_scenario()
    return [f"# {title}", "",
            f"Commit `{commit()}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"mecopt {mecopt.__version__}. Load average at report time: {load}.",
            f"Default long-term scenario (modelled; `mecopt.longterm.scenario`): slot "
            f"{scen.slot_s} s, Bernoulli arrivals {scen.arrival_rate}/slot, profile "
            f"`{scen.profile}`, device `{scen.device}`, M = {scen.n_servers}, energy budget "
            f"{scen.energy_budget_j} J/slot, A_min = {scen.min_accuracy}, "
            f"H_max = {scen.max_hallucination}.",
            f"{what} Figures are **measured** on simulated traces (common random numbers: "
            "every policy of a seed runs on the same trace).", ""]


def rows_of(sweep: str) -> list[dict[str, Any]]:
    with ResultStore(STORE) as db:
        rows = [r for r in db.rows() if r["sweep"] == sweep]
    for r in rows:
        r["metrics"] = json.loads(r["metrics"]) if r.get("metrics") else {}
    return rows


def report_devices() -> None:
    rows = rows_of("latency_vs_devices")
    if not rows:
        return
    summary = summarise(rows)
    seeds = sorted({int(r["seed"]) for r in rows})
    # The plot shows the hindsight optimum where proven and its lower bound elsewhere
    # (a time-limited plan's latency is no reference).
    plotted = [dict(r) for r in rows]
    for r in plotted:
        if r["solver"] == "hindsight":
            r["solver"] = "hindsight (bound)"
            if r["status"] != "optimal":
                r["objective"] = r["bound"]
    plot_latency_vs_devices(summarise(plotted), HERE / "latency_vs_devices.png",
                            title=f"Default scenario, T = {HORIZON}, seeds {seeds}")
    hind = "hindsight" in {r["solver"] for r in rows}
    lines = header("Mean latency against the number of devices",
                   f"T = {HORIZON} slots, seeds {seeds}; `lyapunov` with V = {V_MAIN}, "
                   "`myopic-optimal` with a 10 s limit per slot, run up to "
                   f"U = {MYOPIC_MAX_DEVICES} only (its exact slot solves with accuracy and "
                   "hallucination rows take several seconds each at U = 40 on this shared "
                   "machine).")
    lines += ["`std` is over seeds; `feasible` the share of seeds meeting every long-term "
              "constraint; `worst energy / budget` the mean over seeds of the most spending "
              "device's ratio (> 1 violates its budget).",
              f"`hindsight`: the full-horizon optimum with a {HINDSIGHT_LIMIT:g} s limit; the "
              "gap is taken to its optimum when proven and to its proven lower bound "
              "otherwise (the hindsight runs table says which); where it is not proven, the "
              "`hindsight` row of the summary shows the best plan found in the limit, which "
              "can be as bad as always-offload, and the plot shows the bound instead. The gap "
              "compares like with like only for policies meeting the constraints (the "
              "hindsight bound holds for those)." if hind else
              "The hindsight optimum is not installed in this build: its "
              "column is empty until `mecopt.longterm.hindsight` lands and this sweep is "
              "rerun (only the hindsight runs are added).", "",
              to_markdown(summary)]
    if hind:
        lines += ["Hindsight runs (status `optimal`: proven within 1e-4; `feasible`: stopped by "
                  "the time limit, latency of its best plan and its proven lower bound):", "",
                  "| U | seed | status | latency (ms) | lower bound (ms) | gap | runtime (s) |",
                  "|---|---|---|---|---|---|---|"]
        for r in sorted((r for r in rows if r["solver"] == "hindsight"),
                        key=lambda r: (r["n_users"], r["seed"])):
            bound = "-" if r["bound"] is None else f"{1e3 * r['bound']:.3f}"
            gap = "-" if r["gap"] is None else f"{100 * r['gap']:.1f} %"
            lat = "-" if r["objective"] is None else f"{1e3 * r['objective']:.3f}"
            lines.append(f"| {r['n_users']} | {r['seed']} | {r['status']} | {lat} | {bound} | "
                         f"{gap} | {r['runtime'] or 0:.1f} |")
        lines.append("")
    lines.append("![latency vs devices](latency_vs_devices.png)")
    (HERE / "latency_vs_devices.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def report_tradeoff() -> None:
    rows = rows_of("lyapunov_tradeoff")
    if not rows:
        return
    scen = lt.make_scenario()
    seeds = sorted({int(r["seed"]) for r in rows})
    points = []
    for s in summarise(rows):
        g = [r for r in rows if r["solver"] == s["policy"]]
        m = [r["metrics"] for r in g if r["metrics"]]
        points.append({
            "V": float(s["policy"].split("=")[1]), "latency_ms": s["latency_ms"],
            "accuracy_slack": float(np.mean([x["accuracy"] for x in m])) - scen.min_accuracy,
            "energy_slack": 1.0 - float(np.mean([x["energy_max_ratio"] for x in m])),
            "hallucination_slack": scen.max_hallucination
            - float(np.mean([x["hallucination"] for x in m])),
            "feasible": s["feasible"],
        })
    points.sort(key=lambda p: p["V"])
    plot_tradeoff(points, HERE / "tradeoff.png",
                  title=f"Lyapunov trade-off, U = {TRADEOFF_DEVICES}, T = {HORIZON}, "
                        f"seeds {seeds}")
    lines = header("Lyapunov drift-plus-penalty: the V trade-off",
                   f"U = {TRADEOFF_DEVICES}, T = {HORIZON} slots, seeds {seeds}.")
    lines += ["| V (1/s) | mean latency (ms) | min | max | accuracy - A_min | "
              "1 - worst energy/budget | H_max - hallucination | seeds feasible |",
              "|---|---|---|---|---|---|---|---|"]
    for p in points:
        lat = p["latency_ms"]
        lines.append(f"| {p['V']:g} | {lat['mean']:.2f} | {lat['min']:.2f} | {lat['max']:.2f} "
                     f"| {p['accuracy_slack']:+.4f} | {p['energy_slack']:+.3f} | "
                     f"{p['hallucination_slack']:+.4f} | {100 * p['feasible']:.0f} % |")
    lines += ["", "Larger V weighs latency more against the virtual queues: lower latency, "
              "slower convergence of the long-term averages (negative slack: violated over "
              "this horizon).", "", "![V trade-off](tradeoff.png)"]
    (HERE / "tradeoff.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def over_time() -> None:
    """Running energy and accuracy of a few policies on one trace (U = 20, seed 0)."""
    tr = lt.trace(n_devices=TRADEOFF_DEVICES, horizon=HORIZON, seed=0)
    series = {}
    for label, name, opts in (("local", "local", {}), ("greedy", "greedy", {}),
                              ("goa", "goa", {}), (f"lyapunov V={V_MAIN:g}", "lyapunov",
                                                   {"V": V_MAIN}),
                              ("lyapunov V=30", "lyapunov", {"V": 30.0})):
        r = lt.run(tr, name, **opts)
        rec = r.records
        series[label] = {"energy": rec.energy.mean(axis=1),
                         "accuracy_sum": rec.accuracy.sum(axis=1),
                         "queries": rec.has_query.sum(axis=1)}
    scen = tr.scenario
    plot_over_time(series, HERE / "over_time.png", budget=scen.energy_budget_j,
                   min_accuracy=scen.min_accuracy,
                   title=f"Running means on one trace (U = {TRADEOFF_DEVICES}, seed 0; "
                         "energy: mean over devices)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", choices=["devices", "tradeoff", "time", "report"])
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    if args.part == "devices":
        compare(policies(), devices=DEVICES, horizon=HORIZON, seeds=SEEDS, store=STORE,
                workers=args.workers, name="latency_vs_devices")
        report_devices()
    elif args.part == "tradeoff":
        entries = [{"name": "lyapunov", "label": f"lyapunov V={v:g}", "options": {"V": v}}
                   for v in V_GRID]
        compare(entries, devices=[TRADEOFF_DEVICES], horizon=HORIZON, seeds=SEEDS,
                store=STORE, workers=args.workers, name="lyapunov_tradeoff")
        report_tradeoff()
    elif args.part == "time":
        over_time()
    else:
        report_devices()
        report_tradeoff()


if __name__ == "__main__":
    main()
