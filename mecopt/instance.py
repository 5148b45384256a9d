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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mecopt import jsonio
from mecopt.channel import INTERFERENCE
from mecopt.errors import UnknownNameError
from mecopt.instance_checks import (
    as_float_array,
    as_scalar,
    check_shape,
    first_bad,
    infer_sizes,
)

#: Version of the JSON schema written by :meth:`Instance.to_json`. Version 2 added the
#: optional energy, hallucination, cost-weight and planning fields (``_OPTIONAL_FIELDS``);
#: version-1 files still load.
SCHEMA_VERSION = 2
#: Every schema version :meth:`Instance.from_dict` reads.
READABLE_VERSIONS = (1, 2)
SCHEMA_NAME = "mecopt.instance"

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
#: Optional (N,) fields (``None`` = off) and the rule each value must satisfy.
_OPTIONAL_USER_FIELDS = {
    "local_energy": "nonnegative",
    "energy_budget": "nonnegative",
    "hall_local": "unit",
    "hall_edge": "unit",
    "cost_energy": "nonnegative",
    "edge_work_plan": "positive",
}
#: Fields added by schema version 2; written only when set.
_OPTIONAL_FIELDS = (*_OPTIONAL_USER_FIELDS, "max_hallucination", "cost_accuracy",
                    "cost_hallucination", "edge_wait")
#: Largest ``max_users`` entry (any limit >= N means "no limit").
_MAX_COUNT = 2**53


_F = jsonio.FieldSpec
#: The JSON shape of every field of the ``instance`` object.
_INSTANCE_FIELDS: dict[str, jsonio.FieldSpec] = {
    **{name: _F("array", 1) for name in _USER_FIELDS},
    "gain": _F("array", 2),
    **{name: _F("array", 1) for name in _ES_FIELDS},
    "interference": _F("string", required=False),
    "queue": _F("string", required=False),
    "arrival_rate": _F("number", required=False),
    "tau": _F("number", nullable=True, required=False),
    "min_accuracy": _F("number", nullable=True, required=False),
    "max_users": _F("array", 1, nullable=True, integer=True, required=False),
    # Schema version 2 (optional; null or absent = off):
    **{name: _F("array", 1, nullable=True, required=False) for name in _OPTIONAL_USER_FIELDS},
    "max_hallucination": _F("number", nullable=True, required=False),
    "cost_accuracy": _F("number", required=False),
    "cost_hallucination": _F("number", required=False),
    "edge_wait": _F("array", 1, nullable=True, required=False),
    "meta": _F("object", required=False),
}
_DOCUMENT_FIELDS = {"schema": _F("string"), "version": _F("number", integer=True),
                    "instance": _F("object")}


