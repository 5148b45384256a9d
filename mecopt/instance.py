"""The immutable offloading instance.

One :class:`Instance` is one snapshot ("slot") of an MEC network: N users, each holding one
LLM query, and M edge servers (ES). Every quantity is a numpy array in physical units (bits,
seconds, FLOP, FLOP/s, W, Hz). The instance validates itself on construction, so every
solver, heuristic and the evaluator can trust it. The model it describes is documented in
``formulations/README.md`` (installed as :mod:`mecopt.formulations`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.errors import MecoptError, UnknownNameError

#: Version of the JSON schema written by :meth:`Instance.to_json`.
SCHEMA_VERSION = 1
SCHEMA_NAME = "mecopt.instance"

INTERFERENCE_MODELS = ("none", "other-cells")

_USER_FIELDS = (
    "alpha",
    "acc_local",
    "acc_edge",
    "local_delay",
    "prompt_bits",
    "edge_work",
    "tx_power",
)
_ES_FIELDS = ("bandwidth", "noise", "capacity", "per_user_cap")
_UNIT_INTERVAL = ("alpha", "acc_local", "acc_edge")
_POSITIVE = ("local_delay", "prompt_bits", "edge_work", "tx_power") + _ES_FIELDS


class InstanceFormatError(MecoptError, ValueError):
    """A JSON instance file that cannot be read: malformed, wrong schema or version."""


def _index_text(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def _first_bad(name: str, arr: np.ndarray, bad: np.ndarray, rule: str) -> None:
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise ValueError(f"Instance.{name}{_index_text(idx)} = {arr[idx].item()!r}: {rule}")


@dataclasses.dataclass(frozen=True, eq=False)
class Instance:
    """An offloading instance: N users, M edge servers, one query per user.

    Parameters
    ----------
    alpha
        (N,) margin-based uncertainty of the device model's answer, in [0, 1].
    acc_local
        (N,) probability that the device (compact) model answers correctly, in [0, 1].
    acc_edge
        (N,) probability that the edge model answers correctly, in [0, 1].
    local_delay
        (N,) seconds to answer on the device, t_i^L > 0.
    prompt_bits
        (N,) uplink payload D_i in bits, > 0.
    edge_work
        (N,) compute W_i of the query on the edge model, FLOP, > 0.
    tx_power
        (N,) transmit power P_i in W, > 0.
    gain
        (N, M) channel power gain |h_ij|^2 (dimensionless), >= 0.
    bandwidth
        (M,) uplink bandwidth B_j of each ES in Hz, shared equally by its users, > 0.
    noise
        (M,) noise power sigma_j^2 over the band, W, > 0.
    capacity
        (M,) compute capacity C_j of each ES, FLOP/s, > 0.
    per_user_cap
        (M,) largest compute share C_max_j one user can get, FLOP/s, > 0.
    interference
        ``"none"`` (orthogonal cells) or ``"other-cells"`` (users offloaded to other ESs
        interfere at ES j).
    queue
        Name of the ES queue model: ``"processor-sharing"`` (default), ``"mm1"``, ``"md1"``.
    arrival_rate
        Query rate lambda (queries/s) each offloaded user adds to its ES; used by the
        ``"mm1"`` and ``"md1"`` queue models, which require it > 0.
    tau
        Uncertainty rule threshold in [0, 1]: users with ``alpha > tau`` must be offloaded.
        ``None`` disables the rule.
    min_accuracy
        Target for the mean served accuracy, in [0, 1]; ``None`` disables it.
    max_users
        (M,) largest number of users K_j an ES may serve; ``None`` means no limit.
    meta
        Free-form provenance (scenario name, seed, overrides). Not used by any computation.

    Raises
    ------
    ValueError
        On NaN or infinite values, non-positive capacities, shape mismatches, probabilities
        outside [0, 1] or unknown option names. The message names the field and the index.
    """

    alpha: np.ndarray
    acc_local: np.ndarray
    acc_edge: np.ndarray
    local_delay: np.ndarray
    prompt_bits: np.ndarray
    edge_work: np.ndarray
    tx_power: np.ndarray
    gain: np.ndarray
    bandwidth: np.ndarray
    noise: np.ndarray
    capacity: np.ndarray
    per_user_cap: np.ndarray
    interference: str = "none"
    queue: str = "processor-sharing"
    arrival_rate: float = 0.0
    tau: float | None = None
    min_accuracy: float | None = None
    max_users: np.ndarray | None = None
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        setf = object.__setattr__
        for name in _USER_FIELDS + ("gain",) + _ES_FIELDS:
            setf(self, name, _as_float_array(name, getattr(self, name)))
        n_users = self.alpha.shape[0] if self.alpha.ndim == 1 else -1
        if self.alpha.ndim != 1 or n_users == 0:
            raise ValueError(
                f"Instance.alpha must be a non-empty 1-D array, got shape {self.alpha.shape}"
            )
        if self.gain.ndim != 2 or self.gain.shape[0] != n_users or self.gain.shape[1] == 0:
            raise ValueError(
                f"Instance.gain must have shape (N, M) = ({n_users}, M>=1), "
                f"got {self.gain.shape}"
            )
        n_es = self.gain.shape[1]
        for name in _USER_FIELDS:
            _check_shape(name, getattr(self, name), (n_users,))
        for name in _ES_FIELDS:
            _check_shape(name, getattr(self, name), (n_es,))
        for name in _USER_FIELDS + ("gain",) + _ES_FIELDS:
            arr = getattr(self, name)
            _first_bad(name, arr, ~np.isfinite(arr), "must be finite")
        for name in _UNIT_INTERVAL:
            arr = getattr(self, name)
            _first_bad(name, arr, (arr < 0) | (arr > 1), "must lie in [0, 1]")
        for name in _POSITIVE:
            arr = getattr(self, name)
            _first_bad(name, arr, arr <= 0, "must be > 0")
        _first_bad("gain", self.gain, self.gain < 0, "must be >= 0")

        if self.interference not in INTERFERENCE_MODELS:
            raise UnknownNameError(
                f"Instance.interference: unknown interference model {self.interference!r}; "
                "valid names: " + ", ".join(repr(m) for m in INTERFERENCE_MODELS)
            )
        from mecopt.queues import QUEUE_MODELS

        if self.queue not in QUEUE_MODELS:
            raise UnknownNameError(
                f"Instance.queue: unknown queue model {self.queue!r}; valid names: "
                + ", ".join(repr(m) for m in QUEUE_MODELS.names())
            )
        rate = _as_scalar("arrival_rate", self.arrival_rate)
        if rate < 0:
            raise ValueError(f"Instance.arrival_rate = {rate!r}: must be >= 0")
        if self.queue in ("mm1", "md1") and rate <= 0:
            raise ValueError(
                f"Instance.arrival_rate = {rate!r}: queue model {self.queue!r} needs a "
                "query rate > 0 (queries/s per offloaded user)"
            )
        setf(self, "arrival_rate", rate)
        if self.tau is not None:
            tau = _as_scalar("tau", self.tau)
            if not 0.0 <= tau <= 1.0:
                raise ValueError(f"Instance.tau = {tau!r}: must lie in [0, 1] (alpha does)")
            setf(self, "tau", tau)
        if self.min_accuracy is not None:
            acc = _as_scalar("min_accuracy", self.min_accuracy)
            if not 0.0 <= acc <= 1.0:
                raise ValueError(f"Instance.min_accuracy = {acc!r}: must lie in [0, 1]")
            setf(self, "min_accuracy", acc)
        if self.max_users is not None:
            k = np.array(self.max_users, dtype=float, copy=True)
            _check_shape("max_users", k, (n_es,))
            _first_bad(
                "max_users",
                k,
                ~np.isfinite(k) | (k < 0) | (k != np.round(k)),
                "must be a whole number >= 0",
            )
            k = k.astype(np.int64)
            k.setflags(write=False)
            setf(self, "max_users", k)
        setf(self, "meta", dict(self.meta))

    # ------------------------------------------------------------------ sizes
    @property
    def n_users(self) -> int:
        """N, the number of users."""
        return int(self.alpha.shape[0])

    @property
    def n_servers(self) -> int:
        """M, the number of edge servers."""
        return int(self.gain.shape[1])

    @property
    def forced(self) -> np.ndarray:
        """(N,) bool: users the uncertainty rule forces to offload (``alpha > tau``)."""
        if self.tau is None:
            return np.zeros(self.n_users, dtype=bool)
        return self.alpha > self.tau

    @property
    def count_limit(self) -> np.ndarray:
        """(M,) int: the largest count each ES may hold (``max_users`` or N)."""
        if self.max_users is None:
            return np.full(self.n_servers, self.n_users, dtype=np.int64)
        return np.minimum(self.max_users, self.n_users)

    def replace(self, **changes: Any) -> Instance:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in the versioned schema ``mecopt.instance``."""
        fields: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            fields[f.name] = value.tolist() if isinstance(value, np.ndarray) else value
        return {"schema": SCHEMA_NAME, "version": SCHEMA_VERSION, "instance": fields}

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise to JSON; also write it to ``path`` when given.

        Floats are written with full precision, so ``Instance.from_json(inst.to_json())``
        reproduces every array bit for bit.
        """
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            Path(path).write_text(text)
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Instance:
        """Build an instance from :meth:`to_dict` output, checking schema and version."""
        if not isinstance(data, Mapping):
            raise InstanceFormatError("instance JSON must be an object")
        if data.get("schema") != SCHEMA_NAME:
            raise InstanceFormatError(
                f"instance JSON field 'schema' = {data.get('schema')!r}: expected {SCHEMA_NAME!r}"
            )
        version = data.get("version")
        if version != SCHEMA_VERSION:
            raise InstanceFormatError(
                f"instance JSON field 'version' = {version!r}: this mecopt reads version "
                f"{SCHEMA_VERSION}"
            )
        fields = data.get("instance")
        if not isinstance(fields, Mapping):
            raise InstanceFormatError("instance JSON field 'instance' must be an object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise InstanceFormatError(f"instance JSON has unknown field(s): {', '.join(unknown)}")
        required = {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING}
        required -= {"meta"}
        missing = sorted(required - set(fields))
        if missing:
            raise InstanceFormatError(f"instance JSON lacks field(s): {', '.join(missing)}")
        kwargs = dict(fields)
        for name in _USER_FIELDS + ("gain",) + _ES_FIELDS:
            if kwargs.get(name) is None:
                raise InstanceFormatError(f"instance JSON field {name!r} is null")
        return cls(**kwargs)

    @classmethod
    def from_json(cls, source: str | Path) -> Instance:
        """Read an instance from JSON text or from a file path.

        Raises
        ------
        InstanceFormatError
            If the text is not valid JSON or not a ``mecopt.instance`` document.
        FileNotFoundError
            If ``source`` names a file that does not exist.
        ValueError
            If a field holds an invalid value (see :class:`Instance`).
        """
        if isinstance(source, Path) or not str(source).lstrip().startswith(("{", "[")):
            path = Path(source)
            if not path.is_file():
                raise FileNotFoundError(f"instance file not found: {path}")
            text = path.read_text()
            where = str(path)
        else:
            text = str(source)
            where = "instance JSON"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InstanceFormatError(
                f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        return cls.from_dict(data)

    def __repr__(self) -> str:
        opts = f"interference={self.interference!r}, queue={self.queue!r}"
        if self.tau is not None:
            opts += f", tau={self.tau}"
        if self.min_accuracy is not None:
            opts += f", min_accuracy={self.min_accuracy}"
        if self.max_users is not None:
            opts += f", max_users={self.max_users.tolist()}"
        return f"Instance(N={self.n_users}, M={self.n_servers}, {opts})"


def _as_float_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.array(value, dtype=float, copy=True)
    except (TypeError, ValueError):
        raise ValueError(f"Instance.{name} must be numeric, got {value!r:.80}") from None
    arr.setflags(write=False)
    return arr


def _check_shape(name: str, arr: np.ndarray, shape: tuple[int, ...]) -> None:
    if arr.shape != shape:
        raise ValueError(f"Instance.{name} must have shape {shape}, got {arr.shape}")


def _as_scalar(name: str, value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Instance.{name} = {value!r}: must be a number") from None
    if not math.isfinite(out):
        raise ValueError(f"Instance.{name} = {value!r}: must be finite")
    return out
