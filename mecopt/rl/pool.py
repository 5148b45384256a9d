"""Training traces: a pool of long traces cut into episode windows; seeds kept disjoint.

Training draws every trace from seeds ``TRAIN_SEED_BASE + 1000 * training_seed + k``;
evaluation uses seeds below :data:`TRAIN_SEED_BASE` (the usual small seeds), so no policy
is ever scored on a trace it was trained on. Generating traces costs far more than
stepping them, so training generates a pool once (B members of ``length`` slots, cached
on disk) and cuts each episode from it at a random member and start slot.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

import mecopt.longterm as lt
from mecopt.longterm.traces import CELL_FIELDS, FLAG_FIELDS

#: Training seeds start here; evaluation seeds must stay below.
TRAIN_SEED_BASE = 1_000_000


def train_seeds(training_seed: int, count: int) -> list[int]:
    """The trace seeds of a training run (disjoint from evaluation seeds)."""
    return [TRAIN_SEED_BASE + 1000 * int(training_seed) + k for k in range(count)]


def check_eval_seeds(seeds: list[int]) -> None:
    """Raise ``ValueError`` if an evaluation seed lies in the training range."""
    bad = [s for s in seeds if s >= TRAIN_SEED_BASE]
    if bad:
        raise ValueError(f"evaluation seeds {bad[:5]} lie in the training range "
                         f"(>= {TRAIN_SEED_BASE}); use smaller seeds")


def window(trace: lt.Trace, members: np.ndarray, starts: np.ndarray, length: int) -> lt.Trace:
    """A trace of ``len(members)`` windows ``[start, start + length)`` of the given members."""
    members = np.asarray(members)
    idx = np.asarray(starts)[:, None] + np.arange(length)
    rows = members[:, None]
    fields = {}
    for name in CELL_FIELDS + FLAG_FIELDS + ("gain", "position"):
        fields[name] = getattr(trace, name)[rows, idx]
    for name in ("tx_power", "energy_budget", "capacity", "per_user_cap", "bandwidth", "noise"):
        fields[name] = getattr(trace, name)[members]
    seeds = tuple(int(trace.seeds[k]) for k in members)
    return dataclasses.replace(trace, seeds=seeds, **fields)


def trace_pool(scenario: lt.LongtermScenario, n_devices: int, seeds: list[int], length: int,
               cache_dir: Path | None = None) -> lt.Trace:
    """The pool trace (cached in ``cache_dir`` as a trace file when given)."""
    key = json.dumps({"scenario": scenario.to_dict(), "u": n_devices, "seeds": seeds,
                      "t": length}, sort_keys=True, default=str)
    name = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"pool-{name}.npz" if cache_dir is not None else None
    if path is not None and path.is_file():
        return lt.Trace.load(path)
    tr = lt.trace(scenario, n_devices=n_devices, horizon=length, seed=seeds)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tr.save(path)
    return tr
