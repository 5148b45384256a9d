"""Time to prove optimality on kim2026 (interference "none") for every exact backend.

Usage::

    python benchmarks/exact_time/run.py [--sizes 20 40 60 120] [--seeds 0 1 2]
        [--time-limit 120] [--out benchmarks/exact_time]

Writes ``results.json`` (every solve, with versions, threads, seeds and the commit) and
``results.md`` (median runtime per backend and size, the share proven optimal, and the
fastest backend's ratio to the others, all measured in the same run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

import mecopt
from mecopt.solve import EXACT_SOLVERS

TARGET_N, TARGET_S = 120, 10.0


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def fmt_load(load: tuple[float, ...]) -> str:
    return ", ".join(f"{v:.2f}" for v in load)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 40, 60, 120])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--solvers", nargs="+", default=list(EXACT_SOLVERS))
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = ap.parse_args()

    load_start = os.getloadavg()
    rows = []
    for n in args.sizes:
        for seed in args.seeds:
            inst = mecopt.scenario("kim2026", n, seed, interference="none")
            for name in args.solvers:
                res = mecopt.solve(inst, name, time_limit=args.time_limit, seed=seed,
                                   threads=args.threads)
                rows.append({"n_users": n, "seed": seed, "solver": name,
                             "status": res.status, "objective": res.objective,
                             "bound": res.bound, "gap": res.gap, "runtime": res.runtime,
                             "solver_version": res.solver_version, "threads": res.threads,
                             "time_limit": res.time_limit, "cols": res.info.get("cols"),
                             "rows": res.info.get("rows")})
                print(f"N={n:4d} seed={seed} {name:<14} {res.status:<9} "
                      f"{res.runtime:8.2f} s  obj={res.objective}", flush=True)

    meta = {"benchmark": "exact_time", "scenario": "kim2026", "interference": "none",
            "commit": commit(), "mecopt": mecopt.__version__, "python": platform.python_version(),
            "machine": platform.machine(), "processor_count": os.cpu_count(),
            "load_average_start": load_start, "load_average_end": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "threads": args.threads, "time_limit": args.time_limit, "seeds": args.seeds}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))

    lines = ["# Time to proven optimality, kim2026, interference none", "",
             f"Commit `{meta['commit']}`, {meta['date']}, {meta['processor_count']} cores, "
             f"threads {args.threads}, seeds {args.seeds}, time limit {args.time_limit} s.",
             f"Load average (1, 5, 15 min) at start {fmt_load(load_start)}, at end "
             f"{fmt_load(meta['load_average_end'])}: other work shared the 2 cores, so absolute "
             "times are pessimistic; ratios come from this one run.",
             "Median wall-clock seconds over the seeds (model building included); "
             "in brackets the share of seeds proven optimal.", "",
             "| backend | " + " | ".join(f"N = {n}" for n in args.sizes) + " |",
             "|---|" + "---|" * len(args.sizes)]
    med: dict[tuple[str, int], float] = {}
    for name in args.solvers:
        cells = []
        for n in args.sizes:
            sel = [r for r in rows if r["solver"] == name and r["n_users"] == n]
            m = statistics.median(r["runtime"] for r in sel)
            med[name, n] = m
            opt = sum(r["status"] == "optimal" for r in sel)
            cells.append(f"{m:.2f} ({opt}/{len(sel)})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for n in args.sizes:
        objs = {(r["seed"]): [] for r in rows if r["n_users"] == n}
        for r in rows:
            if r["n_users"] == n and r["status"] == "optimal":
                objs[r["seed"]].append(r["objective"])
        agree = all(max(v) - min(v) <= 1e-6 * max(v) for v in objs.values() if v)
        lines.append("")
        lines.append(f"N = {n}: all backends proving optimality agree on the objective: "
                     f"{'yes' if agree else 'NO'}")
    if TARGET_N in args.sizes:
        fastest = min(args.solvers, key=lambda s: med[s, TARGET_N])
        t = med[fastest, TARGET_N]
        lines += ["", f"Target: N = {TARGET_N}, M = 4 proven optimal in under {TARGET_S:g} s by "
                  f"the fastest backend: **{fastest}, median {t:.2f} s** "
                  f"({'met' if t < TARGET_S else 'NOT met'}).",
                  "Ratios to the fastest at N = 120 (same run): " + ", ".join(
                      f"{s} {med[s, TARGET_N] / t:.1f}x" for s in args.solvers)]
    (args.out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
