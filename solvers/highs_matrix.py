"""HiGHS on a matrix model with continuous and integer columns (LP or MILP), directly.

The one-shot backends take a pure 0/1 :class:`~mecopt.formulations.milp.MatrixMILP`; the
hindsight model also has continuous columns (backlog waits) and needs LP duals, so it
calls HiGHS through this small adapter. It returns the solution, the row duals (LP), the
objective, the dual bound and an honest status; a time limit returns the incumbent.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from mecopt.solvers.base import package_version, require, reset_highs_scheduler
from mecopt.solvers.highs import STATUS_MAP

#: Primal and MIP feasibility tolerance: tighter than the HiGHS default (1e-7, 1e-6) so a
#: solution's continuous columns (backlog waits) sit within 1e-9 of their rows.
FEAS_TOL = 1e-9


@dataclasses.dataclass(frozen=True, eq=False)
class MatrixSolution:
    """What one HiGHS run returned.

    Attributes
    ----------
    status
        ``optimal`` (proven within ``mip_rel_gap``), ``feasible`` (a limit stopped it with
        an incumbent), ``no_solution``, ``infeasible`` or ``error``.
    x, duals
        Column values and row duals (duals only for an LP), or ``None``.
    objective, bound
        Incumbent objective and proven lower bound (``None`` when unknown).
    runtime
        Wall-clock seconds of the run.
    nodes
        Branch-and-bound nodes (MILP).
    """

    status: str
    x: np.ndarray | None
    duals: np.ndarray | None
    objective: float | None
    bound: float | None
    runtime: float
    nodes: int = 0


def highs_version() -> str:
    """Version of the installed highspy."""
    return package_version("highspy")


def solve_matrix(c: np.ndarray, constant: float, a: sp.spmatrix, row_lo: np.ndarray,
                 row_hi: np.ndarray, col_lo: np.ndarray, col_hi: np.ndarray,
                 integer: np.ndarray | None, *, time_limit: float | None = None,
                 threads: int = 1, seed: int = 0, mip_rel_gap: float = 1e-6,
                 hint: np.ndarray | None = None, cutoff: float | None = None,
                 presolve: bool = True, verbose: bool = False,
                 reset: bool = True) -> MatrixSolution:
    """Solve ``min c x + constant`` s.t. ``row_lo <= A x <= row_hi``, ``col_lo <= x <=
    col_hi``, ``x_k`` integer where ``integer`` (an LP when ``integer`` is None or all
    False).

    Parameters
    ----------
    time_limit
        Seconds (``None``: no limit).
    threads, seed
        HiGHS threads and random seed.
    mip_rel_gap
        Relative gap at which a MILP counts as solved.
    hint
        A feasible column vector to start from (MILP).
    cutoff
        Only solutions of objective below this are sought (MILP ``objective_bound``).
    presolve
        HiGHS presolve on (default) or off. Off, a ``cutoff`` prunes from the first node
        (small fixed-count MILPs: ten times faster, see
        :mod:`mecopt.solvers.exact.count_enumeration`).
    reset
        Reset HiGHS's global thread pool first (:func:`reset_highs_scheduler`). Solves
        running in parallel Python threads pass ``False`` (and ``threads=1``) after one
        reset in the calling thread.
    """
    hp = require("highspy", "highspy")
    start = time.perf_counter()
    h = _highs(hp, threads, seed, verbose)
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    if not presolve:
        h.setOptionValue("presolve", "off")
    is_mip = integer is not None and bool(np.any(integer))
    lp = _model(hp, c, constant, a, row_lo, row_hi, col_lo, col_hi)
    if is_mip:
        kinds = (hp.HighsVarType.kContinuous, hp.HighsVarType.kInteger)
        lp.integrality_ = [kinds[int(k)] for k in integer]
    h.passModel(lp)
    if is_mip and hint is not None:
        sol = hp.HighsSolution()
        sol.col_value = list(np.asarray(hint, dtype=float))
        sol.value_valid = True
        h.setSolution(sol)
    if is_mip and cutoff is not None:
        h.setOptionValue("objective_bound", float(cutoff))
    if reset:
        reset_highs_scheduler()
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 1e-3))
    h.run()
    key = str(h.getModelStatus()).split(".")[-1]
    info = h.getInfo()
    has_x = info.primal_solution_status == 2
    status = STATUS_MAP.get(key, "error")
    if status == "limit":
        status = "feasible" if has_x else "no_solution"
    elif status == "optimal" and not has_x:
        status = "error"
    sol = h.getSolution()
    x = np.array(sol.col_value) if has_x else None
    objective = float(info.objective_function_value) if has_x else None
    if is_mip:
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
        duals = None
    else:
        bound = objective if status == "optimal" else None
        duals = np.array(sol.row_dual) if status == "optimal" else None
    if status in ("error", "infeasible"):
        bound = None
    return MatrixSolution(status=status, x=x, duals=duals, objective=objective, bound=bound,
                          runtime=time.perf_counter() - start,
                          nodes=int(info.mip_node_count) if is_mip else 0)


def _highs(hp: Any, threads: int, seed: int, verbose: bool) -> Any:
    """A quiet HiGHS instance with the adapter's tolerances."""
    h = hp.Highs()
    h.setOptionValue("output_flag", bool(verbose))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("primal_feasibility_tolerance", FEAS_TOL)
    h.setOptionValue("mip_feasibility_tolerance", FEAS_TOL)
    return h


