"""Run several solvers on one instance and tabulate them against the best proven bound."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

from mecopt.instance import Instance
from mecopt.result import SolveResult, relative_gap
from mecopt.solve import get_solver, solve


@dataclasses.dataclass(frozen=True)
class Comparison:
    """Results of several solvers on one instance.

    Attributes
    ----------
    results
        One :class:`SolveResult` per solver, in the order asked.
    best_bound
        The largest proven lower bound among them (``None`` if no exact solver ran).
    """

    results: tuple[SolveResult, ...]
    best_bound: float | None

    def gap(self, result: SolveResult) -> float | None:
        """Relative gap of ``result``'s objective to the best proven bound."""
        if not result.success:
            return None
        return relative_gap(result.objective, self.best_bound)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per solver: the columns of the comparison table."""
        out = []
        for r in self.results:
            out.append({
                "solver": r.solver,
                "status": r.status,
                "stop": r.stop,
                "gap_tol": r.gap_tol,
                "violations": [] if r.metrics is None else list(r.metrics.violations),
                "mean_delay_ms": None if r.objective is None else r.objective * 1e3,
                "accuracy": r.accuracy,
                "offloaded": r.n_offloaded,
                "gap_to_best_bound": self.gap(r),
                "runtime_s": r.runtime,
                "solver_version": r.solver_version,
            })
        return out

    def table(self) -> str:
        """A fixed-width text table."""
        head = f"{'solver':<18}{'status':<12}{'delay ms':>10}{'accuracy':>10}{'offl.':>7}" \
               f"{'gap':>10}{'time s':>9}"
        lines = [head, "-" * len(head)]
        for row in self.rows():
            delay = "-" if row["mean_delay_ms"] is None else f"{row['mean_delay_ms']:.4f}"
            acc = "-" if row["accuracy"] is None else f"{row['accuracy']:.2%}"
            off = "-" if row["offloaded"] is None else str(row["offloaded"])
            g = row["gap_to_best_bound"]
            gap = "-" if g is None else ("inf" if math.isinf(g) else f"{g:.3%}")
            lines.append(f"{row['solver']:<18}{row['status']:<12}{delay:>10}{acc:>10}"
                         f"{off:>7}{gap:>10}{row['runtime_s']:>9.3f}")
        if self.best_bound is not None:
            lines.append(f"best proven bound: {self.best_bound * 1e3:.4f} ms")
        return "\n".join(lines)


def compare(instance: Instance, solvers: Sequence[str], *, time_limit: float | None = None,
            seed: int = 0, threads: int | None = None,
            progress: Callable[[int, int, str, SolveResult | None], None] | None = None,
            ) -> Comparison:
    """Solve ``instance`` with each solver and compare them.

    Parameters
    ----------
    instance
        The instance.
    solvers
        Solver names (validated before anything runs).
    time_limit, seed, threads
        Passed to every :func:`mecopt.solve` call.
    progress
        Called as ``progress(k, total, name, None)`` before solver ``k`` (0-based) starts and
        ``progress(k, total, name, result)`` when it is done.

    Returns
    -------
    Comparison
    """
    for name in solvers:
        get_solver(name)
    results = []
    for k, name in enumerate(solvers):
        if progress is not None:
            progress(k, len(solvers), name, None)
        res = solve(instance, name, time_limit=time_limit, seed=seed, threads=threads)
        if progress is not None:
            progress(k, len(solvers), name, res)
        results.append(res)
    results = tuple(results)
    bounds = [r.bound for r in results if r.bound is not None and r.status != "infeasible"]
    return Comparison(results=results, best_bound=max(bounds) if bounds else None)
