"""cvxpy: HiGHS by default, ``cvxpy:NAME`` for any installed cvxpy MILP solver.

cvxpy's HiGHS interface warm-starts only from its own previous solve, so the heuristic
starting solution is not passed; the driver still keeps the heuristics as candidates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from mecopt.errors import MissingDependencyError
from mecopt.formulations.milp import MatrixMILP
from mecopt.solvers.base import (
    BackendOptions,
    BackendResult,
    highs_options,
    package_version,
    require,
    reset_highs_scheduler,
    row_split,
    solve_empty,
)

DEFAULT_ENGINE = "HIGHS"


class CvxpyBackend:
    """cvxpy front end."""

    #: Seconds per constraint nonzero to build this backend's model (measured on the
    #: count-indexed model, N = 200, loaded machine); the exact driver does not start
    #: the backend when that exceeds the time left.
    build_seconds_per_nonzero = 1.5e-05

    name = "cvxpy"
    package = "cvxpy"

    def available(self) -> bool:
        try:
            cp = require("cvxpy", self.package)
        except ImportError:
            return False
        return DEFAULT_ENGINE in cp.installed_solvers()

    def version(self) -> str:
        return f"cvxpy {package_version('cvxpy')} / highspy {package_version('highspy')}"

    def solve(self, milp: MatrixMILP, options: BackendOptions) -> BackendResult:
        if milp.n_vars == 0:
            return solve_empty(milp)
        cp = require("cvxpy", self.package)
        engine = (options.engine or DEFAULT_ENGINE).upper()
        if engine not in cp.installed_solvers():
            raise MissingDependencyError(
                f"cvxpy solver {engine!r} is not installed; installed: "
                f"{', '.join(cp.installed_solvers())}")
        x, cons, integer = _variables(cp, milp)
        prob = cp.Problem(cp.Minimize(milp.c @ x), cons + _rows(milp, x))
        if engine == "HIGHS":
            reset_highs_scheduler()
        try:
            prob.solve(solver=engine, verbose=bool(options.verbose),
                       **_solver_options(engine, milp, options))
        except cp.error.SolverError as exc:
            # cvxpy raises instead of returning a status when the solver fails or stops
            # without a usable answer; the driver falls back to the heuristics.
            return BackendResult(status="error", x=None, objective=None, bound=None,
                                 raw_status=f"{engine} SolverError: {exc}")
        return _result(cp, prob, x, integer, milp, engine)


def _variables(cp: Any, milp: MatrixMILP) -> tuple[Any, list, np.ndarray]:
    """The column vector (binary and continuous parts), their bounds, the integer mask."""
    _, col_hi, integer = milp.column_bounds()
    if milp.all_binary:
        return cp.Variable(milp.n_vars, boolean=True), [], integer
    # Binary and continuous columns as two variables, placed by selection matrices.
    ints, conts = np.flatnonzero(integer), np.flatnonzero(~integer)
    xb, xc = cp.Variable(ints.size, boolean=True), cp.Variable(conts.size, nonneg=True)
    place = [sp.csr_matrix((np.ones(k.size), (k, np.arange(k.size))),
                           shape=(milp.n_vars, k.size)) for k in (ints, conts)]
    cons = [xb <= col_hi[ints]]
    bounded = np.isfinite(col_hi[conts])
    if bounded.any():
        cons.append(xc[bounded] <= col_hi[conts][bounded])
    return place[0] @ xb + place[1] @ xc, cons, integer


def _rows(milp: MatrixMILP, x: Any) -> list:
    """The rows: equalities, lower and upper bounds."""
    eq, has_lo, has_hi = row_split(milp)
    a = milp.A.tocsr()
    cons = []
    if eq.any():
        cons.append(a[eq] @ x == milp.row_lo[eq])
    if has_lo.any():
        cons.append(a[has_lo] @ x >= milp.row_lo[has_lo])
    if has_hi.any():
        cons.append(a[has_hi] @ x <= milp.row_hi[has_hi])
    return cons


def _solver_options(engine: str, milp: MatrixMILP, options: BackendOptions) -> dict:
    """The keyword options of ``prob.solve`` for ``engine``."""
    kwargs: dict = {}
    if engine == "HIGHS":
        kwargs = {"mip_rel_gap": options.mip_gap, "threads": int(options.threads),
                  "random_seed": int(options.seed), **highs_options(milp)}
        if options.deadline is not None:
            kwargs["time_limit"] = options.time_left()
    elif engine == "SCIPY":
        # cvxpy passes SciPy's options through one dict (and refuses loose keywords).
        if options.deadline is not None:
            kwargs["scipy_options"] = {"time_limit": options.time_left()}
        kwargs.setdefault("scipy_options", {})["mip_rel_gap"] = options.mip_gap
    elif options.deadline is not None:
        kwargs["time_limit"] = options.time_left()
    return kwargs


def _result(cp: Any, prob: Any, x: Any, integer: np.ndarray, milp: MatrixMILP,
            engine: str) -> BackendResult:
    """The solved problem as a :class:`BackendResult`."""
    raw = str(prob.status)
    status = {cp.OPTIMAL: "optimal", cp.INFEASIBLE: "infeasible",
              cp.USER_LIMIT: "limit", cp.OPTIMAL_INACCURATE: "limit"}.get(raw, "error")
    xv = None if x.value is None else np.asarray(x.value, dtype=float)
    if xv is not None:
        xv = np.where(integer, np.clip(np.round(xv), 0, 1), xv)
    if status == "limit":
        status = "feasible" if xv is not None else "no_solution"
    bound = None
    stats = prob.solver_stats.extra_stats if prob.solver_stats is not None else None
    dual = getattr(stats, "mip_dual_bound", None)
    if dual is not None and np.isfinite(dual):
        bound = float(dual) + milp.constant
    obj = None if xv is None else float(milp.c @ xv + milp.constant)
    if status == "optimal" and bound is None:
        bound = obj  # the solver proved optimality but exposes no separate bound
    return BackendResult(status=status, x=xv, objective=obj, bound=bound,
                         raw_status=f"{engine} {raw}")
