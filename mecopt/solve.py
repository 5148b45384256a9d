"""``mecopt.solve``: one entry point for every exact backend and heuristic."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mecopt._version import __version__
from mecopt.errors import MissingDependencyError, UnknownNameError
from mecopt.evaluate import evaluate
from mecopt.heuristics import (
    edge_all,
    goa,
    greedy_fast,
    greedy_loop,
    greedy_vectorised,
    local_all,
    min_delay,
    random_offload,
)
from mecopt.heuristics.lns import lns
from mecopt.instance import Instance
from mecopt.registry import Registry
from mecopt.result import DEFAULT_GAP, SolveResult
from mecopt.solvers.bruteforce import BruteForceSolver


@dataclasses.dataclass(frozen=True)
class HeuristicSolver:
    """A heuristic policy wrapped as a solver."""

    name: str
    policy: Callable[..., np.ndarray]
    options: tuple[str, ...] = ()
    kind: str = "heuristic"
    description: str = ""

    def available(self) -> bool:
        return True

    def version(self) -> str:
        return f"mecopt {__version__}"

    def run(self, inst: Instance, *, time_limit: float | None, seed: int, threads: int,
            engine: str | None = None, **options: Any) -> SolveResult:
        start = time.perf_counter()
        kwargs = dict(options)
        if engine is not None:
            engines = {"fast": greedy_fast, "vectorised": greedy_vectorised,
                       "loop": greedy_loop}
            if engine not in engines:
                raise ValueError(f"engine = {engine!r}: must be 'fast', 'vectorised' or 'loop'")
            kwargs["engine"] = engines[engine]
        if "time_budget" in self.options and time_limit is not None:
            kwargs.setdefault("time_budget", 0.9 * time_limit)
        a = self.policy(inst, np.random.default_rng(seed), **kwargs)
        m = evaluate(inst, a)
        return SolveResult(
            assignment=a, status="feasible" if m.feasible else "violates", stop="heuristic",
            objective=m.objective, bound=None, gap=None,
            runtime=time.perf_counter() - start, solver=self.name,
            solver_version=self.version(), seed=seed, threads=1, time_limit=time_limit,
            metrics=m, message="" if m.feasible else "; ".join(m.violations),
            info={"engine": engine or "fast"},
        )


@dataclasses.dataclass(frozen=True)
class ExactSolver:
    """A MILP backend run through the exact driver (:mod:`mecopt.solvers.exact`)."""

    name: str
    backend_factory: Callable[[], Any]
    options: tuple[str, ...] = ("engine", "verbose", "warm_start", "lagrangian", "formulation",
                                "progress", "gap")
    kind: str = "exact"
    description: str = ""

    def backend(self) -> Any:
        return self.backend_factory()

    def available(self) -> bool:
        return bool(self.backend().available())

    def version(self) -> str:
        return str(self.backend().version())

    def run(self, inst: Instance, *, time_limit: float | None, seed: int, threads: int,
            engine: str | None = None, verbose: bool = False,
            warm_start: bool = True, lagrangian: str = "auto", formulation: str = "auto",
            progress: Any = None, gap: float = DEFAULT_GAP) -> SolveResult:
        started = time.perf_counter()
        from mecopt.solvers.exact import solve_exact

        backend = self.backend()
        if not backend.available():
            raise MissingDependencyError(
                f"solver {self.name!r} needs {backend.package}; install it with: "
                f"pip install {backend.package}"
            )
        name = self.name if engine is None else f"{self.name}:{engine}"
        return solve_exact(inst, backend, solver_name=name, time_limit=time_limit, seed=seed,
                           threads=threads, engine=engine, verbose=verbose,
                           warm_start=warm_start, lagrangian_mode=lagrangian,
                           formulation=formulation, progress=progress, started=started,
                           gap=gap)


def _backend(module: str, cls: str) -> Callable[[], Any]:
    def factory() -> Any:
        import importlib

        return getattr(importlib.import_module(f"mecopt.solvers.{module}"), cls)()

    return factory


#: Every solver by name. ``NAME:ENGINE`` selects an inner engine of a front-end backend.
SOLVERS: Registry[Any] = Registry("solver")
for _s in (
    ExactSolver("exact", _backend("highs", "HighsBackend"),
                description="the fastest exact method for the instance: HiGHS on the "
                            "count-indexed MILP, or Lagrangian decomposition with count "
                            "fixing on large instances"),
    ExactSolver("highs", _backend("highs", "HighsBackend"),
                description="HiGHS via highspy on the count-indexed MILP"),
    ExactSolver("ortools-mip", _backend("ortools_mip", "OrtoolsMipBackend"),
                description="OR-Tools linear solver wrapper (engine highs or scip)"),
    ExactSolver("ortools-cpsat", _backend("ortools_cpsat", "CpSatBackend"),
                description="OR-Tools CP-SAT on the integer-scaled MILP"),
    ExactSolver("pyomo", _backend("pyomo_backend", "PyomoBackend"),
                description="Pyomo, HiGHS through appsi by default; pyomo:NAME for others"),
    ExactSolver("cvxpy", _backend("cvxpy_backend", "CvxpyBackend"),
                description="cvxpy, HiGHS by default; cvxpy:NAME for other MILP solvers"),
    BruteForceSolver(),
    HeuristicSolver("goa", goa, ("tau", "engine"),
                    description="greedy offloading algorithm (alpha-weighted, stop rule, tau)"),
    HeuristicSolver("lns", lns, ("engine", "time_budget"),
                    description="large-neighbourhood search from GOA: relocation moves and "
                                "exact fixed-count re-optimisation"),
    HeuristicSolver("local-all", local_all, ("engine",), description="every user local"),
    HeuristicSolver("edge-all", edge_all, ("engine",),
                    description="every user offloaded, alpha-weighted greedy"),
    HeuristicSolver("min-delay", min_delay, ("engine",),
                    description="unweighted greedy, stop when no gain"),
    HeuristicSolver("random", random_offload, ("tau", "engine"),
                    description="as many users as GOA, drawn at random, greedy ES"),
):
    SOLVERS.register(_s.name, _s)

#: The solvers ``mecopt compare`` and the demo run by default.
EXACT_SOLVERS = ("highs", "ortools-mip", "ortools-cpsat", "pyomo", "cvxpy")
HEURISTICS = ("goa", "lns", "local-all", "edge-all", "min-delay", "random")
#: The exact method ``mecopt solve`` uses by default.
DEFAULT_EXACT = "exact"


def get_solver(name: str) -> tuple[Any, str | None]:
    """Return ``(solver, engine)`` for a name such as ``"pyomo"`` or ``"pyomo:glpk"``."""
    if not isinstance(name, str):
        raise UnknownNameError(f"solver name must be a string, got {name!r}")
    base, _, engine = name.partition(":")
    solver = SOLVERS.get(base)
    if engine and "engine" not in solver.options:
        raise UnknownNameError(f"solver {base!r} takes no engine (got {name!r})")
    return solver, engine or None


def available_solvers() -> list[str]:
    """Names of the solvers whose dependencies are importable here."""
    return [n for n in SOLVERS.names() if SOLVERS.get(n).available()]


def default_threads() -> int:
    """Threads used when none are given: the machine's cores, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


