"""Fit the price prior of the ``priced`` policy from hindsight's LP duals on training traces.

Usage::

    python benchmarks/online/fit_prior.py [--workers 1]   # -> mecopt/data/prices/default.json

A :mod:`mecopt.bench` sweep (store ``prior_training.sqlite`` beside this file, resumable)
runs ``hindsight`` with ``lp_only = true`` on training traces, seeds from 1,000,000 on
(disjoint from every benchmark and tuning seed), over U, the arrival rate and the accuracy
target; each row records the LP's dual prices (``metrics.info.prices``). The features of
each trace are taken from its slot-0 observation (:func:`mecopt.longterm.price_prior.
slot0_features`), and the prior (k-NN on standardised features) is written with its
provenance. A leave-one-out error is printed and stored in the file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

import mecopt
from mecopt.bench import LocalExecutor, ResultStore, parse_spec, run_sweep
from mecopt.longterm.price_prior import FEATURES, PRICES, PricePrior, slot0_features
from mecopt.longterm.simulator import Simulator
from mecopt.longterm.trace_draw import make_trace

HERE = Path(__file__).parent
STORE = HERE / "prior_training.sqlite"
OUT = HERE.parent.parent / "mecopt" / "data" / "prices" / "default.json"
#: Training seeds start here (benchmark seeds are below 100,000; tuning from 2,000,000).
SEED0 = 1_000_000
HORIZON = 100
#: Neighbour counts and feature masks (in the order of FEATURES) tried; the pair with the
#: least leave-one-out error on the accuracy price is kept.
KS = (3, 5, 8)
MASKS = (
    (1, 1, 1, 1, 1, 1, 1),
    (1, 1, 1, 1, 0, 0, 0),
    (1, 1, 0, 1, 0, 0, 0),
    (1, 0, 0, 1, 0, 0, 0),
    (1, 1, 1, 1, 0, 1, 0),
)
#: The LP only (no MILP), the greedy incumbent only: the duals are all the fit needs.
HINDSIGHT = {
    "name": "hindsight",
    "options": {"lp_only": True, "priced": False, "incumbents": ["greedy"]},
}
#: (devices, seeds per combination): the LP at U = 40 costs about a minute on one core.
SIZES = ((10, 2), (20, 2), (30, 1), (40, 1))
RATES = [0.5, 0.6, 0.7]
TARGETS = [0.51, 0.52, 0.53]


def spec() -> Any:
    """The training sweep: U x arrival rate x accuracy target, distinct seeds per grid."""
    grids = []
    start = SEED0
    for n, count in SIZES:
        for rate in RATES:
            for target in TARGETS:  # a seed of its own per trace: capacities differ
                grids.append(
                    {
                        "kind": "longterm",
                        "scenario": "default",
                        "n_users": [n],
                        "horizon": HORIZON,
                        "seeds": {"start": start, "count": count},
                        "solvers": [HINDSIGHT],
                        "options": {"arrival_rate": rate, "min_accuracy": target},
                    }
                )
                start += count
    return parse_spec(
        {"sweep": {"name": "price_prior_training", "hard_limit": 1800.0}, "grid": grids}
    )


def training_points(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Features and LP prices of every row with an LP (infeasible traces dropped)."""
    xs, ys, used = [], [], []
    for r in rows:
        m = json.loads(r["metrics"]) if r.get("metrics") else {}
        prices = (m.get("info", {}).get("prices") or [None])[0]
        if prices is None:
            continue
        over = json.loads(r["instance_key"])["overrides"]
        over = {k: v for k, v in over.items() if k != "__task__"}
        tr = make_trace(
            "default", n_devices=int(r["n_users"]), horizon=HORIZON, seed=int(r["seed"]), **over
        )
        obs = Simulator(tr).reset()
        xs.append(slot0_features(obs, 0, tr.scenario.arrival_rate))
        ys.append([prices["accuracy"], prices["hallucination"], float(np.mean(prices["energy"]))])
        used.append({"n_users": int(r["n_users"]), "seed": int(r["seed"]), **over})
    return np.array(xs), np.array(ys), used


def leave_one_out(x: np.ndarray, y: np.ndarray, k: int, weights: np.ndarray) -> np.ndarray:
    """(3,) mean absolute error of each price predicted without its own trace."""
    err = []
    for i in range(len(x)):
        keep = np.arange(len(x)) != i
        p = PricePrior.fit(x[keep], y[keep], k=k, weights=weights).predict(x[i])
        err.append([abs(p[n] - y[i, k]) for k, n in enumerate(PRICES)])
    return np.mean(err, axis=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--fit-only", action="store_true", help="fit on the stored rows only")
    args = ap.parse_args()
    sw = spec()
    with ResultStore(STORE) as db:
        if not args.fit_only:
            run_sweep(sw, db, LocalExecutor(args.workers))
        rows = [r for r in db.rows() if r["sweep"] == sw.name]
    x, y, used = training_points(rows)
    tried = {(k, mask): leave_one_out(x, y, k, np.array(mask, float)) for k in KS for mask in MASKS}
    (k, mask), loo = min(tried.items(), key=lambda kv: kv[1][0])
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    prior = PricePrior.fit(
        x,
        y,
        k=k,
        weights=np.array(mask, float),
        provenance={
            "made_by": "benchmarks/online/fit_prior.py",
            "commit": commit,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "mecopt": mecopt.__version__,
            "source": "hindsight LP duals (lp_only)",
            "solver": json.loads(rows[0]["metrics"])["info"].get("solver") if rows else None,
            "horizon": HORIZON,
            "scenario": "default",
            "traces": used,
            "leave_one_out_mae": dict(zip(PRICES, loo.round(6).tolist(), strict=True)),
            "selection": [
                {"k": kk, "weights": list(m), "loo_mae_accuracy": round(float(v[0]), 6)}
                for (kk, m), v in tried.items()
            ],
            "features": list(FEATURES),
        },
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(prior.to_dict(), indent=1) + "\n")
    print(f"{len(x)} training traces -> {OUT}")
    print("prices: mean", y.mean(axis=0).round(4), "max", y.max(axis=0).round(4))
    print("leave-one-out mean absolute error:", dict(zip(PRICES, loo.round(4), strict=True)))


if __name__ == "__main__":
    main()
