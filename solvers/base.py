"""What every exact backend adapter provides, and what it returns.

An adapter translates a :class:`~mecopt.formulations.milp.MatrixMILP` to one solver,
imports that solver lazily, maps the solver's own status codes to ``BACKEND_STATUSES``
through its ``STATUS_MAP``, returns the incumbent when a limit stops it, and records the
solver's version.
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from typing import Any, Protocol

import numpy as np

from mecopt.errors import MissingDependencyError
from mecopt.formulations.milp import MatrixMILP

#: ``optimal``: proven within the gap tolerance; ``feasible``: a limit stopped the search
#: with an incumbent; ``infeasible``: proven; ``no_solution``: stopped without one;
#: ``error``: the solver failed.
BACKEND_STATUSES = ("optimal", "feasible", "infeasible", "no_solution", "error")

#: Relative MIP gap at which backends stop (proofs are checked again by the driver).
MIP_REL_GAP = 1e-7

def highs_options(milp: MatrixMILP) -> dict[str, object]:
    """HiGHS options every HiGHS-based backend sets for ``milp``.

    Without an accuracy (or hallucination) row the count-indexed relaxation is tight and
    HiGHS presolve (probing) costs more than it saves; with one the search branches, and
    presolve pays for itself (figures: ``benchmarks/exact_scale/README.md``). The generic
    big-M model keeps HiGHS's default (presolve on).
    """
    from mecopt.formulations.count_indexed import QUALITY_ROWS, ROW_INTERFERENCE

    if np.any(milp.row_kind == ROW_INTERFERENCE):
        # The interference interval model: HiGHS 1.12 presolve returned a wrong "optimal"
        # (and bound) on it (the interval model's tests, case energy-6).
        return {"presolve": "off"}
    has_accuracy = bool(np.any(np.isin(milp.row_kind, QUALITY_ROWS)))
    # A model with continuous columns (big-M) is solved with HiGHS's defaults.
    return {"presolve": "on" if has_accuracy or not milp.all_binary else "off"}


@dataclasses.dataclass(frozen=True)
class BackendOptions:
    """Run settings common to all backends."""

    deadline: float | None
    threads: int
    seed: int
    hint: np.ndarray | None = None
    engine: str | None = None
    verbose: bool = False
    #: Relative MIP gap at which the backend may stop.
    mip_gap: float = MIP_REL_GAP

    def time_left(self) -> float:
        """Seconds until the deadline (``time.perf_counter`` clock), at least 1 ms.

        Backends call it after building their model, right before the solver starts, so
        model building counts against the user's time limit. Only call it when
        ``deadline`` is set.
        """
        assert self.deadline is not None
        return max(self.deadline - time.perf_counter(), 1e-3)


@dataclasses.dataclass(frozen=True, eq=False)
class BackendResult:
    """A backend's answer, in the MILP's own objective units."""

    status: str
    x: np.ndarray | None
    objective: float | None
    bound: float | None
    raw_status: str
    stats: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in BACKEND_STATUSES:
            raise ValueError(f"backend status {self.status!r} is not one of {BACKEND_STATUSES}")


class Backend(Protocol):
    """An exact MILP backend.

    Besides the members below, an adapter may declare the capability flags of
    :class:`Capabilities` as class attributes; the exact driver reads them through
    :meth:`Capabilities.of` and never checks a backend's name.
    """

    #: Registered name, e.g. ``"highs"``.
    name: str
    #: The optional extra or package that provides it, for error messages.
    package: str

    def available(self) -> bool:
        """True when the solver can be imported and run here."""
        ...

    def version(self) -> str:
        """The version of the solver package."""
        ...

    def solve(self, milp: MatrixMILP, options: BackendOptions) -> BackendResult:
        """Solve ``milp``; never claim optimality without proof."""
        ...


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What the exact driver may ask of a backend (cvxpy's adapters declare the same).

    Attributes
    ----------
    supports_settle
        The backend is HiGHS itself, so the driver's own HiGHS sub-solves (count vectors
        settled one by one: count enumeration, ``"count-intervals"``) may stand in for
        it; other backends keep their own path.
    integer_only
        The backend takes no continuous columns (CP-SAT): no interval model.
    build_seconds_per_nonzero
        Seconds per constraint nonzero to build the backend's model; the driver does not
        start the backend when that exceeds the time left.
    """

    supports_settle: bool = False
    integer_only: bool = False
    build_seconds_per_nonzero: float = 0.0

    @classmethod
    def of(cls, backend: object) -> Capabilities:
        """The flags ``backend`` declares (the defaults for those it does not)."""
        return cls(**{f.name: type(f.default)(getattr(backend, f.name, f.default))
                      for f in dataclasses.fields(cls)})


class ImportBackend:
    """Shared ``available`` and ``version`` for adapters around one importable module.

    Subclasses set ``module`` (imported lazily), ``package`` (what ``pip install`` needs) and
    ``dist`` (the distribution whose version is recorded).
    """

    name = ""
    package = ""
    module = ""
    dist = ""

    def available(self) -> bool:
        """True when ``module`` imports."""
        try:
            require(self.module, self.package)
        except ImportError:
            return False
        return True

    def version(self) -> str:
        """Version of the distribution behind the backend."""
        return package_version(self.dist)


def require(module: str, package: str) -> Any:
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``package``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module} is not importable ({exc}); install it with: pip install {package}"
        ) from None


def package_version(dist: str) -> str:
    """Installed version of distribution ``dist`` or ``"not installed"``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"


def reset_highs_scheduler() -> None:
    """Let the next highspy solve use any thread count.

    HiGHS keeps one global thread pool per process, sized by the first solve; a later solve
    asking for another ``threads`` value fails ("Not Set") unless the pool is reset first.
    Every highspy-based backend (highs, pyomo's appsi_highs, cvxpy's HIGHS) calls this.
    """
    try:
        import highspy
    except ImportError:
        return
    reset = getattr(highspy.Highs, "resetGlobalScheduler", None)
    if reset is not None:
        reset(True)


def finite_or_none(value: object) -> float | None:
    """``float(value)`` when it is a finite number, else ``None`` (NaN, inf, pandas NA)."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def solve_empty(milp: MatrixMILP) -> BackendResult:
    """The answer for a MILP without variables (every offload was pruned: all users local).

    Some solvers reject such a model (HiGHS: "Empty", cvxpy: an unpackable solution), so the
    backends answer it here: optimal at the constant objective if the rows hold at zero.
    """
    zero = np.zeros(0)
    ok = bool(np.all(milp.row_lo <= 0.0) and np.all(milp.row_hi >= 0.0))
    if not ok:
        return BackendResult(status="infeasible", x=None, objective=None, bound=None,
                             raw_status="empty model, rows violated at zero")
    return BackendResult(status="optimal", x=zero, objective=float(milp.constant),
                         bound=float(milp.constant), raw_status="empty model")


def row_split(milp: MatrixMILP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks of equality rows, rows with a finite lower and a finite upper bound."""
    eq = milp.row_lo == milp.row_hi
    return eq, ~eq & np.isfinite(milp.row_lo), ~eq & np.isfinite(milp.row_hi)
