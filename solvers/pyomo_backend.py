"""Pyomo: HiGHS through the appsi interface by default, ``pyomo:NAME`` for any solver
Pyomo can run here (``pyomo:appsi_highs``, ``pyomo:cbc``, ``pyomo:glpk``, ``pyomo:scip``...).
"""

from __future__ import annotations

import numpy as np

from mecopt.errors import MissingDependencyError
from mecopt.formulations.milp import MatrixMILP
from mecopt.solvers.base import (
    BackendOptions,
    BackendResult,
    highs_options,
    package_version,
    require,
    reset_highs_scheduler,
    solve_empty,
)

DEFAULT_ENGINE = "appsi_highs"
#: Rough Pyomo model-building cost (seconds per constraint nonzero, measured on the
#: count-indexed model). With less time left than that, the backend does not start, so a
#: short time limit is kept instead of being overrun by model building.
BUILD_SECONDS_PER_NONZERO = 1e-5


def build_model(milp: MatrixMILP):  # noqa: ANN201 - a pyomo ConcreteModel
    """Translate the matrix MILP into a Pyomo ``ConcreteModel`` with one indexed block."""
    pyo = require("pyomo.environ", "pyomo")
    from pyomo.core.expr.numeric_expr import LinearExpression

    m = pyo.ConcreteModel()
    _, col_hi, integer = milp.column_bounds()
    m.x = pyo.Var(range(milp.n_vars),
                  domain=lambda _m, k: pyo.Binary if integer[k] else pyo.NonNegativeReals,
                  bounds=lambda _m, k: (0.0, None if np.isinf(col_hi[k]) else
                                        float(col_hi[k])))
    xs = [m.x[k] for k in range(milp.n_vars)]
    a = milp.A.tocsr()

    def row(_m, r):  # noqa: ANN001, ANN202
        s, e = a.indptr[r], a.indptr[r + 1]
        expr = LinearExpression(constant=0.0, linear_coefs=a.data[s:e].tolist(),
                                linear_vars=[xs[i] for i in a.indices[s:e]])
        lo = None if np.isinf(milp.row_lo[r]) else float(milp.row_lo[r])
        hi = None if np.isinf(milp.row_hi[r]) else float(milp.row_hi[r])
        return (lo, expr, hi)

    m.rows = pyo.Constraint(range(milp.n_rows), rule=row)
    nz = np.flatnonzero(milp.c)
    m.obj = pyo.Objective(expr=LinearExpression(
        constant=float(milp.constant), linear_coefs=milp.c[nz].tolist(),
        linear_vars=[xs[i] for i in nz]))
    return m


class PyomoBackend:
    """Pyomo front end."""

    #: Seconds per constraint nonzero to build this backend's model (measured on the
    #: count-indexed model, N = 200, loaded machine); the exact driver does not start
    #: the backend when that exceeds the time left.
    build_seconds_per_nonzero = BUILD_SECONDS_PER_NONZERO

    name = "pyomo"
    package = "pyomo"

    def available(self) -> bool:
        try:
            from pyomo.contrib.appsi.solvers import Highs

            return bool(Highs().available())
        except ImportError:
            return False

    def version(self) -> str:
        return f"pyomo {package_version('pyomo')} / highspy {package_version('highspy')}"

    def solve(self, milp: MatrixMILP, options: BackendOptions) -> BackendResult:
        if milp.n_vars == 0:
            return solve_empty(milp)
        engine = options.engine or DEFAULT_ENGINE
        estimate = BUILD_SECONDS_PER_NONZERO * milp.A.nnz
        if options.deadline is not None and options.time_left() < estimate:
            return BackendResult(
                status="no_solution", x=None, objective=None, bound=None,
                raw_status=f"time limit too short to build the Pyomo model (about "
                           f"{estimate:.2g} s for {milp.A.nnz} nonzeros); not started")
        m = build_model(milp)
        if options.hint is not None:
            for k, v in enumerate(options.hint):
                m.x[k].set_value(float(round(v)))
        if engine == "appsi_highs":
            return self._appsi_highs(m, milp, options)
        return self._generic(m, engine, options)

    def _appsi_highs(self, m, milp: MatrixMILP, options: BackendOptions) -> BackendResult:  # noqa: ANN001
        from pyomo.contrib.appsi.base import TerminationCondition as TC
        from pyomo.contrib.appsi.solvers import Highs

        opt = Highs()
        opt.config.stream_solver = bool(options.verbose)
        opt.config.load_solution = False
        opt.config.mip_gap = options.mip_gap
        if options.deadline is not None:
            opt.config.time_limit = options.time_left()
        opt.highs_options = {"threads": int(options.threads), "random_seed": int(options.seed),
                             "mip_rel_gap": options.mip_gap, **highs_options(milp)}
        reset_highs_scheduler()
        res = opt.solve(m)
        tc = res.termination_condition
        status = {TC.optimal: "optimal", TC.infeasible: "infeasible",
                  TC.maxTimeLimit: "limit", TC.interrupted: "limit",
                  TC.maxIterations: "limit"}.get(tc, "error")
        has_x = res.best_feasible_objective is not None
        x = None
        if has_x:
            res.solution_loader.load_vars()
            x = np.array([m.x[k].value or 0.0 for k in range(milp.n_vars)])
        if status == "limit":
            status = "feasible" if has_x else "no_solution"
        bound = res.best_objective_bound
        bound = float(bound) if bound is not None and np.isfinite(bound) else None
        return BackendResult(status=status, x=x,
                             objective=None if not has_x else float(res.best_feasible_objective),
                             bound=bound, raw_status=f"appsi_highs {tc.name}")

    def _generic(self, m, engine: str, options: BackendOptions) -> BackendResult:  # noqa: ANN001
        pyo = require("pyomo.environ", "pyomo")
        from pyomo.opt import TerminationCondition as TC

        opt = pyo.SolverFactory(engine)
        if opt is None or not opt.available(exception_flag=False):
            raise MissingDependencyError(
                f"Pyomo solver {engine!r} is not available here; install it or use 'pyomo' "
                "(HiGHS through appsi)")
        kwargs = {"tee": bool(options.verbose), "load_solutions": False}
        if options.deadline is not None:
            kwargs["timelimit"] = options.time_left()
        try:
            res = opt.solve(m, **kwargs)
        except TypeError:
            kwargs.pop("timelimit", None)
            res = opt.solve(m, **kwargs)
        tc = res.solver.termination_condition
        status = {TC.optimal: "optimal", TC.infeasible: "infeasible",
                  TC.maxTimeLimit: "limit"}.get(tc, "error")
        x = None
        if len(res.solution) > 0:
            m.solutions.load_from(res)
            x = np.array([m.x[k].value or 0.0 for k in range(len(m.x))])
        if status == "limit":
            status = "feasible" if x is not None else "no_solution"
        lb = res.problem.lower_bound
        bound = float(lb) if lb is not None and np.isfinite(float(lb)) else None
        obj = None if x is None else float(pyo.value(m.obj))
        if status == "optimal" and bound is None:
            bound = obj
        return BackendResult(status=status, x=x, objective=obj, bound=bound,
                             raw_status=f"{engine} {tc}")
