"""Traces: everything random over a horizon, fixed from a seed.

A :class:`Trace` holds a batch of B independent realisations (one per seed) of the same
scenario, U devices and T slots: arrivals, the queries (alpha, prompt size, latencies,
expected and realised correctness and hallucination of both models), channel gains and the
ES capacities. Every policy run on a trace sees the same draws (common random numbers).
A trace made from one seed has B = 1; ``trace[b]`` picks one member.

Traces are drawn by :func:`mecopt.longterm.trace_draw.make_trace` (``lt.trace``).

Array shapes: ``(B, T, U)`` per query cell, ``(B, T, U, M)`` for gains, ``(B, U)`` per
device, ``(B, M)`` per ES. Cells without a query hold zeros.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.errors import MecoptError
from mecopt.longterm.scenario import LongtermScenario

TRACE_SCHEMA = "mecopt.longterm.trace"
TRACE_VERSION = 1

#: (B, T, U) float fields.
CELL_FIELDS = ("alpha", "acc_local", "acc_edge", "hall_local", "hall_edge", "local_delay",
               "local_energy", "prompt_bits", "edge_work", "device_wait")
#: (B, T, U) bool fields.
FLAG_FIELDS = ("has_query", "correct_local", "correct_edge", "halluc_local", "halluc_edge")
#: (B, U) per-device and (B, M) per-ES fields.
DEVICE_FIELDS = ("tx_power", "energy_budget")
ES_FIELDS = ("capacity", "per_user_cap", "bandwidth", "noise")
ARRAY_FIELDS = CELL_FIELDS + FLAG_FIELDS + DEVICE_FIELDS + ES_FIELDS + ("gain", "position")


class TraceFormatError(MecoptError, ValueError):
    """A trace file that cannot be read: malformed, wrong schema or version."""


@dataclasses.dataclass(frozen=True, eq=False)
class Trace:
    """A batch of B realisations of a scenario over T slots for U devices and M ESs.

    Attributes
    ----------
    scenario
        The :class:`~mecopt.longterm.scenario.LongtermScenario`.
    seeds
        (B,) the seed of each member.
    has_query
        (B, T, U) bool: the device launches a query in the slot.
    alpha
        Margin uncertainty of the device model's answer, [0, 1].
    acc_local, acc_edge
        Probability that the device / edge model answers correctly (the profile's fitted
        curves at alpha): the *effective accuracy* the constraints use.
    hall_local, hall_edge
        Probability that the device / edge model hallucinates (modelled: a share of the
        wrong answers, see :mod:`mecopt.longterm.devices`).
    correct_local, correct_edge, halluc_local, halluc_edge
        (B, T, U) bool: the realised outcomes (the profile record's correctness; a
        hallucination is a wrong answer drawn with the model's share).
    local_delay, local_energy
        Local answering time (s) and energy (J).
    prompt_bits
        Uplink payload (bit): prompt plus context.
    edge_work
        Edge model work (FLOP).
    device_wait
        Time the query waited in the device buffer before launch (s; 0 for Bernoulli).
    gain
        (B, T, U, M) channel power gain (path loss x fading) in the slot.
    position
        (B, T, U, 2) device positions, m.
    tx_power, energy_budget
        (B, U) transmit power (W) and energy budget (J per slot).
    capacity, per_user_cap, bandwidth, noise
        (B, M) ES compute (FLOP/s), largest per-query share (FLOP/s), uplink bandwidth (Hz)
        and noise power over the band (W).
    """

    scenario: LongtermScenario
    seeds: tuple[int, ...]
    has_query: np.ndarray
    alpha: np.ndarray
    acc_local: np.ndarray
    acc_edge: np.ndarray
    hall_local: np.ndarray
    hall_edge: np.ndarray
    correct_local: np.ndarray
    correct_edge: np.ndarray
    halluc_local: np.ndarray
    halluc_edge: np.ndarray
    local_delay: np.ndarray
    local_energy: np.ndarray
    prompt_bits: np.ndarray
    edge_work: np.ndarray
    device_wait: np.ndarray
    gain: np.ndarray
    position: np.ndarray
    tx_power: np.ndarray
    energy_budget: np.ndarray
    capacity: np.ndarray
    per_user_cap: np.ndarray
    bandwidth: np.ndarray
    noise: np.ndarray

    def __post_init__(self) -> None:
        if not isinstance(self.scenario, LongtermScenario):
            raise TraceFormatError(f"Trace.scenario must be a LongtermScenario, got "
                                   f"{type(self.scenario).__name__}")
        for name in ARRAY_FIELDS:
            object.__setattr__(self, name, _as_array(name, getattr(self, name)))
        if self.has_query.ndim != 3 or self.capacity.ndim != 2:
            raise TraceFormatError(f"Trace.has_query must be (B, T, U) and Trace.capacity "
                                   f"(B, M); got shapes {self.has_query.shape} and "
                                   f"{self.capacity.shape}")
        b, t, u = self.has_query.shape
        m = self.capacity.shape[-1]
        if min(b, t, u) < 1:
            raise TraceFormatError(f"Trace.has_query has shape {self.has_query.shape}: B, T "
                                   "and U must be >= 1")
        if m != self.scenario.n_servers:
            raise TraceFormatError(f"Trace.capacity has M = {m} servers, the scenario "
                                   f"n_servers = {self.scenario.n_servers}")
        expected = {name: (b, t, u) for name in CELL_FIELDS + FLAG_FIELDS}
        expected.update({name: (b, u) for name in DEVICE_FIELDS})
        expected.update({name: (b, m) for name in ES_FIELDS})
        expected["gain"] = (b, t, u, m)
        expected["position"] = (b, t, u, 2)
        for name, shape in expected.items():
            arr = getattr(self, name)
            if arr.shape != shape:
                raise TraceFormatError(f"Trace.{name} must have shape {shape}, got {arr.shape}")
        _check_values(self)
        for name in ARRAY_FIELDS:
            getattr(self, name).setflags(write=False)
        seeds = self.seeds
        if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | np.ndarray):
            raise TraceFormatError(f"Trace.seeds = {seeds!r}: must be a sequence of seeds")
        if len(seeds) != b:
            raise TraceFormatError(f"Trace.seeds has {len(seeds)} entries for a batch of {b}")
        for s in seeds:
            if isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0:
                raise TraceFormatError(f"Trace.seeds entry {s!r}: must be a whole number >= 0")
        object.__setattr__(self, "seeds", tuple(int(s) for s in seeds))

    # ------------------------------------------------------------------ sizes
    @property
    def batch(self) -> int:
        """B, the number of realisations."""
        return int(self.has_query.shape[0])

    @property
    def horizon(self) -> int:
        """T, the number of slots."""
        return int(self.has_query.shape[1])

    @property
    def n_devices(self) -> int:
        """U, the number of devices."""
        return int(self.has_query.shape[2])

    @property
    def n_servers(self) -> int:
        """M, the number of edge servers."""
        return int(self.capacity.shape[1])

    @property
    def n_queries(self) -> np.ndarray:
        """(B,) number of queries launched over the horizon."""
        return self.has_query.sum(axis=(1, 2))

    def __len__(self) -> int:
        return self.batch

    def __getitem__(self, index: int | slice | Sequence[int]) -> Trace:
        """The members ``index`` as a trace (an int gives a batch of one)."""
        if isinstance(index, int | np.integer):
            if not -self.batch <= int(index) < self.batch:
                raise IndexError(f"trace index {index} out of range for a batch of {self.batch}")
            index = [int(index) % self.batch]
        sel = np.arange(self.batch)[index]
        fields = {name: getattr(self, name)[sel] for name in ARRAY_FIELDS}
        return Trace(scenario=self.scenario, seeds=tuple(np.asarray(self.seeds)[sel]),
                     **fields)

    def __repr__(self) -> str:
        return (f"Trace(B={self.batch}, T={self.horizon}, U={self.n_devices}, "
                f"M={self.n_servers}, scenario={self.scenario.name!r}, seeds={list(self.seeds)})")

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write the trace to a compressed ``.npz`` file (versioned schema); return the path."""
        path = Path(path)
        meta = {"schema": TRACE_SCHEMA, "version": TRACE_VERSION,
                "scenario": self.scenario.to_dict(), "seeds": list(self.seeds)}
        arrays = {name: getattr(self, name) for name in ARRAY_FIELDS}
        buf = io.BytesIO()
        np.savez_compressed(buf, __meta__=np.array(json.dumps(meta)), **arrays)
        path.write_bytes(buf.getvalue())
        return path

    @classmethod
    def load(cls, path: str | Path) -> Trace:
        """Read a trace written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            If the file does not exist.
        TraceFormatError
            If it is not a trace file of a version this mecopt reads.
        """
        path = Path(path)
        if not str(path).strip():
            raise ValueError("trace file: empty path")
        if not path.is_file():
            raise FileNotFoundError(f"trace file not found: {path}")
        try:  # the file opened here, so that a damaged one is closed too
            with open(path, "rb") as fh:
                data = np.load(fh, allow_pickle=False)
                if not hasattr(data, "files"):
                    raise TraceFormatError(f"{path}: not a mecopt trace file (a single array, "
                                           "not an .npz archive)")
                missing = [n for n in ("__meta__", *ARRAY_FIELDS) if n not in data.files]
                if missing:
                    raise TraceFormatError(f"{path}: not a mecopt trace file (missing "
                                           f"{', '.join(missing[:4])})")
                meta = json.loads(str(data["__meta__"][()]))
                arrays = {name: np.array(data[name]) for name in ARRAY_FIELDS}
        except TraceFormatError:
            raise
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error,
                UnicodeDecodeError, TypeError, RecursionError, NotImplementedError) as exc:
            raise TraceFormatError(f"{path}: not a readable mecopt trace file "
                                   f"({type(exc).__name__}: {str(exc)[:200]})") from None
        if not isinstance(meta, dict):
            raise TraceFormatError(f"{path}: metadata must be a JSON object, got "
                                   f"{type(meta).__name__}")
        if meta.get("schema") != TRACE_SCHEMA:
            raise TraceFormatError(f"{path}: schema {meta.get('schema')!r}, expected "
                                   f"{TRACE_SCHEMA!r}")
        version = meta.get("version")
        if isinstance(version, bool) or version != TRACE_VERSION:
            raise TraceFormatError(f"{path}: trace version {version!r}; this "
                                   f"mecopt reads version {TRACE_VERSION}")
        unknown = sorted(set(meta) - {"schema", "version", "scenario", "seeds"})
        if unknown:
            raise TraceFormatError(f"{path}: unknown metadata key(s) {unknown}")
        if not isinstance(meta.get("scenario"), dict):
            raise TraceFormatError(f"{path}: metadata 'scenario' = {meta.get('scenario')!r}: "
                                   "must be a JSON object of scenario parameters")
        if not isinstance(meta.get("seeds"), list):
            raise TraceFormatError(f"{path}: metadata 'seeds' = {meta.get('seeds')!r}: must "
                                   "be a list of whole numbers")
        try:
            scen = LongtermScenario.from_dict(meta["scenario"])
            return cls(scenario=scen, seeds=tuple(meta["seeds"]), **arrays)
        except TraceFormatError as exc:
            raise TraceFormatError(f"{path}: {exc}") from None
        except (ValueError, TypeError) as exc:
            raise TraceFormatError(f"{path}: {exc}") from None


