"""Policy comparisons over devices and seeds, run as a :mod:`mecopt.bench` sweep.

:func:`compare` builds a sweep of ``longterm`` tasks (one per policy, number of devices and
seed, every policy of a seed on the same trace), runs it with :func:`mecopt.bench.run_sweep`
(resumable when given a store file) and returns the rows; :func:`summarise` aggregates them
per policy and number of devices (mean and spread over seeds, constraint satisfaction and
the gap to the hindsight optimum when it was run), :func:`to_markdown` formats that.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Label of the full-horizon optimum in comparisons.
HINDSIGHT = "hindsight"


def comparison_spec(policies: Sequence[str | Mapping[str, Any]], *, devices: Sequence[int],
                    horizon: int, seeds: Sequence[int], scenario: str = "default",
                    overrides: Mapping[str, Any] | None = None, name: str = "longterm",
                    hard_limit: float = 3600.0) -> Any:
    """The :class:`mecopt.bench.SweepSpec` of a comparison.

    Parameters
    ----------
    policies
        Policy names, or tables ``{"name": ..., "label": ..., "options": {...}}``.
    devices, horizon, seeds
        Numbers of devices, slots and the trace seeds.
    scenario, overrides
        The long-term scenario and its parameter overrides (a list value is swept).
    name
        Sweep name.
    hard_limit
        Seconds after which one run is killed (recorded as ``"timeout"``).
    """
    from mecopt.bench import parse_spec

    grid = {"kind": "longterm", "scenario": scenario, "n_users": [int(d) for d in devices],
            "horizon": int(horizon), "seeds": [int(s) for s in seeds],
            "solvers": [dict(p) if isinstance(p, Mapping) else p for p in policies],
            "options": dict(overrides or {})}
    return parse_spec({"sweep": {"name": name, "hard_limit": hard_limit}, "grid": [grid]})


def compare(policies: Sequence[str | Mapping[str, Any]], *, devices: Sequence[int],
            horizon: int, seeds: Sequence[int] = (0,), scenario: str = "default",
            overrides: Mapping[str, Any] | None = None, store: str | Path | None = None,
            workers: int = 1, progress: bool = True, name: str = "longterm",
            hard_limit: float = 3600.0) -> list[dict[str, Any]]:
    """Run every policy on every (devices, seed) trace through :mod:`mecopt.bench`.

    Parameters
    ----------
    store
        SQLite file keeping the rows (resumable: stored runs are skipped); ``None`` keeps
        them in memory.
    workers
        Runs at a time (each in its own process).
    progress
        Show a progress bar on standard error.

    Returns
    -------
    list of dict
        The stored rows of this sweep (``metrics`` decoded into a dict).
    """
    from mecopt.bench import LocalExecutor, ResultStore, run_sweep

    spec = comparison_spec(policies, devices=devices, horizon=horizon, seeds=seeds,
                           scenario=scenario, overrides=overrides, name=name,
                           hard_limit=hard_limit)
    with ResultStore(store if store is not None else ":memory:") as db:
        run_sweep(spec, db, LocalExecutor(max(1, int(workers))), progress=progress)
        keys = {t.key for t in spec.tasks}
        rows = [r for r in db.rows() if (r["instance_key"], r["solver"], r["seed"]) in keys]
    for r in rows:
        r["metrics"] = json.loads(r["metrics"]) if r.get("metrics") else {}
    return rows


def _reference(row: Mapping[str, Any]) -> float | None:
    """The hindsight row's optimum, or its proven bound when not proven optimal."""
    if row.get("status") == "optimal" and row.get("objective") is not None:
        return float(row["objective"])
    bound = row.get("bound")
    return float(bound) if bound is not None and math.isfinite(bound) else None


def _stats(values: list[float]) -> dict[str, float | None]:
    arr = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if not arr.size:
        return {"mean": None, "std": None, "min": None, "max": None}
    return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
            "min": float(arr.min()), "max": float(arr.max())}


def summarise(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Aggregate comparison rows per (policy label, number of devices).

    Each entry: ``policy``, ``n_devices``, ``runs``, ``latency_ms`` (mean, std, min, max
    over seeds), ``feasible`` (share of seeds meeting every constraint), ``energy_ratio``
    (mean over seeds of the worst device's energy / budget), ``accuracy``,
    ``hallucination``, ``offload_share``, ``gap_to_hindsight`` (mean over the seeds where
    both ran of (latency - H) / latency, H the hindsight latency when proven optimal and
    its proven lower bound otherwise, so the gap is never understated; ``None`` without
    hindsight rows) and ``failed`` (runs that errored or timed out).
    """
    groups: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["solver"], int(r["n_users"])), []).append(r)
    hind = {(int(r["n_users"]), int(r["seed"])): _reference(r) for r in rows
            if r["solver"] == HINDSIGHT and _reference(r) is not None}
    out = []
    for (policy, n), g in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        ok = [r for r in g if r["objective"] is not None]
        m = [r["metrics"] for r in ok]
        gaps = [(r["objective"] - hind[n, int(r["seed"])]) / r["objective"] for r in ok
                if (n, int(r["seed"])) in hind and r["objective"] > 0]
        out.append({
            "policy": policy, "n_devices": n, "runs": len(g), "failed": len(g) - len(ok),
            "latency_ms": _stats([1e3 * r["objective"] for r in ok]),
            "feasible": (sum(bool(x.get("feasible")) for x in m) / len(m)) if m else None,
            "energy_ratio": _stats([x.get("energy_max_ratio") for x in m])["mean"],
            "accuracy": _stats([x.get("accuracy") for x in m])["mean"],
            "hallucination": _stats([x.get("hallucination") for x in m])["mean"],
            "offload_share": _stats([x.get("offload_share") for x in m])["mean"],
            "gap_to_hindsight": _stats(gaps)["mean"] if hind else None,
        })
    return out


def _f(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def to_markdown(summary: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table of :func:`summarise` output."""
    lines = ["| policy | U | runs | mean latency (ms) | std | feasible | worst energy / budget "
             "| accuracy | hallucination | offloaded | gap to hindsight |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in summary:
        lat = s["latency_ms"]
        lines.append(
            f"| {s['policy']} | {s['n_devices']} | {s['runs'] - s['failed']}/{s['runs']} | "
            f"{_f(lat['mean'], '.2f')} | {_f(lat['std'], '.2f')} | "
            f"{_f(None if s['feasible'] is None else 100 * s['feasible'], '.0f')} % | "
            f"{_f(s['energy_ratio'], '.3f')} | {_f(s['accuracy'], '.4f')} | "
            f"{_f(s['hallucination'], '.4f')} | "
            f"{_f(None if s['offload_share'] is None else 100 * s['offload_share'], '.1f')} % | "
            f"{_f(None if s['gap_to_hindsight'] is None else 100 * s['gap_to_hindsight'], '.1f')}"
            + (" %" if s["gap_to_hindsight"] is not None else "") + " |")
    return "\n".join(lines) + "\n"
