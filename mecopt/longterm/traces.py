"""Traces: everything random over a horizon, fixed from a seed.

A :class:`Trace` holds a batch of B independent realisations (one per seed) of the same
scenario, U devices and T slots: arrivals, the queries (alpha, prompt size, latencies,
expected and realised correctness and hallucination of both models), channel gains and the
ES capacities. Every policy run on a trace sees the same draws (common random numbers).
A trace made from one seed has B = 1; ``trace[b]`` picks one member.

Random streams are independent children of the seed (arrivals, queries, outcomes, fading,
placement, mobility, compute), so changing one part of a scenario (say the arrival rate)
leaves the other draws unchanged: query content and fading are drawn for every
(slot, device) cell, whether or not a query arrives there.

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
from mecopt.longterm.propagation import gauss_markov_fading, path_gains, random_walk
from mecopt.longterm.scenario import LongtermScenario, hallucination_probability, make_scenario

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


#: Largest trace (B x T x U query cells) :func:`make_trace` draws: about 130 bytes a cell
#: with four ESs, so about 1.3 GB, checked before any array is allocated.
MAX_TRACE_CELLS = 10_000_000

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


def check_trace_size(n_devices: int, horizon: int, batch: int = 1) -> None:
    """Raise ``ValueError`` when a trace of B x T x U cells exceeds :data:`MAX_TRACE_CELLS`.

    Raises
    ------
    ValueError
        Naming the sizes and the limit, before anything is allocated.
    """
    cells = int(n_devices) * int(horizon) * int(batch)
    if cells > MAX_TRACE_CELLS:
        raise ValueError(f"trace too large: n_devices = {n_devices} x horizon = {horizon} x "
                         f"{batch} seed(s) = {cells:,} cells, above the limit of "
                         f"{MAX_TRACE_CELLS:,} (about {MAX_TRACE_CELLS * 130 / 1e9:.1f} GB)")


def _check_count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} = {value!r}: must be a whole number >= {low}")
    return int(value)


def _draw(scen: LongtermScenario, n_devices: int, horizon: int, seed: int) -> dict[str, Any]:
    """Draw one realisation; every array without the batch axis."""
    from mecopt.profiles import load_profile

    streams = dict(zip(
        ("arrivals", "queries", "outcomes", "fading", "place", "mobility", "compute"),
        (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)),
        strict=True,
    ))
    u, t, m = n_devices, horizon, scen.n_servers
    device = scen.device_model()

    # Arrivals and launches.
    if scen.arrival == "bernoulli":
        has_query = streams["arrivals"].random((t, u)) < scen.arrival_rate
        wait = np.zeros((t, u))
    else:
        has_query, wait = _poisson_launches(streams["arrivals"], t, u, scen.arrival_rate,
                                            scen.slot_s)

    # Queries: one profile record per cell.
    profile = load_profile(scen.profile)
    rec = profile.records
    idx = streams["queries"].integers(0, len(rec), size=(t, u))
    alpha = rec.alpha[idx]
    acc_l = np.clip(np.asarray(profile.curve_local(alpha), dtype=float), 0.0, 1.0)
    acc_e = np.clip(np.asarray(profile.curve_edge(alpha), dtype=float), 0.0, 1.0)
    correct_l = rec.local_correct[idx].astype(bool)
    correct_e = rec.edge_correct[idx].astype(bool)
    draws = streams["outcomes"].random((2, t, u))
    share_l, share_e = device.hallucination_share, scen.edge_hallucination_share
    halluc_l = ~correct_l & (draws[0] < share_l)
    halluc_e = ~correct_e & (draws[1] < share_e)
    rel_latency = rec.local_latency_s[idx] / float(np.mean(rec.local_latency_s))
    local_delay = device.mean_latency_s * rel_latency
    fields: dict[str, Any] = {
        "has_query": has_query,
        "alpha": alpha,
        "acc_local": acc_l,
        "acc_edge": acc_e,
        "hall_local": hallucination_probability(acc_l, share_l),
        "hall_edge": hallucination_probability(acc_e, share_e),
        "correct_local": correct_l,
        "correct_edge": correct_e,
        "halluc_local": halluc_l,
        "halluc_edge": halluc_e,
        "local_delay": local_delay,
        "local_energy": device.power_w * local_delay,
        "prompt_bits": 8.0 * (rec.prompt_bytes[idx] + scen.context_bytes),
        "edge_work": scen.edge_work_factor * local_delay * device.flops,
        "device_wait": wait,
    }
    for name in CELL_FIELDS:
        fields[name] = np.where(has_query, fields[name], 0.0)
    for name in FLAG_FIELDS[1:]:
        fields[name] = fields[name] & has_query

    # Channels.
    es_pos = scen.es_positions()
    start = streams["place"].uniform(0.0, scen.area_m, size=(u, 2))
    if scen.speed_mps > 0:
        position = random_walk(streams["mobility"], start, t, scen.speed_mps * scen.slot_s,
                               scen.area_m)
    else:
        position = np.broadcast_to(start, (t, u, 2)).copy()
    fading = gauss_markov_fading(streams["fading"], t, (u, m), scen.fading_rho)
    fields["gain"] = path_gains(position, es_pos, scen.carrier_hz) * fading
    fields["position"] = position

    spread = scen.capacity_spread
    fields["capacity"] = scen.es_capacity_flops * streams["compute"].uniform(
        1.0 - spread, 1.0 + spread, size=m)
    fields["per_user_cap"] = np.full(m, scen.per_user_cap_flops)
    fields["bandwidth"] = np.full(m, scen.bandwidth_hz)
    fields["noise"] = np.full(m, scen.noise_w_per_hz * scen.bandwidth_hz)
    fields["tx_power"] = np.full(u, scen.tx_power_w)
    fields["energy_budget"] = np.full(u, scen.energy_budget_j)
    return fields


def _poisson_launches(rng: np.random.Generator, horizon: int, n_devices: int, rate: float,
                      slot_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Poisson arrivals, at most one launch per device and slot, FIFO device buffers.

    The n-th arrival of a device (arriving in slot a_n) launches in slot
    ``l_n = max(a_n, l_{n-1} + 1)``, i.e. ``l_n = n + max_{m <= n} (a_m - m)``; launches
    beyond the horizon are dropped. Returns the (T, U) launch flags and buffer waits (s).
    """
    counts = rng.poisson(rate, size=(horizon, n_devices))
    has_query = np.zeros((horizon, n_devices), dtype=bool)
    wait = np.zeros((horizon, n_devices))
    for u in range(n_devices):
        arrivals = np.repeat(np.arange(horizon), counts[:, u])
        if arrivals.size == 0:
            continue
        k = np.arange(arrivals.size)
        launch = k + np.maximum.accumulate(arrivals - k)
        keep = launch < horizon
        has_query[launch[keep], u] = True
        wait[launch[keep], u] = (launch[keep] - arrivals[keep]) * slot_s
    return has_query, wait


