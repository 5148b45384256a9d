"""Tune the gains of ``priced`` and the energy scale of ``lyapunov`` on tuning seeds.

Usage::

    python benchmarks/online/tune.py [--workers 1]     # -> tuning.md

A :mod:`mecopt.bench` sweep (store ``tuning.sqlite``, resumable) on tuning traces (seeds
from 2,000,000 on: disjoint from the prior's training seeds and from the benchmark) runs
each candidate setting and hindsight's LP (``lp_only``) as the reference; the table gives
each setting's mean and worst gap to the LP bound (an upper bound on the gap to the
optimum), the traces meeting every constraint and the accuracy slack.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.bench import LocalExecutor, ResultStore, parse_spec, run_sweep

HERE = Path(__file__).parent
STORE = HERE / "tuning.sqlite"
SEED0 = 2_000_000
SEEDS = 6
SIZES = (20, 40)
#: Settings run at U = 40 (an LP there costs about a minute): the default and the backstop.
AT_40 = ("priced kp=20 ki=0.5", "priced backstop at target")
HORIZON = 100
REFERENCE = {
    "name": "hindsight",
    "label": "lp-bound",
    "options": {"lp_only": True, "priced": False, "incumbents": ["greedy"]},
}
CANDIDATES: list[dict[str, Any]] = [
    {"name": "priced", "label": "priced kp=20 ki=0.5", "options": {}},
    {
        "name": "priced",
        "label": "priced kp=5 ki=0.1",
        "options": {
            "accuracy_kp": 5.0,
            "hallucination_kp": 5.0,
            "accuracy_ki": 0.1,
            "hallucination_ki": 0.1,
        },
    },
    {
        "name": "priced",
        "label": "priced kp=50 ki=2",
        "options": {
            "accuracy_kp": 50.0,
            "hallucination_kp": 50.0,
            "accuracy_ki": 2.0,
            "hallucination_ki": 2.0,
        },
    },
    {"name": "priced", "label": "priced no correction", "options": {"correct": False}},
    # The backstop aimed at the target itself (+1e-5) instead of the correction's margin.
    {"name": "priced", "label": "priced backstop at target", "options": {"backstop_margin": 1e-5}},
    {"name": "lyapunov", "label": "lyapunov W=1", "options": {"energy_window": 1.0}},
    {"name": "lyapunov", "label": "lyapunov W=5", "options": {"energy_window": 5.0}},
    {"name": "lyapunov", "label": "lyapunov W=20", "options": {"energy_window": 20.0}},
]


def spec() -> Any:
    grids = [
        {
            "kind": "longterm",
            "scenario": "default",
            "n_users": [n],
            "horizon": HORIZON,
            "seeds": {"start": SEED0 + 1000 * k, "count": SEEDS},
            "solvers": [REFERENCE, *(c for c in CANDIDATES if n < 40 or c["label"] in AT_40)],
        }
        for k, n in enumerate(SIZES)
    ]
    return parse_spec({"sweep": {"name": "online_tuning", "hard_limit": 1800.0}, "grid": grids})


def table(rows: list[dict[str, Any]]) -> list[str]:
    ref = {(r["n_users"], r["seed"]): r["bound"] for r in rows if r["solver"] == "lp-bound"}
    out = [
        "| U | setting | traces | feasible | mean gap to LP bound | worst | accuracy slack |",
        "|---|---|---|---|---|---|---|",
    ]
    for n in SIZES:
        for c in CANDIDATES:
            g = [
                r
                for r in rows
                if r["solver"] == c["label"] and r["n_users"] == n and ref.get((n, r["seed"]))
            ]
            if not g:
                continue
            gaps = [100 * (r["objective"] - ref[(n, r["seed"])]) / ref[(n, r["seed"])] for r in g]
            acc = [json.loads(r["metrics"])["accuracy"] - 0.52 for r in g]
            feas = sum(r["status"] == "feasible" for r in g)
            out.append(
                f"| {n} | {c['label']} | {len(g)} | {feas}/{len(g)} | "
                f"{np.mean(gaps):.2f} % | {np.max(gaps):.2f} % | {np.mean(acc):+.4f} |"
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    sw = spec()
    with ResultStore(STORE) as db:
        run_sweep(sw, db, LocalExecutor(args.workers))
        rows = [r for r in db.rows() if r["sweep"] == sw.name]
    lines = [
        "# Tuning of priced and lyapunov (measured, tuning seeds)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; default scenario, "
        f"T = {HORIZON}, seeds {SEED0}+ ({SEEDS} per U); load average at report time "
        f"{os.getloadavg()[0]:.2f}. Gap: (mean latency - hindsight LP bound) / LP bound, "
        "an upper bound on the gap to the optimum.",
        "",
        *table(rows),
    ]
    (HERE / "tuning.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
