"""The fixed-count problem of one count vector with the side rows, as an LP and a MILP
(HiGHS): the steps that settle a vector in count enumeration
(:mod:`mecopt.solvers.exact.count_enumeration`).

With the count ``n_j`` of every ES fixed, an instance without interference is a
transportation problem plus the side rows (accuracy target, hallucination cap). Costs are
relative to answering locally; the LP's duals are Lagrangian multipliers for the
count-indexed bound, and the MILP is solved with reduced-cost fixing against a cutoff.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from mecopt.formulations.option_cost import LayerCosts
from mecopt.solvers.highs_matrix import solve_matrix

__all__ = ["FixedCountLP", "fixed_count_lp", "fixed_count_milp"]


@dataclasses.dataclass(frozen=True)
class _FixedCount:
    """The fixed-count problem of one count vector over costs relative to local.

    Rows: one per user (``<= 1``, or ``= 1`` if it may not stay local), one per ES
    (``= n_j``), one per side row (``sum gain x >= need``).
    """

    c: np.ndarray
    user: np.ndarray
    es: np.ndarray
    a: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray


def _fixed_count(costs: LayerCosts, counts: np.ndarray) -> _FixedCount | None:
    """The fixed-count problem of ``counts``; ``None`` if a count cannot be filled."""
    n_users, n_es = costs.inst.n_users, costs.inst.n_servers
    rel = np.full((n_users, n_es), np.inf)
    for j in range(n_es):
        if counts[j] >= 1:
            rel[:, j] = costs.relative(j, int(counts[j]))
    ui, ki = np.nonzero(np.isfinite(rel))
    if np.any(np.bincount(ki, minlength=n_es) < counts):
        return None
    nv = ui.size
    gain = costs.side_gain()
    a = sp.vstack([sp.csr_matrix((np.ones(nv), (ui, np.arange(nv))), shape=(n_users, nv)),
                   sp.csr_matrix((np.ones(nv), (ki, np.arange(nv))), shape=(n_es, nv)),
                   sp.csr_matrix(gain[:, ui])]).tocsr()
    need = costs.side_need()
    row_lo = np.concatenate([np.where(costs.forced, 1.0, -np.inf),
                             np.asarray(counts, dtype=float), need])
    row_hi = np.concatenate([np.ones(n_users), np.asarray(counts, dtype=float),
                             np.full(need.size, np.inf)])
    return _FixedCount(rel[ui, ki], ui, ki, a, row_lo, row_hi)


@dataclasses.dataclass(frozen=True)
class FixedCountLP:
    """LP of one count vector: its value (MILP units, ``inf`` if infeasible), multipliers
    ``(u, mu)`` in the sign convention of :func:`mecopt.formulations.bounds.lagrangian.dual_bound`,
    the problem and its column reduced costs."""

    value: float
    u: np.ndarray | None = None
    mu: np.ndarray | None = None
    problem: _FixedCount | None = None
    reduced: np.ndarray | None = None


def fixed_count_lp(costs: LayerCosts, counts: np.ndarray) -> FixedCountLP:
    """Solve the LP of the count vector ``counts`` (HiGHS)."""
    p = _fixed_count(costs, counts)
    if p is None:
        return FixedCountLP(np.inf)
    zeros, ones = np.zeros(p.c.size), np.ones(p.c.size)
    sol = solve_matrix(p.c, costs.constant, p.a, p.row_lo, p.row_hi, zeros, ones, None)
    if sol.status != "optimal" or sol.duals is None:
        return FixedCountLP(np.inf)
    n_users = costs.inst.n_users
    u = -sol.duals[:n_users]
    mu = sol.duals[n_users + costs.inst.n_servers:]
    return FixedCountLP(float(sol.objective), u, mu, p, p.c - p.a.T @ sol.duals)


def fixed_count_milp(costs: LayerCosts, lp: FixedCountLP, below: float,
                     time_limit: float | None, gap: float,
                     ) -> tuple[str, float, float, np.ndarray | None]:
    """Best assignment with exactly the LP's counts, if one costs less than ``below``.

    Reduced-cost fixing against ``below`` first: a column whose reduced cost exceeds
    ``below - lp.value`` is 0 in every answer under ``below`` (and one whose reduced cost is
    below its negative is 1), and a user whose row multiplier exceeds it may not stay
    local. The small MILP left goes to HiGHS, with ``below`` as its cutoff and presolve off
    (about ten times faster than with presolve and no cutoff: ``benchmarks/exact_scale/``).

    Returns ``(status, value, bound, assignment)`` (MILP units): ``"solved"`` (``value``
    within the relative ``gap`` of ``bound``), ``"none"`` (nothing under ``below``: the
    bound is ``below``) or ``"limit"``.
    """
    p, rc, u = lp.problem, lp.reduced, lp.u
    if p is None or rc is None or u is None:
        return "none", np.inf, below, None
    slack = below - lp.value
    tol = 1e-9 * max(abs(below), 1.0)
    col_lo = np.where(rc < -slack - tol, 1.0, 0.0)
    col_hi = np.where(rc > slack + tol, 0.0, 1.0)
    n_users = costs.inst.n_users
    row_lo = p.row_lo.copy()
    row_lo[:n_users] = np.where(u > slack + tol, 1.0, row_lo[:n_users])
    sol = solve_matrix(p.c, costs.constant, p.a, row_lo, p.row_hi, col_lo, col_hi,
                       np.ones(p.c.size, dtype=bool), time_limit=time_limit,
                       mip_rel_gap=gap, cutoff=below, presolve=False)
    if sol.status == "infeasible":
        return "none", np.inf, below, None
    # Answers at or above ``below`` were cut off (by the fixing and the cutoff): the
    # vector's optimum is at least the smaller of ``below`` and the run's bound.
    bound = -np.inf if sol.bound is None else min(float(sol.bound), below)
    a = None
    value = np.inf
    if sol.x is not None:
        a = np.full(n_users, -1, dtype=np.int64)
        on = sol.x > 0.5
        a[p.user[on]] = p.es[on]
        value = float(p.c @ np.round(sol.x)) + costs.constant
    if sol.status == "optimal":
        return "solved", value, bound, a
    if bound >= below:
        return "none", value, below, a
    return "limit", value, bound, a
