"""The result of one solve."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from mecopt.evaluate import Metrics

#: Statuses a :class:`SolveResult` can carry: ``optimal`` (proven within ``gap_tol``),
#: ``feasible`` (meets every constraint, not proven optimal), ``violates`` (an assignment
#: that breaks a constraint; ``violations`` lists which), ``infeasible`` (proven to have no
#: feasible assignment), ``no_solution`` (no assignment at all, infeasibility not proven).
STATUSES = ("optimal", "feasible", "violates", "infeasible", "no_solution")

#: Why a run stopped (:attr:`SolveResult.stop`): ``gap`` (the requested relative gap was
#: proven), ``time_limit`` (the time limit came first), ``infeasible`` (infeasibility was
#: proven), ``solver_limit`` (a solver's own node, iteration or size limit, or a model
#: beyond the solvers' numeric range), ``no_proof`` (every method of the exact driver ran to
#: its end without closing the gap), ``error`` (the backend failed; the best other answer is
#: returned), ``heuristic`` (a heuristic, which seeks no proof, finished).
STOPS = ("gap", "time_limit", "infeasible", "solver_limit", "no_proof", "error", "heuristic")

#: Units of the numeric fields of :meth:`SolveResult.to_dict` (the text summary says ms).
UNITS = {"objective": "s", "bound": "s", "gap": "fraction", "gap_tol": "fraction",
         "accuracy": "fraction", "runtime": "s", "time_limit": "s"}

#: Default relative gap of every exact solve: ``(objective - bound) / objective`` at which
#: the search stops and the answer counts as optimal. 1e-4 is the default of HiGHS
#: (``mip_rel_gap``), Gurobi (``MIPGap``) and CPLEX (``mipgap``); on a mean delay of 20 ms
#: it is 2 microseconds. Ask ``gap=0`` for a proof to the solvers' precision.
DEFAULT_GAP = 1e-4

#: The smallest gap a proof is recorded to (``gap=0`` is recorded as ``gap_tol = MIN_GAP``):
#: the backends' objectives are rounded (CP-SAT's is scaled to integers), so a bound within
#: 1e-6 of the optimum is as close as every backend proves.
MIN_GAP = 1e-6

#: Rounding allowed between a backend's objective and the evaluator's when a gap is
#: compared with its tolerance (absolute, in units of relative gap).
GAP_SLACK = 1e-9


def proven(gap: float | None, gap_tol: float | None) -> bool:
    """True when a relative ``gap`` is within the tolerance ``gap_tol`` (both known)."""
    return gap is not None and gap_tol is not None and gap <= gap_tol + GAP_SLACK


def check_gap(gap: object) -> float:
    """The requested relative gap as a float in ``[0, 1)``.

    Raises
    ------
    ValueError
        Naming the value, when it is not a number in ``[0, 1)``.
    """
    if isinstance(gap, bool) or not isinstance(gap, int | float | np.floating | np.integer) \
            or not 0 <= gap < 1:
        raise ValueError(f"gap = {gap!r}: must be a number in [0, 1)")
    return float(gap)


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
        ``"optimal"`` (proven within the relative gap ``gap_tol``), ``"feasible"`` (an
        assignment meeting every constraint, not proven optimal: a heuristic, or an exact
        solver stopped first by its time limit), ``"violates"`` (an assignment that breaks a
        constraint, e.g. a baseline ignoring the uncertainty rule; ``metrics.violations``
        lists what it breaks), ``"infeasible"`` (proven to have no feasible assignment) or
        ``"no_solution"`` (no assignment at all; infeasibility not proven).
    objective
        The evaluator's objective (s) of ``assignment`` (:attr:`Metrics.objective`: the mean
        delay unless the instance sets cost weights); ``None`` without one.
    bound
        A proven lower bound on the optimal objective (exact solvers only).
    gap
        ``(objective - bound) / objective``; ``None`` without a bound.
    gap_tol
        The relative gap the run was asked to prove (exact solvers; ``None`` for
        heuristics): the status is ``"optimal"`` exactly when ``gap <= gap_tol``.
    stop
        Why the run stopped, one of :data:`STOPS` (``"gap"``, ``"time_limit"``, ...).
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
    gap_tol: float | None = None
    stop: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")
        if self.stop is None and self.status in ("optimal", "infeasible"):
            object.__setattr__(self, "stop", "gap" if self.status == "optimal" else
                               "infeasible")
        if self.stop not in STOPS:
            raise ValueError(f"stop {self.stop!r} is not one of {STOPS}")
        has = self.assignment is not None and self.metrics is not None
        if self.status in ("optimal", "feasible") and not (has and self.metrics.feasible):
            raise ValueError(f"status {self.status!r} needs a feasible assignment")
        if self.status == "violates" and not (has and not self.metrics.feasible):
            raise ValueError("status 'violates' needs an assignment that breaks a constraint")
        if self.status in ("infeasible", "no_solution") and self.assignment is not None:
            raise ValueError(f"status {self.status!r} carries no assignment")
        if self.status == "optimal" and not proven(self.gap, self.gap_tol):
            raise ValueError(f"status 'optimal' needs a proven gap within gap_tol (gap "
                             f"{self.gap!r}, gap_tol {self.gap_tol!r})")
        if (self.stop == "gap") != (self.status == "optimal"):
            raise ValueError(f"stop 'gap' goes with status 'optimal' (status "
                             f"{self.status!r}, stop {self.stop!r})")
        if (self.stop == "infeasible") != (self.status == "infeasible"):
            raise ValueError(f"stop 'infeasible' goes with status 'infeasible' (status "
                             f"{self.status!r}, stop {self.stop!r})")

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
            "gap_tol": self.gap_tol,
            "stop": self.stop,
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
        lines = [f"solver     {self.solver} ({self.solver_version})",
                 f"status     {self.status} (stopped by: {self.stop})"]
        if self.metrics is not None and self.metrics.objective != self.metrics.mean_delay:
            lines.append(f"objective  {self.objective * 1e3:.4f} ms")
            lines.append(f"mean delay {self.metrics.mean_delay * 1e3:.4f} ms")
        elif self.objective is not None:
            lines.append(f"mean delay {self.objective * 1e3:.4f} ms")
        if self.bound is not None:
            gap = "unknown" if self.gap is None else f"{self.gap:.2e}"
            tol = "" if self.gap_tol is None else f", tolerance {self.gap_tol:.0e}"
            lines.append(f"bound      {self.bound * 1e3:.4f} ms (gap {gap}{tol})")
        if self.metrics is not None:
            lines.append(f"accuracy   {self.metrics.accuracy:.4f}")
            lines.append(f"offloaded  {self.metrics.n_offloaded} "
                         f"(per ES {self.metrics.users_per_es.tolist()})")
            lines.extend(f"violation  {v}" for v in self.metrics.violations)
        lines.append(f"runtime    {self.runtime:.3f} s (threads {self.threads}, seed {self.seed}, "
                     f"time limit {self.time_limit})")
        violations = "" if self.metrics is None else "; ".join(self.metrics.violations)
        if self.message and self.message != violations:
            lines.append(f"message    {self.message}")
        return "\n".join(lines)
