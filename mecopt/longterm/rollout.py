"""A :class:`Rollout`: the per-slot records of one policy on one trace, and its summary."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.errors import MecoptError
from mecopt.longterm.simulator import SlotArrays

ROLLOUT_SCHEMA = "mecopt.longterm.rollout"
ROLLOUT_VERSION = 1

#: Slack on the long-term constraints (the figures are sums of floats).
CONSTRAINT_TOL = 1e-9
_MAX_LISTED = 5


class RolloutFormatError(MecoptError, ValueError):
    """A rollout file that cannot be read."""


@dataclasses.dataclass(frozen=True, eq=False)
class SlotRecords(SlotArrays):
    """The per-slot records of a rollout: the :class:`~mecopt.longterm.simulator.SlotArrays`
    of every slot of one trace member ((T, U), (T, M), (T,); the backlog (T + 1, M)), and
    which devices had a query. Read-only.

    Attributes
    ----------
    has_query
        (T, U) bool.
    """

    has_query: np.ndarray

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            getattr(self, f.name).setflags(write=False)

    def arrays(self) -> dict[str, np.ndarray]:
        """The records by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True, eq=False)
class Rollout:
    """One policy on one trace member: per-slot records and the long-term figures.

    The figures: :attr:`mean_latency` (s per query), :attr:`energy` ((U,) mean J per slot
    of each device), :attr:`accuracy` (mean effective accuracy per query),
    :attr:`hallucination` (mean hallucination probability per query), :attr:`feasible` and
    :attr:`violations`; realised outcomes in :attr:`accuracy_realised` and
    :attr:`hallucination_realised`.

    Attributes
    ----------
    policy, options, seed
        The policy name, its options and the seed of its own random stream.
    trace_seed
        The seed of the trace member.
    records
        The :class:`SlotRecords`.
    energy_budget
        (U,) J per slot.
    min_accuracy, max_hallucination
        The long-term targets (``None`` when off).
    slot_s
        Slot length, s.
    runtime
        Wall-clock seconds the policy spent deciding (the whole run for offline policies).
    info
        Policy statistics (solver statuses, ...).
    """

    policy: str
    options: dict[str, Any]
    seed: int
    trace_seed: int
    records: SlotRecords
    energy_budget: np.ndarray
    min_accuracy: float | None
    max_hallucination: float | None
    slot_s: float
    runtime: float = 0.0
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    # ------------------------------------------------------------------ figures
    @property
    def horizon(self) -> int:
        """T."""
        return int(self.records.has_query.shape[0])

    @property
    def n_devices(self) -> int:
        """U."""
        return int(self.records.has_query.shape[1])

    @property
    def n_queries(self) -> int:
        """Queries served over the horizon."""
        return int(self.records.has_query.sum())

    def _mean(self, arr: np.ndarray) -> float:
        n = self.n_queries
        return float(arr[self.records.has_query].sum() / n) if n else 0.0

    @property
    def mean_latency(self) -> float:
        """Mean latency per query, s."""
        return self._mean(self.records.latency)

    @property
    def energy(self) -> np.ndarray:
        """(U,) mean energy per slot of each device, J."""
        return self.records.energy.mean(axis=0)

    @property
    def accuracy(self) -> float:
        """Mean effective accuracy per query."""
        return self._mean(self.records.accuracy)

    @property
    def hallucination(self) -> float:
        """Mean hallucination probability per query."""
        return self._mean(self.records.hallucination)

    @property
    def accuracy_realised(self) -> float:
        """Share of queries answered correctly (realised outcomes)."""
        return self._mean(self.records.correct.astype(float))

    @property
    def hallucination_realised(self) -> float:
        """Share of queries answered with a hallucination (realised outcomes)."""
        return self._mean(self.records.hallucinated.astype(float))

    @property
    def offload_share(self) -> float:
        """Share of queries offloaded."""
        return self._mean((self.records.actions > 0).astype(float))

    @property
    def violations(self) -> tuple[str, ...]:
        """Readable descriptions of every violated long-term constraint (empty if none)."""
        out: list[str] = []
        energy = self.energy
        over = np.flatnonzero(energy > self.energy_budget * (1 + CONSTRAINT_TOL) + 1e-15)
        if over.size:
            listed = ", ".join(f"device {u}: {energy[u]:.4g} J/slot > budget "
                               f"{self.energy_budget[u]:.4g}" for u in over[:_MAX_LISTED])
            more = f" and {over.size - _MAX_LISTED} more" if over.size > _MAX_LISTED else ""
            out.append(f"energy budget exceeded on {over.size} of {energy.size} devices "
                       f"({listed}{more})")
        acc = self.accuracy
        if self.min_accuracy is not None and self.n_queries and \
                acc < self.min_accuracy - CONSTRAINT_TOL:
            out.append(f"mean effective accuracy {acc:.4f} < min_accuracy {self.min_accuracy:g}")
        hall = self.hallucination
        if self.max_hallucination is not None and self.n_queries and \
                hall > self.max_hallucination + CONSTRAINT_TOL:
            out.append(f"mean hallucination {hall:.4f} > max_hallucination "
                       f"{self.max_hallucination:g}")
        return tuple(out)

    @property
    def feasible(self) -> bool:
        """True when every long-term constraint holds on this trace."""
        return not self.violations

    def summary_dict(self) -> dict[str, Any]:
        """The long-term figures as a JSON-ready dict."""
        energy = self.energy
        ratio = energy / np.maximum(self.energy_budget, 1e-300)
        return {
            "policy": self.policy,
            "options": self.options,
            "seed": self.seed,
            "trace_seed": self.trace_seed,
            "horizon": self.horizon,
            "n_devices": self.n_devices,
            "n_queries": self.n_queries,
            "mean_latency": self.mean_latency,
            "energy_mean": float(energy.mean()),
            "energy_max_ratio": float(ratio.max()) if ratio.size else 0.0,
            "accuracy": self.accuracy,
            "hallucination": self.hallucination,
            "accuracy_realised": self.accuracy_realised,
            "hallucination_realised": self.hallucination_realised,
            "offload_share": self.offload_share,
            "mean_backlog_wait": self._mean(self.records.queue_wait),
            "feasible": self.feasible,
            "violations": list(self.violations),
            "runtime": self.runtime,
            "info": self.info,
        }

    def summary(self) -> str:
        """A readable multi-line summary."""
        d = self.summary_dict()
        lines = [
            f"policy {self.policy} on trace seed {self.trace_seed}: {d['n_queries']} queries, "
            f"T = {self.horizon}, U = {d['n_devices']}",
            f"  mean latency     {1e3 * d['mean_latency']:.3f} ms",
            f"  energy           {d['energy_mean']:.4f} J/slot per device (worst device "
            f"{100 * d['energy_max_ratio']:.1f} % of its budget)",
            f"  accuracy         {d['accuracy']:.4f} effective, {d['accuracy_realised']:.4f} "
            "realised" + (f" (target >= {self.min_accuracy:g})"
                          if self.min_accuracy is not None else ""),
            f"  hallucination    {d['hallucination']:.4f} expected, "
            f"{d['hallucination_realised']:.4f} realised"
            + (f" (cap {self.max_hallucination:g})" if self.max_hallucination is not None
               else ""),
            f"  offloaded        {100 * d['offload_share']:.1f} %",
            "  constraints      " + ("all met" if self.feasible else "VIOLATED"),
        ]
        lines += [f"    - {v}" for v in self.violations]
        return "\n".join(lines)

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write the rollout (records and summary) to a compressed ``.npz`` file."""
        path = Path(path)
        meta = {"schema": ROLLOUT_SCHEMA, "version": ROLLOUT_VERSION, "policy": self.policy,
                "options": self.options, "seed": self.seed, "trace_seed": self.trace_seed,
                "min_accuracy": self.min_accuracy, "max_hallucination": self.max_hallucination,
                "slot_s": self.slot_s, "runtime": self.runtime, "info": self.info,
                "summary": {k: v for k, v in self.summary_dict().items() if k != "info"}}
        arrays = {**self.records.arrays(), "energy_budget": self.energy_budget}
        buf = io.BytesIO()
        np.savez_compressed(buf, __meta__=np.array(json.dumps(meta, default=_jsonable)),
                            **arrays)
        path.write_bytes(buf.getvalue())
        return path

    @classmethod
    def load(cls, path: str | Path) -> Rollout:
        """Read a rollout written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"rollout file not found: {path}")
        names = tuple(f.name for f in dataclasses.fields(SlotRecords)) + ("energy_budget",)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["__meta__"]))
                arrays = {name: np.array(data[name]) for name in names}
        except (OSError, ValueError, KeyError) as exc:
            raise RolloutFormatError(f"{path}: not a mecopt rollout file ({exc})") from None
        if meta.get("schema") != ROLLOUT_SCHEMA or meta.get("version") != ROLLOUT_VERSION:
            raise RolloutFormatError(f"{path}: schema {meta.get('schema')!r} version "
                                     f"{meta.get('version')!r}; this mecopt reads "
                                     f"{ROLLOUT_SCHEMA!r} version {ROLLOUT_VERSION}")
        keys = ("policy", "options", "seed", "trace_seed", "min_accuracy", "max_hallucination",
                "slot_s", "runtime", "info")
        budget = arrays.pop("energy_budget")
        return cls(**{k: meta[k] for k in keys}, records=SlotRecords(**arrays),
                   energy_budget=budget)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