#: Fields that are probabilities, in [0, 1].
_UNIT_FIELDS = ("alpha", "acc_local", "acc_edge", "hall_local", "hall_edge")
#: Fields that are > 0 on every query cell and >= 0 everywhere.
_POSITIVE_ON_QUERY = ("local_delay", "prompt_bits", "edge_work")
#: Fields that are >= 0 everywhere.
_NONNEGATIVE = ("local_energy", "device_wait", "energy_budget")
#: Fields that are > 0 everywhere.
_POSITIVE = ("gain", "tx_power", "capacity", "per_user_cap", "bandwidth", "noise")


def _as_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a bool (flags) or float64 array; anything else is a format error."""
    arr = np.asarray(value)
    if name in FLAG_FIELDS:
        if arr.dtype != np.bool_:
            raise TraceFormatError(f"Trace.{name}: must be a bool array, got dtype {arr.dtype}")
        return arr
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.floating)
                                     or np.issubdtype(arr.dtype, np.integer)):
        raise TraceFormatError(f"Trace.{name}: must be a real number array, got dtype "
                               f"{arr.dtype}")
    return arr.astype(np.float64, copy=False)


def _bad(name: str, arr: np.ndarray, mask: np.ndarray, rule: str) -> TraceFormatError:
    index = tuple(int(i) for i in np.argwhere(mask)[0])
    return TraceFormatError(f"Trace.{name}{list(index)} = {arr[index].item()!r}: {rule}")


def _check_values(tr: Trace) -> None:
    """Every value finite and in its range (the message names the field, cell and value)."""
    for name in ARRAY_FIELDS:
        arr = getattr(tr, name)
        if name not in FLAG_FIELDS and not np.isfinite(arr).all():
            raise _bad(name, arr, ~np.isfinite(arr), "must be finite")
    for name in _UNIT_FIELDS:
        arr = getattr(tr, name)
        if ((arr < 0) | (arr > 1)).any():
            raise _bad(name, arr, (arr < 0) | (arr > 1), "a probability, must lie in [0, 1]")
    for name in _NONNEGATIVE + _POSITIVE_ON_QUERY:
        arr = getattr(tr, name)
        if (arr < 0).any():
            raise _bad(name, arr, arr < 0, "must be >= 0")
    for name in _POSITIVE_ON_QUERY:
        arr = getattr(tr, name)
        if (tr.has_query & (arr <= 0)).any():
            raise _bad(name, arr, tr.has_query & (arr <= 0), "must be > 0 on a query cell")
    for name in _POSITIVE:
        arr = getattr(tr, name)
        if (arr <= 0).any():
            raise _bad(name, arr, arr <= 0, "must be > 0")
    for model in ("local", "edge"):
        both = getattr(tr, f"halluc_{model}") & getattr(tr, f"correct_{model}")
        if both.any():
            raise _bad(f"halluc_{model}", getattr(tr, f"halluc_{model}"), both,
                       f"a hallucination must be a wrong answer (correct_{model} is True)")
        cap = 1.0 - getattr(tr, f"acc_{model}") + 1e-9
        over = getattr(tr, f"hall_{model}") > cap
        if over.any():
            raise _bad(f"hall_{model}", getattr(tr, f"hall_{model}"), over,
                       f"hallucination probability above 1 - acc_{model}")
