"""OR-Tools' linear solver wrapper (``model_builder``), HiGHS or SCIP inside.

The matrix is loaded in one call (``fill_model_from_sparse_data``); ``ortools-mip:scip``
selects SCIP, ``ortools-mip`` (or ``:highs``) HiGHS.
"""

from __future__ import annotations

import numpy as np

from mecopt.errors import UnknownNameError
from mecopt.formulations.milp import MatrixMILP
from mecopt.solvers.base import (
    BackendOptions,
    BackendResult,
    ImportBackend,
    finite_or_none,
    highs_options,
    require,
)

ENGINES = ("highs", "scip")

#: Magnitude beyond which a bound is a solver's "infinity" (SCIP: 1e20, plus the offset).
_SOLVER_INFINITY = 1e19

#: model_builder SolveStatus name -> backend status (limits checked for an incumbent).
STATUS_MAP = {
    "OPTIMAL": "optimal",
    "FEASIBLE": "feasible",
    "INFEASIBLE": "infeasible",
    "NOT_SOLVED": "no_solution",
    "CANCELLED_BY_USER": "no_solution",
}


#: Thread count of the bundled HiGHS's process-wide thread pool, fixed by its first solve:
#: that HiGHS fails any later solve asking for another count and offers no way to reset it.
_HIGHS_POOL_THREADS: list[int] = []


def _highs_threads(requested: int) -> int:
    if not _HIGHS_POOL_THREADS:
        _HIGHS_POOL_THREADS.append(int(requested))
    return _HIGHS_POOL_THREADS[0]


def _parameters(engine: str, options: BackendOptions, milp: MatrixMILP) -> str:
    if engine == "scip":
        return "\n".join([f"limits/gap = {options.mip_gap}",
                          f"parallel/maxnthreads = {options.threads}",
                          f"randomization/randomseedshift = {options.seed}"])
    threads = _highs_threads(options.threads)
    return "\n".join([f"mip_rel_gap = {options.mip_gap}", f"threads = {threads}",
                      f"random_seed = {options.seed}",
                      f"output_flag = {str(bool(options.verbose)).lower()}",
                      *(f"{k} = {v}" for k, v in highs_options(milp).items())])


class OrtoolsMipBackend(ImportBackend):
    """OR-Tools linear solver wrapper."""

    #: Seconds per constraint nonzero to build this backend's model (measured on the
    #: count-indexed model, N = 200, loaded machine); the exact driver does not start
    #: the backend when that exceeds the time left.
    build_seconds_per_nonzero = 3e-05

    name = "ortools-mip"
    package = "ortools"
    module = "ortools.linear_solver.python.model_builder"
    dist = "ortools"

    def solve(self, milp: MatrixMILP, options: BackendOptions) -> BackendResult:
        mb = require("ortools.linear_solver.python.model_builder", self.package)
        engine = (options.engine or "highs").lower()
        if engine not in ENGINES:
            raise UnknownNameError(
                f"unknown ortools-mip engine {engine!r}; valid: {', '.join(ENGINES)}")
        model = mb.Model()
        helper = model.helper
        col_lo, col_hi, integer = milp.column_bounds()
        helper.fill_model_from_sparse_data(
            col_lo, col_hi, np.asarray(milp.c, dtype=float),
            np.asarray(milp.row_lo, dtype=float), np.asarray(milp.row_hi, dtype=float),
            milp.A.tocsr().astype(float))
        for k in np.flatnonzero(integer):
            helper.set_var_integrality(int(k), True)
        helper.set_objective_offset(float(milp.constant))
        # A hint makes the bundled HiGHS of ortools 9.15 crash the process (segmentation
        # fault), so HiGHS runs unhinted; the driver keeps the heuristics as candidates.
        if options.hint is not None and engine == "scip":
            for k, v in enumerate(options.hint):
                helper.add_hint(k, float(round(v)))
        solver = mb.Solver(engine)
        if not solver.solver_is_supported():
            raise UnknownNameError(f"ortools-mip engine {engine!r} is not available in this build")
        solver.enable_output(bool(options.verbose))
        if options.deadline is not None:
            solver.set_time_limit_in_seconds(options.time_left())
        solver.set_solver_specific_parameters(_parameters(engine, options, milp))
        st = solver.solve(model)
        raw = st.name
        status = STATUS_MAP.get(raw, "error")
        if raw == "UNKNOWN_STATUS" and options.deadline is not None:
            status = "no_solution"  # what the bundled HiGHS reports at the time limit
        x = None
        obj = None
        if status in ("optimal", "feasible"):
            x = np.asarray(solver.values(model.get_variables()), dtype=float)
            obj = float(solver.objective_value)
        # Without a run (e.g. HiGHS refusing a new thread count) the bound is pandas NA.
        bound = finite_or_none(solver.best_objective_bound)
        if bound is not None and abs(bound) >= _SOLVER_INFINITY:
            bound = None  # SCIP reports -1e20, its infinity, before it has any bound
        return BackendResult(status=status, x=x, objective=obj, bound=bound,
                             raw_status=f"{engine} {raw}",
                             stats={"wall_time": finite_or_none(solver.wall_time),
                                    "engine_threads": _highs_threads(options.threads)
                                    if engine == "highs" else options.threads})
