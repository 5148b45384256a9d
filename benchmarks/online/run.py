"""The online-control benchmark: policies against the hindsight optimum on held-out traces.

Usage::

    python benchmarks/online/run.py run [CELL ...] [--workers 1] [--seeds N]
    python benchmarks/online/run.py report          # RESULTS.md and the plots
    python benchmarks/online/run.py list            # the cells and the task counts

The cells (U, T and scenario overrides) and the policies are listed in ``online.toml``; a
policy is added by adding its name there. Each cell is a :mod:`mecopt.bench` sweep of
``longterm`` tasks into the resumable store ``online.sqlite`` (a rerun only runs what is
missing), every policy of a seed on the same trace (common random numbers). Held-out
seeds only: the price prior is fitted on seeds >= 1,000,000 and the gains tuned on seeds
>= 2,000,000 (``fit_prior.py``, ``tune.py``).
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

from mecopt.bench import LocalExecutor, ResultStore, SweepSpec, parse_spec, run_sweep

HERE = Path(__file__).parent
CONFIG = HERE / "online.toml"
SWEEP = "online"


def load_config(path: Path = CONFIG) -> dict[str, Any]:
    """The benchmark's settings, policies and cells (validated where the spec does not)."""
    cfg = tomllib.loads(path.read_text())
    bench = cfg.get("benchmark", {})
    cells = cfg.get("cell", [])
    names = [c["name"] for c in cells]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: cell names must be unique, got {names}")
    for p in bench.get("policies", []):
        if isinstance(p, dict):
            unknown = set(p.get("cells", [])) - set(names)
            if unknown:
                raise ValueError(
                    f"{path}: policy {p.get('label', p['name'])!r} names unknown "
                    f"cell(s) {sorted(unknown)}; cells: {names}"
                )
    return {"bench": bench, "cells": {c["name"]: c for c in cells}, "order": names}


def cell_spec(
    cfg: dict[str, Any], cell: str, seeds: int | None = None, only: list[str] | None = None
) -> SweepSpec:
    """The :mod:`mecopt.bench` sweep of one cell: one grid per seed count (``only``: these
    policy labels only)."""
    bench, c = cfg["bench"], cfg["cells"][cell]
    first = int(bench["seeds"]["start"])
    count = int(bench["seeds"]["count"]) if seeds is None else int(seeds)
    groups: dict[int, list[Any]] = {}
    for p in bench["policies"]:
        entry = dict(p) if isinstance(p, dict) else {"name": p}
        if "cells" in entry and cell not in entry.pop("cells"):
            continue
        if only and entry.get("label", entry["name"]) not in only:
            continue
        n = min(int(entry.pop("seeds", count)), count)
        groups.setdefault(n, []).append(entry)
    grids = [
        {
            "kind": "longterm",
            "scenario": bench.get("scenario", "default"),
            "n_users": [int(c["n_users"])],
            "horizon": int(c["horizon"]),
            "seeds": {"start": first, "count": n},
            "solvers": entries,
            "options": dict(c.get("options", {})),
        }
        for n, entries in sorted(groups.items(), reverse=True)
    ]
    return parse_spec(
        {
            "sweep": {"name": SWEEP, "hard_limit": float(bench.get("hard_limit", 1800))},
            "grid": grids,
        }
    )


def cell_of(row: dict[str, Any], cfg: dict[str, Any]) -> str | None:
    """The cell a stored row belongs to (by U, T and overrides)."""
    import json

    over = {
        k: v for k, v in json.loads(row["instance_key"])["overrides"].items() if k != "__task__"
    }
    for name, c in cfg["cells"].items():
        if (
            int(c["n_users"]) == row["n_users"]
            and int(c["horizon"]) == row["horizon"]
            and dict(c.get("options", {})) == over
        ):
            return name
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", choices=["run", "report", "list"])
    ap.add_argument("cells", nargs="*", help="cells to run (default: all, in file order)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seeds", type=int, default=None, help="run only the first N traces")
    ap.add_argument(
        "--policies",
        nargs="*",
        default=None,
        help="run only these policy labels (the others later)",
    )
    args = ap.parse_args()
    cfg = load_config()
    store = HERE / cfg["bench"].get("store", "online.sqlite")
    cells = args.cells or cfg["order"]
    unknown = sorted(set(cells) - set(cfg["cells"]))
    if unknown:
        raise SystemExit(f"unknown cell(s) {unknown}; cells: {cfg['order']}")
    if args.part == "list":
        for c in cells:
            print(c, len(cell_spec(cfg, c, args.seeds).tasks), "tasks")
    elif args.part == "run":
        with ResultStore(store) as db:
            for c in cells:
                sw = cell_spec(cfg, c, args.seeds, args.policies)
                out = run_sweep(sw, db, LocalExecutor(args.workers))
                print(c, out, flush=True)
    else:
        from report import write_report

        write_report(cfg, store)


if __name__ == "__main__":
    main()
