"""Exact at scale on kim2026 (M = 4, seeds 0-4): time to proof, bounds, memory, lns gaps,
time-limit overruns per backend.

Usage::

    python benchmarks/exact_scale/run.py [--parts proof accuracy large lns overrun
        interference big-m] [--seeds 0 1 2 3 4] [--out benchmarks/exact_scale]

Every solve runs in a fresh child process (``--one``), so its peak memory (``ru_maxrss``)
is its own. Rows are appended to ``results.jsonl`` as they finish (a partial run is still
usable); ``report.py`` turns them into ``results.md``. Timings are wall-clock seconds on a
shared machine: the load average is recorded with every row.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
#: Sizes of the side-by-side comparison with the generic big-M model.
BIG_M_SIZES = (10, 20, 40, 60, 120)


def instance(n: int, seed: int, target: bool | str, interference: str = "none"):  # noqa: ANN201
    """kim2026 instance; ``target=True``: accuracy target at the midpoint of all-local and
    all-edge accuracy; ``target="binding"``: halfway from the accuracy of the best
    unconstrained answer known (``lns``) to the all-edge accuracy, which binds."""
    import mecopt

    inst = mecopt.scenario("kim2026", n, seed, interference=interference)
    if target:
        hi = mecopt.solve(inst, "edge-all").accuracy
        if target == "binding":
            lo = mecopt.solve(inst, "lns").accuracy
        else:
            lo = mecopt.solve(inst, "local-all").accuracy
        inst = inst.replace(min_accuracy=0.5 * (lo + hi))
    return inst


def one(spec: dict) -> dict:
    """Run one solve (in this process) and describe it."""
    import mecopt

    inst = instance(spec["n"], spec["seed"], spec.get("target", False),
                    spec.get("interference", "none"))
    trace: list[dict] = []
    options = dict(spec.get("options", {}))
    if spec["solver"] in ("exact", "highs", "cvxpy", "pyomo", "ortools-mip", "ortools-cpsat"):
        options["progress"] = trace.append
    load = os.getloadavg()
    t0, c0 = time.perf_counter(), time.process_time()
    res = mecopt.solve(inst, spec["solver"], time_limit=spec.get("time_limit"),
                       seed=spec["seed"], threads=spec.get("threads", 2), **options)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    proof = next((e["time"] for e in trace if e["gap"] is not None
                  and e["gap"] <= spec.get("proof_gap", 1e-4)), None)
    return {**spec, "status": res.status, "objective": res.objective, "bound": res.bound,
            "gap": res.gap, "runtime": res.runtime, "wall": wall, "cpu": cpu,
            "time_to_proof": proof,
            "solver_version": res.solver_version, "formulation": res.info.get("formulation"),
            "cols": res.info.get("cols"), "bound_source": res.info.get("bound_source"),
            "message": res.message[:300], "load_average": load,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "trace": [{k: e[k] for k in ("time", "incumbent", "bound", "gap")} for e in trace]}


def child(spec: dict, hard: float) -> dict:
    cmd = [sys.executable, __file__, "--one", json.dumps(spec)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=hard, check=False)
    except subprocess.TimeoutExpired:
        return {**spec, "status": "killed", "wall": hard, "load_average": os.getloadavg()}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {**spec, "status": "error", "message": out.stderr[-500:]}
    return json.loads(lines[-1])


def specs(parts: list[str], seeds: list[int]) -> list[dict]:
    """The solves of the chosen parts, part by part (in the order given), seed by seed."""
    table: dict[str, list[dict]] = {
        "proof": [{"part": "proof", "n": n, "solver": solver, "time_limit": 60.0,
                   "options": options}
                  for n, solver, options in ((120, "exact", {"gap": 1e-4}),
                                             (120, "highs", {"formulation": "count-indexed"}),
                                             (1000, "exact", {"gap": 1e-4}))],
        "accuracy": [{"part": "accuracy", "n": n, "solver": "exact", "target": True,
                      "time_limit": 60.0, "options": {"gap": 1e-4}} for n in (120, 1000)],
        "binding": [{"part": "binding", "n": n, "solver": "exact", "target": "binding",
                     "time_limit": 60.0, "options": {"gap": 1e-4}} for n in (120, 1000)],
        "large": [{"part": "large", "n": 10000, "solver": "exact", "time_limit": 60.0,
                   "options": {"gap": 1e-4}}],
        "lns": [{"part": "lns", "n": n, "solver": "lns", "time_limit": limit}
                for n, limit in ((120, 0.05), (120, None), (10000, 5.0))],
        "interference": [{"part": "interference", "n": 8, "solver": "bruteforce",
                          "interference": "other-cells"}]
        + [{"part": "interference", "n": n, "solver": "exact", "interference": "other-cells",
            "time_limit": 60.0, "options": options}
           for n, options in ((8, {}), (8, {"formulation": "intervals", "gap": 1e-4}),
                              (30, {"gap": 1e-4}), (30, {"formulation": "intervals", "gap": 1e-4}),
                              (60, {"gap": 1e-4}), (120, {"gap": 1e-4}))],
    }
    out = [{**row, "seed": s} for part in parts if part in table for s in seeds
           for row in table[part]]
    if "big-m" in parts:
        # The generic big-M model beside the default formulation, both on HiGHS, size by
        # size (seeds inner), in one run.
        for n in BIG_M_SIZES:
            for s in seeds:
                for options in ({}, {"formulation": "big-m"}):
                    out.append({"part": "big-m", "n": n, "seed": s, "solver": "highs",
                                "time_limit": 60.0, "options": options})
    if "overrun" in parts:
        for solver in ("exact", "highs", "cvxpy", "ortools-mip", "ortools-cpsat", "pyomo"):
            out.append({"part": "overrun", "n": 1000, "seed": 0, "solver": solver,
                        "time_limit": 4.0})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--parts", nargs="+",
                    default=["proof", "accuracy", "binding", "lns", "overrun", "large",
                             "interference", "big-m"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one))), flush=True)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "results.jsonl"
    done = set()
    if path.exists():
        for ln in path.read_text().splitlines():
            r = json.loads(ln)
            done.add(json.dumps({k: r[k] for k in sorted(r) if k in SPEC_KEYS}))
    for spec in specs(args.parts, args.seeds):
        key = json.dumps({k: spec[k] for k in sorted(spec) if k in SPEC_KEYS})
        if key in done:
            continue
        row = child(spec, hard=3.0 * (spec.get("time_limit") or 60.0) + 60.0)
        row["commit"] = COMMIT
        with path.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(f"{row['part']:<12} N={row['n']:<6} seed={row['seed']} {row['solver']:<14} "
              f"{row.get('status')} gap={row.get('gap')} wall={row.get('wall')}", flush=True)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=HERE).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


COMMIT = _commit()
SPEC_KEYS = ("part", "n", "seed", "solver", "target", "time_limit", "options", "interference")

if __name__ == "__main__":
    main()
