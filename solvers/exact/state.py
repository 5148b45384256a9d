"""What the exact driver knows while it runs: options, budget, candidates, bounds, notes.

:class:`SolveState` replaces the closures the driver once passed around: every method reads
the instance and the options from it, adds candidate assignments and bounds to it, and
reports progress through it. :class:`Budget` is the run's clock (as PyVRP's
``MaxRuntime``): one object instead of a deadline float threaded through every call.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mecopt.evaluate import Metrics, evaluate
from mecopt.instance import Instance
from mecopt.result import DEFAULT_GAP, SolveResult, relative_gap
from mecopt.solvers.base import Backend, Capabilities
from mecopt.solvers.exact.outcome import Outcome, Units
from mecopt.solvers.exact.params import PARAMS, ExactParams

Progress = Callable[[dict[str, Any]], None]
Candidates = dict[str, tuple[np.ndarray, Metrics]]
#: ``inner(instance, time_limit, gap)``: the driver on an interference-free instance.
InnerSolve = Callable[[Instance, float | None, float], SolveResult]


@dataclasses.dataclass(frozen=True)
class ExactOptions:
    """The arguments of :func:`mecopt.solvers.exact.solve_exact` (see there)."""

    backend: Backend
    solver_name: str
    time_limit: float | None
    seed: int
    threads: int
    engine: str | None = None
    verbose: bool = False
    warm_start: bool = True
    local_search_budget: float = 2.0
    lagrangian_mode: str = "auto"
    formulation: str = "auto"
    progress: Progress | None = None
    gap: float = DEFAULT_GAP
    params: ExactParams = PARAMS

    def inner(self, time_limit: float | None, gap: float) -> ExactOptions:
        """Options of an inner solve: ``"auto"``, quiet, no local search."""
        return dataclasses.replace(self, time_limit=time_limit, gap=gap, verbose=False,
                                   local_search_budget=0.0, lagrangian_mode="auto",
                                   formulation="auto", progress=None)


class Budget:
    """A wall-clock budget: the time limit counted from ``start`` (``perf_counter``)."""

    def __init__(self, limit: float | None, start: float | None = None) -> None:
        self.start = time.perf_counter() if start is None else start
        self.limit = limit
        self.deadline = None if limit is None else self.start + limit

    def left(self) -> float:
        """Seconds until the deadline (``inf`` without one; negative once past)."""
        return np.inf if self.deadline is None else self.deadline - time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.start

    def share(self, fraction: float) -> float | None:
        """Deadline ``fraction`` of the time left from now (``None`` without a limit)."""
        return None if self.deadline is None else time.perf_counter() + fraction * self.left()

    def reserve(self, fraction: float, cap: float = np.inf) -> float | None:
        """The deadline less ``min(fraction * left, cap)`` (``None`` without a limit)."""
        if self.deadline is None:
            return None
        return self.deadline - min(fraction * max(self.left(), 0.0), cap)

    def capped(self, seconds: float) -> float:
        """Seconds of a step that may take ``seconds`` and must end by the deadline."""
        return min(seconds, self.left())


class SolveState:
    """Candidates, bounds, notes and the clock of one run of the driver.

    Parameters
    ----------
    inst
        The instance.
    options
        The run's options.
    budget
        The run's clock.
    inner
        Solves an interference-free instance with the driver (inner solves of the
        best-response and side-multiplier methods).
    """

    def __init__(self, inst: Instance, options: ExactOptions, budget: Budget,
                 inner: Callable[[Instance, ExactOptions], SolveResult]) -> None:
        self.inst = inst
        self.free = inst if inst.interference == "none" else inst.replace(interference="none")
        self.options = options
        self.params = options.params
        self.backend = options.backend
        self.caps = Capabilities.of(options.backend)
        self.budget = budget
        self.units = Units.of(inst)
        self.rng = np.random.default_rng(options.seed)
        self.candidates: Candidates = {}
        self.bounds: dict[str, float] = {}
        self.info: dict[str, object] = {"formulation": None, "backend": options.backend.name,
                                        "engine": options.engine}
        self.notes: list[str] = []
        self._inner = inner
        self._seen = {"incumbent": np.inf, "bound": -np.inf, "told": -np.inf}

    # --- reading -------------------------------------------------------------------------
    def asked(self, formulation: str) -> bool:
        """True when the caller named ``formulation``."""
        return self.options.formulation == formulation

    @property
    def auto(self) -> bool:
        """True when the driver picks the method (``formulation="auto"``)."""
        return self.options.formulation == "auto"

    @property
    def deadline(self) -> float | None:
        """The run's deadline (``perf_counter`` value) or ``None``."""
        return self.budget.deadline

    def best(self) -> tuple[str, np.ndarray, Metrics] | None:
        """The best feasible candidate (name, assignment, metrics), if any."""
        return _best(self.candidates)

    def best_free(self) -> tuple[str, np.ndarray, Metrics] | None:
        """The best candidate scored without interference."""
        return _best({n: (a, evaluate(self.free, a)) for n, (a, _) in self.candidates.items()})

    def starts(self) -> list[np.ndarray]:
        """Every candidate assignment."""
        return [a for a, _ in self.candidates.values()]

    def inner(self, inst: Instance, time_limit: float | None, gap: float) -> SolveResult:
        """The driver on ``inst`` (interference-free) with this run's backend."""
        return self._inner(inst, self.options.inner(time_limit, gap))

    # --- adding --------------------------------------------------------------------------
    def add(self, name: str, a: np.ndarray, *, quiet: bool = False) -> None:
        """Score ``a`` with the evaluator and keep it as candidate ``name``."""
        m = evaluate(self.inst, a)
        self.candidates[name] = (a, m)
        if m.feasible and not quiet:
            self.report(name, m.objective, None)

    def bound(self, source: str, value: float, *, quiet: bool = False) -> None:
        """Record the proven bound ``value`` (mean, s) of ``source``."""
        self.bounds[source] = value
        if not quiet:
            self.report(source, None, value)

    def absorb(self, out: Outcome, *, quiet: bool = False) -> None:
        """Take an outcome's assignments, bounds and info."""
        for name, a in out.assignments.items():
            self.add(name, a, quiet=quiet)
        for source, value in out.bounds.items():
            if np.isfinite(value):
                self.bound(source, value, quiet=quiet)
        self.info.update(out.info)

    def report(self, source: str, incumbent: float | None, bound: float | None) -> None:
        """Record an improvement (mean, s) and pass it to ``progress`` (at most every
        0.2 s, except for the final report)."""
        seen, better = self._seen, False
        if incumbent is not None and incumbent < seen["incumbent"]:
            seen["incumbent"], better = incumbent, True
        if bound is not None and bound > seen["bound"]:
            seen["bound"], better = bound, True
        now = time.perf_counter()
        progress = self.options.progress
        if better and progress is not None and (source == "final" or now - seen["told"] >= 0.2):
            seen["told"] = now
            inc = seen["incumbent"] if np.isfinite(seen["incumbent"]) else None
            bnd = seen["bound"] if np.isfinite(seen["bound"]) else None
            progress({"time": self.budget.elapsed(), "source": source, "incumbent": inc,
                      "bound": bnd, "gap": relative_gap(inc, bnd)})

    def report_total(self, source: str, incumbent: float | None, bound: float | None) -> None:
        """:meth:`report` of interference-free values in total ms: the incumbent only on
        instances without interference (with it, the evaluator's value differs)."""
        inc = None if self.inst.interference != "none" else self.units.mean(incumbent)
        self.report(source, inc if inc is not None and np.isfinite(inc) else None,
                    self.units.mean(bound))

    def final_report(self, objective: float | None, bound: float | None) -> None:
        """The report that always goes out."""
        self._seen["incumbent"] = np.inf
        self.report("final", objective, bound)


def _best(candidates: Candidates) -> tuple[str, np.ndarray, Metrics] | None:
    feasible = [(m.objective, name) for name, (a, m) in candidates.items() if m.feasible]
    if not feasible:
        return None
    _, name = min(feasible)
    return name, *candidates[name]
