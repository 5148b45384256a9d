"""The result of one solve."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from mecopt.evaluate import Metrics

#: Statuses a :class:`SolveResult` can carry.
STATUSES = ("optimal", "feasible", "infeasible", "no_solution")

#: Units of the numeric fields of :meth:`SolveResult.to_dict` (the text summary says ms).
UNITS = {"objective": "s", "bound": "s", "gap": "fraction", "accuracy": "fraction",
         "runtime": "s", "time_limit": "s"}

#: A relative gap at or below this counts as closed (proven optimal).
GAP_TOL = 1e-6


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """``(objective - bound) / |objective|``, clipped at 0; ``None`` if either is missing."""
    if objective is None or bound is None or not math.isfinite(objective):
        return None
    if not math.isfinite(bound):
        return math.inf
    return max(objective - bound, 0.0) / max(abs(objective), 1e-12)


@dataclasses.dataclass(frozen=True, eq=False)
class SolveResult:
    """What a solver returned, re-evaluated by :func:`mecopt.evaluate`.

    Attributes
    ----------
    assignment
        (N,) -1 local, j >= 0 the ES; ``None`` when no assignment was found.
    status
        ``"optimal"`` (proven, gap closed), ``"feasible"`` (a feasible assignment, not proven
        optimal: a heuristic, or an exact solver stopped by its time limit),
        ``"infeasible"`` (proven to have no feasible assignment) or ``"no_solution"``
        (no feasible assignment found, infeasibility not proven).
    objective
        The evaluator's objective (s) of ``assignment`` (:attr:`Metrics.objective`: the mean
        delay unless the instance sets cost weights); ``None`` without one.
    bound
        A proven lower bound on the optimal objective (exact solvers only).
    gap
        ``(objective - bound) / objective``; ``None`` without a bound.
    runtime
        Wall-clock seconds of the whole solve, including model building.
    solver, solver_version
        The registered solver name and the version of the package behind it.
    seed, threads, time_limit
        What reproduces the run.
    metrics
        The evaluator's full :class:`~mecopt.evaluate.Metrics` of ``assignment``.
    message
        A human-readable note (the backend's own status, why a solve stopped).
    info
        Backend statistics (model size, nodes, which assignment won).
    """

    assignment: np.ndarray | None
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    runtime: float
    solver: str
    solver_version: str
    seed: int
    threads: int
    time_limit: float | None
    metrics: Metrics | None
    message: str = ""
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")
        if self.status in ("optimal", "feasible") and (
            self.assignment is None or self.metrics is None or not self.metrics.feasible
        ):
            raise ValueError(f"status {self.status!r} needs a feasible assignment")
        if self.status == "optimal" and (self.gap is None or self.gap > GAP_TOL):
            raise ValueError("status 'optimal' needs a proven bound with a closed gap")

    @property
    def success(self) -> bool:
        """True when a feasible assignment was found."""
        return self.status in ("optimal", "feasible")

    @property
    def accuracy(self) -> float | None:
        """Mean served accuracy of the assignment."""
        return None if self.metrics is None else self.metrics.accuracy

    @property
    def n_offloaded(self) -> int | None:
        """Number of offloaded users."""
        return None if self.metrics is None else self.metrics.n_offloaded

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no per-user arrays except the assignment)."""
        return {
            "solver": self.solver,
            "solver_version": self.solver_version,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "accuracy": self.accuracy,
            "n_offloaded": self.n_offloaded,
            "feasible": None if self.metrics is None else self.metrics.feasible,
            "violations": [] if self.metrics is None else list(self.metrics.violations),
            "runtime": self.runtime,
            "seed": self.seed,
            "threads": self.threads,
            "time_limit": self.time_limit,
            "message": self.message,
            "assignment": None if self.assignment is None else self.assignment.tolist(),
            "info": self.info,
            "units": dict(UNITS),
        }

    def summary(self) -> str:
        """A short multi-line description; delays in ms, times in s (each line says so)."""
        lines = [f"solver     {self.solver} ({self.solver_version})", f"status     {self.status}"]
        if self.metrics is not None and self.metrics.objective != self.metrics.mean_delay:
            lines.append(f"objective  {self.objective * 1e3:.4f} ms")
            lines.append(f"mean delay {self.metrics.mean_delay * 1e3:.4f} ms")
        elif self.objective is not None:
            lines.append(f"mean delay {self.objective * 1e3:.4f} ms")
        if self.bound is not None:
            gap = "unknown" if self.gap is None else f"{self.gap:.2e}"
            lines.append(f"bound      {self.bound * 1e3:.4f} ms (gap {gap})")
        if self.metrics is not None:
            lines.append(f"accuracy   {self.metrics.accuracy:.4f}")
            lines.append(f"offloaded  {self.metrics.n_offloaded} "
                         f"(per ES {self.metrics.users_per_es.tolist()})")
            lines.extend(f"violation  {v}" for v in self.metrics.violations)
        lines.append(f"runtime    {self.runtime:.3f} s (threads {self.threads}, seed {self.seed}, "
                     f"time limit {self.time_limit})")
        if self.message:
            lines.append(f"message    {self.message}")
        return "\n".join(lines)