class InstanceFormatError(jsonio.JSONFormatError):
    """A JSON instance file that cannot be read: malformed, wrong schema or version."""


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
    local_energy
        (N,) energy E_i^L in J the device spends answering locally, >= 0; ``None`` counts
        it as 0. An offloaded user spends ``P_i t_comm_ij`` (uplink time with the ES's
        bandwidth share and interference).
    energy_budget
        (N,) cap in J on the energy of each user's choice, >= 0; ``None`` disables it.
    hall_local, hall_edge
        (N,) probability that the device / edge model hallucinates, in [0, 1]; both or
        neither.
    max_hallucination
        Cap in [0, 1] on the mean hallucination probability of the served models; needs
        ``hall_local`` and ``hall_edge``. ``None`` disables it.
    cost_energy
        (N,) weight in s/J of each user's energy in the objective, >= 0; ``None`` = 0.
    cost_accuracy
        Weight in s of the served accuracy in the objective (a reward), >= 0.
    cost_hallucination
        Weight in s of the hallucination probability in the objective, >= 0; a positive
        value needs ``hall_local`` and ``hall_edge``.
    edge_work_plan
        (N,) planning estimate of ``edge_work`` in FLOP, > 0: heuristics plan with it
        (:meth:`planning_view`); the evaluator and the exact solvers use ``edge_work``.
        ``None``: plan with the truth.
    edge_wait
        (M,) fixed wait in s, >= 0, before ES j starts on any query offloaded to it (for
        example the backlog an ES already holds, as in a slot of the long-term system);
        added to every offload's edge delay under every queue model. ``None`` = 0.
    meta
        Free-form provenance (scenario name, seed, overrides). Not used by any computation.

    Notes
    -----
    Every solver minimises the objective, the mean over users of
    ``delay_i + cost_energy_i energy_i - cost_accuracy acc_i + cost_hallucination hall_i``
    (the mean delay when no weight is set).

    Raises
    ------
    ValueError
        On NaN or infinite values, non-positive capacities, shape mismatches, probabilities
        outside [0, 1], negative energies or weights, a hallucination cap or weight without
        the hallucination arrays, or unknown option names. The message names the field and
        the index.
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
    local_energy: np.ndarray | None = None
    energy_budget: np.ndarray | None = None
    hall_local: np.ndarray | None = None
    hall_edge: np.ndarray | None = None
    max_hallucination: float | None = None
    cost_energy: np.ndarray | None = None
    cost_accuracy: float = 0.0
    cost_hallucination: float = 0.0
    edge_work_plan: np.ndarray | None = None
    edge_wait: np.ndarray | None = None
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        setf = object.__setattr__
        for name in _USER_FIELDS + ("gain",) + _ES_FIELDS:
            setf(self, name, as_float_array(name, getattr(self, name)))
        n_users, n_es = infer_sizes({n: getattr(self, n) for n in _USER_FIELDS},
                                     {n: getattr(self, n) for n in _ES_FIELDS}, self.gain)
        for name in _USER_FIELDS + ("gain",) + _ES_FIELDS:
            arr = getattr(self, name)
            first_bad(name, arr, ~np.isfinite(arr), "must be finite")
        for name in _UNIT_INTERVAL:
            arr = getattr(self, name)
            first_bad(name, arr, (arr < 0) | (arr > 1), "must lie in [0, 1]")
        for name in _POSITIVE:
            arr = getattr(self, name)
            first_bad(name, arr, arr <= 0, "must be > 0")
        first_bad("gain", self.gain, self.gain < 0, "must be >= 0")

        if self.interference not in INTERFERENCE:
            raise UnknownNameError(
                f"Instance.interference: unknown interference model {self.interference!r}; "
                "valid names: " + ", ".join(repr(m) for m in INTERFERENCE)
            )
        from mecopt.queues import QUEUE_MODELS

        if self.queue not in QUEUE_MODELS:
            raise UnknownNameError(
                f"Instance.queue: unknown queue model {self.queue!r}; valid names: "
                + ", ".join(repr(m) for m in QUEUE_MODELS.names())
            )
        rate = as_scalar("arrival_rate", self.arrival_rate)
        if rate < 0:
            raise ValueError(f"Instance.arrival_rate = {rate!r}: must be >= 0")
        if self.queue in ("mm1", "md1") and rate <= 0:
            raise ValueError(
                f"Instance.arrival_rate = {rate!r}: queue model {self.queue!r} needs a "
                "query rate > 0 (queries/s per offloaded user)"
            )
        setf(self, "arrival_rate", rate)
        if self.tau is not None:
            tau = as_scalar("tau", self.tau)
            if not 0.0 <= tau <= 1.0:
                raise ValueError(f"Instance.tau = {tau!r}: must lie in [0, 1] (alpha does)")
            setf(self, "tau", tau)
        if self.min_accuracy is not None:
            acc = as_scalar("min_accuracy", self.min_accuracy)
            if not 0.0 <= acc <= 1.0:
                raise ValueError(f"Instance.min_accuracy = {acc!r}: must lie in [0, 1]")
            setf(self, "min_accuracy", acc)
        if self.max_users is not None:
            k = as_float_array("max_users", self.max_users)
            check_shape("max_users", k, (n_es,))
            first_bad(
                "max_users",
                k,
                ~np.isfinite(k) | (k < 0) | (k != np.round(k)) | (k > _MAX_COUNT),
                f"must be a whole number in [0, {_MAX_COUNT}]",
            )
            k = k.astype(np.int64)
            k.setflags(write=False)
            setf(self, "max_users", k)
        self._check_optional(n_users)
        if not isinstance(self.meta, Mapping):
            raise ValueError(f"Instance.meta must be a mapping (provenance), got "
                             f"{type(self.meta).__name__}")
        setf(self, "meta", dict(self.meta))

    def _check_optional(self, n_users: int) -> None:
        """Validate the optional energy, hallucination, weight and planning fields."""
        setf = object.__setattr__
        rules = {
            "nonnegative": (lambda a: a < 0, "must be >= 0"),
            "unit": (lambda a: (a < 0) | (a > 1), "must lie in [0, 1]"),
            "positive": (lambda a: a <= 0, "must be > 0"),
        }
        for name, rule in _OPTIONAL_USER_FIELDS.items():
            value = getattr(self, name)
            if value is None:
                continue
            arr = as_float_array(name, value)
            check_shape(name, arr, (n_users,))
            first_bad(name, arr, ~np.isfinite(arr), "must be finite")
            bad, text = rules[rule]
            first_bad(name, arr, bad(arr), text)
            setf(self, name, arr)
        if self.edge_wait is not None:
            wait = as_float_array("edge_wait", self.edge_wait)
            check_shape("edge_wait", wait, (self.n_servers,))
            first_bad("edge_wait", wait, ~np.isfinite(wait), "must be finite")
            first_bad("edge_wait", wait, wait < 0, "must be >= 0")
            setf(self, "edge_wait", wait)
        has_hall = self.hall_local is not None
        if has_hall != (self.hall_edge is not None):
            given, absent = ("hall_local", "hall_edge") if has_hall else ("hall_edge",
                                                                         "hall_local")
            raise ValueError(f"Instance.{given} is set but Instance.{absent} is None: give "
                             "both hallucination arrays or neither")
        if self.max_hallucination is not None:
            cap = as_scalar("max_hallucination", self.max_hallucination)
            if not 0.0 <= cap <= 1.0:
                raise ValueError(f"Instance.max_hallucination = {cap!r}: must lie in [0, 1]")
            if not has_hall:
                raise ValueError(f"Instance.max_hallucination = {cap!r} needs hall_local and "
                                 "hall_edge")
            setf(self, "max_hallucination", cap)
        for name in ("cost_accuracy", "cost_hallucination"):
            weight = as_scalar(name, getattr(self, name))
            if weight < 0:
                raise ValueError(f"Instance.{name} = {weight!r}: must be >= 0")
            setf(self, name, weight)
        if self.cost_hallucination > 0 and not has_hall:
            raise ValueError(f"Instance.cost_hallucination = {self.cost_hallucination!r} "
                             "needs hall_local and hall_edge")

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

    @property
    def weighted(self) -> bool:
        """True when the objective carries an energy, accuracy or hallucination weight."""
        return (self.cost_energy is not None or self.cost_accuracy > 0
                or self.cost_hallucination > 0)

    def replace(self, **changes: Any) -> Instance:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def planning_view(self) -> Instance:
        """The instance heuristics plan on: ``edge_work`` replaced by ``edge_work_plan``.

        Returns ``self`` when no planning estimate is set. Score the plan with the true
        instance (:func:`mecopt.evaluate`).
        """
        if self.edge_work_plan is None:
            return self
        return self.replace(edge_work=self.edge_work_plan, edge_work_plan=None)

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in the versioned schema ``mecopt.instance``."""
        fields: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _OPTIONAL_FIELDS and (value is None or (
                    f.name in ("cost_accuracy", "cost_hallucination") and value == 0)):
                continue  # unset optional fields are not written
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
    def from_dict(cls, data: Mapping[str, Any], where: str = "instance JSON") -> Instance:
        """Build an instance from :meth:`to_dict` output, checking schema, version and types.

        Every number must be a JSON number (not a boolean, string or ``null``), finite and
        within float range; unknown keys at any level are errors naming them.
        """
        if isinstance(data, Mapping) and "version" in data:
            version = data["version"]
            if isinstance(version, bool) or version not in READABLE_VERSIONS:
                raise InstanceFormatError(
                    f"{where}: field 'version' = {version!r}: this mecopt reads versions "
                    + ", ".join(str(v) for v in READABLE_VERSIONS)
                )
        try:
            return cls._from_document(data, where)
        except InstanceFormatError:
            raise
        except jsonio.JSONFormatError as exc:
            raise InstanceFormatError(str(exc)) from None

    @classmethod
    def _from_document(cls, data: Any, where: str) -> Instance:
        top = jsonio.check_fields(where, data, _DOCUMENT_FIELDS)
        if top["schema"] != SCHEMA_NAME:
            raise InstanceFormatError(
                f"{where}: field 'schema' = {top['schema']!r}: expected {SCHEMA_NAME!r}"
            )
        version = top["version"]
        if version not in READABLE_VERSIONS:
            raise InstanceFormatError(
                f"{where}: field 'version' = {version!r}: this mecopt reads versions "
                + ", ".join(str(v) for v in READABLE_VERSIONS)
            )
        fields = top["instance"]
        newer = sorted(set(fields) & set(_OPTIONAL_FIELDS))
        if version == 1 and newer:
            raise InstanceFormatError(
                f"{where}: version 1 cannot hold field(s) {', '.join(newer)} "
                "(added in version 2)"
            )
        kwargs = jsonio.check_fields(f"{where}: instance", fields, _INSTANCE_FIELDS)
        return cls(**kwargs)

    @classmethod
    def from_json(cls, source: str | Path) -> Instance:
        """Read an instance from JSON text or from a file path.

        Raises
        ------
        InstanceFormatError
            If the text is not valid UTF-8 JSON or not a ``mecopt.instance`` document
            (the message names the file and the field).
        FileNotFoundError
            If ``source`` names a file that does not exist.
        ValueError
            If a field holds an invalid value (see :class:`Instance`).
        """
        try:
            if isinstance(source, Path) or not str(source).lstrip().startswith(("{", "[")):
                path = Path(source)
                if not path.is_file():
                    raise FileNotFoundError(f"instance file not found: {path}")
                data, where = jsonio.read_json_file(path), str(path)
            else:
                data, where = jsonio.loads(str(source), "instance JSON"), "instance JSON"
        except jsonio.JSONFormatError as exc:
            raise InstanceFormatError(str(exc)) from None
        try:
            return cls.from_dict(data, where)
        except InstanceFormatError:
            raise
        except jsonio.JSONFormatError as exc:
            raise InstanceFormatError(str(exc)) from None
        except ValueError as exc:
            if where == "instance JSON":
                raise
            raise type(exc)(f"{where}: {exc}") from None

    def __repr__(self) -> str:
        opts = f"interference={self.interference!r}, queue={self.queue!r}"
        if self.tau is not None:
            opts += f", tau={self.tau}"
        if self.min_accuracy is not None:
            opts += f", min_accuracy={self.min_accuracy}"
        if self.max_users is not None:
            opts += f", max_users={self.max_users.tolist()}"
        opts += "".join(f", {name}=..." for name in (*_OPTIONAL_USER_FIELDS, "edge_wait")
                        if getattr(self, name) is not None)
        if self.max_hallucination is not None:
            opts += f", max_hallucination={self.max_hallucination}"
        for name in ("cost_accuracy", "cost_hallucination"):
            if getattr(self, name):
                opts += f", {name}={getattr(self, name)}"
        return f"Instance(N={self.n_users}, M={self.n_servers}, {opts})"