def _model(hp: Any, c: np.ndarray, constant: float, a: sp.spmatrix, row_lo: np.ndarray,
           row_hi: np.ndarray, col_lo: np.ndarray, col_hi: np.ndarray) -> Any:
    """The ``HighsLp`` of a matrix model (continuous columns)."""
    inf = hp.kHighsInf
    lp = hp.HighsLp()
    lp.num_col_ = int(c.shape[0])
    lp.num_row_ = int(a.shape[0])
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.offset_ = float(constant)
    lp.col_lower_ = np.where(np.isinf(col_lo), -inf, col_lo)
    lp.col_upper_ = np.where(np.isinf(col_hi), inf, col_hi)
    lp.row_lower_ = np.where(np.isinf(row_lo), -inf, row_lo)
    lp.row_upper_ = np.where(np.isinf(row_hi), inf, row_hi)
    csc = sp.csc_matrix(a)
    lp.a_matrix_.format_ = hp.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr
    lp.a_matrix_.index_ = csc.indices
    lp.a_matrix_.value_ = csc.data
    return lp


def lp_bound(c: np.ndarray, constant: float, a: sp.spmatrix, row_lo: np.ndarray,
             row_hi: np.ndarray, col_lo: np.ndarray, col_hi: np.ndarray, cutoff: float, *,
             threads: int = 1, seed: int = 0, reset: bool = True) -> float | None:
    """The LP relaxation's optimum, at least ``cutoff`` once it is proven to reach it.

    The dual simplex runs with ``cutoff`` as its objective bound: its objective only rises,
    so it stops as soon as it passes the cutoff (a model that cannot beat the cutoff costs
    a fraction of a full solve). Returns the optimum (below the cutoff), ``cutoff`` when
    the bound stopped it, ``inf`` for an infeasible LP and ``None`` when it did not solve.
    ``reset`` as for :func:`solve_matrix`.
    """
    hp = require("highspy", "highspy")
    h = _highs(hp, threads, seed, False)
    h.setOptionValue("presolve", "off")
    h.setOptionValue("simplex_strategy", 1)  # dual simplex: its objective only rises
    h.setOptionValue("objective_bound", float(cutoff - constant))
    h.passModel(_model(hp, c, 0.0, a, row_lo, row_hi, col_lo, col_hi))
    if reset:
        reset_highs_scheduler()
    h.run()
    key = str(h.getModelStatus()).split(".")[-1]
    if key == "kObjectiveBound":
        return float(cutoff)
    if key == "kInfeasible":
        return np.inf
    if key != "kOptimal":
        return None
    return float(h.getInfo().objective_function_value) + float(constant)


def column_ranges(c: np.ndarray, constant: float, a: sp.spmatrix, row_lo: np.ndarray,
                  row_hi: np.ndarray, col_lo: np.ndarray, col_hi: np.ndarray,
                  columns: np.ndarray, cutoff: float, *, threads: int = 1,
                  seed: int = 0, reset: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
    """Least and largest value of each of ``columns`` over the LP relaxation with
    ``c x + constant <= cutoff`` (bound tightening: every integer solution better than the
    cutoff lies inside), or ``None`` when that LP is infeasible.

    One HiGHS model is solved ``2 len(columns)`` times by the primal simplex, each from the
    previous basis. A column whose LP does not solve keeps its column bounds. ``reset`` as
    for :func:`solve_matrix`.
    """
    hp = require("highspy", "highspy")
    h = _highs(hp, threads, seed, False)
    h.setOptionValue("presolve", "off")
    h.setOptionValue("simplex_strategy", 4)  # primal simplex: each solve starts feasible
    rows = sp.vstack([sp.csr_matrix(a), sp.csr_matrix(np.asarray(c, float)[None, :])])
    lp = _model(hp, np.zeros(c.shape[0]), 0.0, rows, np.append(row_lo, -np.inf),
                np.append(row_hi, cutoff - constant), col_lo, col_hi)
    h.passModel(lp)
    if reset:
        reset_highs_scheduler()
    columns = np.asarray(columns, np.int64)
    least = np.asarray(col_lo, float)[columns].copy()
    most = np.asarray(col_hi, float)[columns].copy()
    for k, col in enumerate(columns.tolist()):
        for sign in (1.0, -1.0):
            h.changeColCost(col, sign)
            h.run()
            key = str(h.getModelStatus()).split(".")[-1]
            if STATUS_MAP.get(key) == "infeasible":
                return None
            if key == "kOptimal":
                value = sign * float(h.getInfo().objective_function_value)
                if sign > 0:
                    least[k] = max(least[k], value)
                else:
                    most[k] = min(most[k], value)
        h.changeColCost(col, 0.0)
    return least, most