def make_trace(scenario: str | LongtermScenario = "default", *, n_devices: int, horizon: int,
               seed: int | Sequence[int] = 0, **overrides: Any) -> Trace:
    """Draw a trace: one realisation per seed (a single seed gives B = 1).

    Parameters
    ----------
    scenario
        A scenario name (``"default"``) or a :class:`LongtermScenario`.
    n_devices
        U, the number of devices (>= 1).
    horizon
        T, the number of slots (>= 1).
    seed
        A seed (>= 0) or a sequence of seeds (one batch member each).
    **overrides
        Scenario parameters (see :class:`LongtermScenario`).

    Returns
    -------
    Trace

    Raises
    ------
    ValueError
        For a bad size, seed or scenario parameter (the message names it).

    Examples
    --------
    >>> import mecopt.longterm as lt
    >>> tr = lt.trace(n_devices=5, horizon=20, seed=1)
    >>> tr.batch, tr.horizon, tr.n_devices, tr.n_servers
    (1, 20, 5, 4)
    """
    if not isinstance(scenario, str | LongtermScenario):
        raise ValueError(f"scenario = {scenario!r}: must be a scenario name or a "
                         "LongtermScenario")
    scen = make_scenario(scenario, **overrides)
    n_devices = _check_count("n_devices", n_devices, 1)
    horizon = _check_count("horizon", horizon, 1)
    if isinstance(seed, str | bytes | bool | float) or not isinstance(
            seed, int | np.integer | Sequence | np.ndarray):
        raise ValueError(f"seed = {seed!r}: must be a whole number >= 0 or a list of them")
    seeds = [seed] if isinstance(seed, int | np.integer) else list(seed)
    if not seeds:
        raise ValueError("seed: give at least one seed")
    seeds = [_check_count("seed", s, 0) for s in seeds]
    check_trace_size(n_devices, horizon, len(seeds))
    with np.errstate(all="ignore"):  # extreme parameters are reported below, by name
        draws = [_draw(scen, n_devices, horizon, s) for s in seeds]
    stacked = {name: np.stack([d[name] for d in draws]) for name in ARRAY_FIELDS}
    try:
        return Trace(scenario=scen, seeds=tuple(seeds), **stacked)
    except TraceFormatError as exc:  # e.g. a path loss that underflows to a zero gain
        given = ", ".join(f"{k} = {v!r}" for k, v in overrides.items()) or "its parameters"
        raise ValueError(f"scenario {scen.name!r} with {given} draws a trace outside the "
                         f"physical range ({exc})") from None