def solve(
    instance: Instance,
    solver: str,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    threads: int | None = None,
    **options: Any,
) -> SolveResult:
    """Solve an offloading instance with an exact backend or a heuristic.

    Parameters
    ----------
    instance
        The instance.
    solver
        A name from :func:`available_solvers`: ``"exact"`` (the fastest exact method for
        the instance), ``"highs"``, ``"ortools-mip"``,
        ``"ortools-cpsat"``, ``"pyomo"``, ``"cvxpy"``, ``"bruteforce"`` (exact);
        ``"goa"``, ``"lns"``, ``"local-all"``, ``"edge-all"``, ``"min-delay"``, ``"random"``
        (heuristics). ``"pyomo:NAME"``, ``"cvxpy:NAME"`` and ``"ortools-mip:NAME"`` choose
        the inner solver.
    time_limit
        Wall-clock seconds (> 0). An exact solver stopped by it before proving the gap
        returns its best assignment with status ``"feasible"``, ``stop="time_limit"``, the
        proven bound and gap, or ``"no_solution"`` when it found none.
    seed
        Seed of every random choice (the ``random`` policy, solver seeds).
    threads
        Solver threads; default :func:`default_threads`.
    **options
        Solver options: ``tau`` and ``engine`` (``"fast"``, ``"vectorised"`` or ``"loop"``) for
        heuristics, ``time_budget`` for ``lns``; ``verbose``, ``warm_start``, ``lagrangian``
        (``"auto"``, ``"on"``, ``"off"``), ``formulation`` (``"auto"``, ``"count-indexed"``,
        ``"decomposition"``, ``"enumeration"``, ``"intervals"``, ``"big-m"``), ``gap``
        (relative gap to prove, default :data:`~mecopt.result.DEFAULT_GAP` = 1e-4, the
        default of HiGHS and Gurobi: the status is ``"optimal"`` once
        ``(objective - bound) / objective <= gap`` and ``result.gap_tol`` records it;
        ``gap=0`` proves to the solvers' precision) and ``progress`` (a callable receiving
        incumbent, bound and gap as they improve) for exact solvers.

    Returns
    -------
    SolveResult
        Re-evaluated by :func:`mecopt.evaluate`. ``status``: ``"optimal"`` (proven within
        ``gap_tol``), ``"feasible"`` (meets every constraint, not proven), ``"violates"``
        (an assignment that breaks a constraint, listed in ``metrics.violations``; only
        heuristics return one), ``"infeasible"`` (proven) or ``"no_solution"`` (nothing
        found). ``stop`` says why the run ended (:data:`~mecopt.result.STOPS`).

    Raises
    ------
    UnknownNameError
        For an unknown solver or option name.
    MissingDependencyError
        If the solver's package is not installed.
    ValueError
        For a bad time limit, seed or thread count.

    Examples
    --------
    >>> import mecopt
    >>> inst = mecopt.scenario("kim2026", 20, seed=0)
    >>> res = mecopt.solve(inst, "highs")
    >>> res.status
    'optimal'
    >>> mecopt.solve(inst, "goa").objective >= res.objective
    True
    """
    if not isinstance(instance, Instance):
        raise TypeError(f"instance must be a mecopt.Instance, got {type(instance).__name__}")
    impl, engine = get_solver(solver)
    if time_limit is not None:
        try:
            time_limit = float(time_limit)
        except (TypeError, ValueError):
            raise ValueError(f"time_limit = {time_limit!r}: must be a number > 0") from None
        if not np.isfinite(time_limit) or time_limit <= 0:
            raise ValueError(f"time_limit = {time_limit!r}: must be a number > 0")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed = {seed!r}: must be a whole number >= 0")
    if threads is None:
        threads = default_threads()
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
        raise ValueError(f"threads = {threads!r}: must be a whole number >= 1")
    unknown = sorted(set(options) - set(impl.options))
    if unknown:
        valid = ", ".join(impl.options) or "none"
        raise UnknownNameError(
            f"unknown option(s) for solver {solver!r}: {', '.join(unknown)}; valid: {valid}"
        )
    if engine is not None:
        options["engine"] = engine
    return impl.run(instance, time_limit=time_limit, seed=int(seed), threads=int(threads),
                    **options)
