"""Time to the hindsight optimum (``mecopt.longterm.hindsight``) and how it grows.

Usage::

    python benchmarks/longterm/hindsight_time.py [--groups target growth beyond direct]
        [--out benchmarks/longterm]

Groups (scenario "default" with M = 3, threads 1, every time limit includes model building):

- ``target``: U = 20, T = 200, seeds 0, 1, 2, time limit 60 s (the target of issue 9);
- ``growth``: U = 20 with T = 25, 50, 100, and T = 50 with U = 5, 10, 40 (seed 0,
  limit 120 s), for how the time grows with U and T;
- ``beyond``: U = 40, T = 200 and U = 20, T = 500 with a 60 s limit: the bound and gap a
  time limit gives;
- ``tight``: U = 20, T = 50 with gap tolerance 1e-6 (limit 120 s);
- ``direct``: the full model handed to HiGHS as it is (no pricing, no elimination), U = 20,
  T = 50 and 200, 60 s, the comparison that decided the method.

Writes ``hindsight_results.json`` after every solve (so partial results survive) and
``hindsight_results.md`` at the end. All figures are measured; the machine is shared, so
the load average is recorded with every solve.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

import mecopt.longterm as lt
from mecopt.formulations.hindsight_model import MS, build
from mecopt.longterm.hindsight import solve_hindsight
from mecopt.solvers.highs_matrix import highs_version, solve_matrix

M = 3
CASES = {
    "target": [(20, 200, s, 60.0, 1e-4) for s in (0, 1, 2)],
    "growth": [(20, 25, 0, 120.0, 1e-4), (20, 50, 0, 120.0, 1e-4), (20, 100, 0, 120.0, 1e-4),
               (5, 50, 0, 120.0, 1e-4), (10, 50, 0, 120.0, 1e-4), (40, 50, 0, 120.0, 1e-4)],
    "beyond": [(40, 200, 0, 60.0, 1e-4), (20, 500, 0, 60.0, 1e-4)],
    "tight": [(20, 50, 0, 120.0, 1e-6)],
    "direct": [(20, 50, 0, 60.0, 1e-4), (20, 200, 0, 60.0, 1e-4)],
}


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_hindsight(u: int, t: int, seed: int, limit: float, gap_tol: float) -> dict:
    tr = lt.trace(n_devices=u, horizon=t, seed=seed, n_servers=M)
    res = solve_hindsight(tr, time_limit=limit, gap_tol=gap_tol)
    st = res.stats[0]
    rounds = st.get("rounds", [])
    return {"method": "hindsight", "status": res.status[0],
            "objective_ms": 1e3 * float(res.objective[0]),
            "bound_ms": 1e3 * float(res.bound[0]), "gap": float(res.gap[0]),
            "runtime": float(res.runtime[0]), "queries": st["queries"],
            "columns": st["columns"], "lp_seconds": st.get("lp_seconds"),
            "lp_bound_gap": (float(res.objective[0]) * MS * st["queries"]
                             - st.get("lagrangian_bound", np.nan))
            / (float(res.objective[0]) * MS * st["queries"]),
            "kept": [r["kept"] for r in rounds], "nodes": [r["nodes"] for r in rounds],
            "milp_seconds": [round(r["seconds"], 2) for r in rounds],
            "incumbents": st.get("incumbents"), "source": st.get("source")}


def run_direct(u: int, t: int, seed: int, limit: float, gap_tol: float) -> dict:
    start = time.perf_counter()
    tr = lt.trace(n_devices=u, horizon=t, seed=seed, n_servers=M)
    model = build(tr, 0)
    sol = solve_matrix(model.c, model.constant, model.A, model.row_lo, model.row_hi,
                       model.col_lo, model.col_hi, model.integer,
                       time_limit=limit - (time.perf_counter() - start), mip_rel_gap=gap_tol)
    n = model.n_queries
    obj = sol.objective / MS / n if sol.objective is not None else None
    bound = sol.bound / MS / n if sol.bound is not None else None
    return {"method": "direct", "status": sol.status,
            "objective_ms": 1e3 * obj if obj is not None else None,
            "bound_ms": 1e3 * bound if bound is not None else None,
            "gap": (obj - bound) / obj if obj and bound is not None else None,
            "runtime": time.perf_counter() - start, "queries": n, "columns": model.n_cols,
            "nodes": sol.nodes}


def fmt(v: object, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def write_md(rows: list[dict], meta: dict, out: Path) -> None:
    lines = ["# Hindsight optimum: time to proven optimality and growth (measured)", "",
             f"Commit `{meta['commit']}`, {meta['date']}, {meta['machine']}, highspy "
             f"{meta['highspy']}, threads 1, scenario `default` with M = {M}. "
             "Times are wall-clock seconds with model building, the LP and the online "
             "incumbents included. The 2 cores were shared with other work: the load "
             "average (1 min) at the start of each solve is given; absolute times are "
             "pessimistic.", "",
             "| group | U | T | seed | queries | method | status | mean latency (ms) | "
             "bound (ms) | gap | LP gap | time (s) | LP (s) | kept binaries | nodes | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['group']} | {r['U']} | {r['T']} | {r['seed']} | {r['queries']} | "
            f"{r['method']} | {r['status']} | {fmt(r['objective_ms'], '.4f')} | "
            f"{fmt(r['bound_ms'], '.4f')} | {fmt(r['gap'], '.2e')} | "
            f"{fmt(r.get('lp_bound_gap'), '.2e')} | {r['runtime']:.1f} | "
            f"{fmt(r.get('lp_seconds'), '.1f')} | {r.get('kept', '-')} | {r['nodes']} | "
            f"{r['load'][0]:.2f} |")
    target = [r for r in rows if r["group"] == "target"]
    if target:
        times = sorted(r["runtime"] for r in target)
        met = sum(r["status"] == "optimal" and r["runtime"] <= 60.0 for r in target)
        lines += ["", f"Target U = 20, T = 200, M = 3 proven optimal (gap <= 1e-4) within "
                  f"60 s: {met} of {len(target)} seeds; median time "
                  f"{times[len(times) // 2]:.1f} s."]
    lines += ["", "`LP gap` is (objective - Lagrangian bound) / objective: the relative "
              "distance the branch-and-bound had to close. `kept binaries` lists the "
              "reduced model's size in each threshold round (of `columns` in the full "
              "model)."]
    (out / "hindsight_results.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", nargs="+", default=list(CASES), choices=list(CASES))
    ap.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = ap.parse_args()
    meta = {"commit": commit(), "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "highspy": highs_version(), "threads": 1, "scenario": "default", "M": M}
    path = args.out / "hindsight_results.json"
    rows: list[dict] = []
    for group in args.groups:
        for u, t, seed, limit, gap_tol in CASES[group]:
            load = os.getloadavg()
            fn = run_direct if group == "direct" else run_hindsight
            row = fn(u, t, seed, limit, gap_tol)
            row.update(group=group, U=u, T=t, seed=seed, time_limit=limit, gap_tol=gap_tol,
                       load=list(load), load_end=list(os.getloadavg()))
            rows.append(row)
            print(json.dumps({k: row[k] for k in ("group", "U", "T", "seed", "status",
                                                   "gap", "runtime")}), flush=True)
            path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1,
                                       default=str) + "\n")
    write_md(rows, meta, args.out)


if __name__ == "__main__":
    main()
