"""Lagrangian bound and count-vector repair for the count-indexed model.

Relaxing the assignment rows (``sum_jn x_ijn <= 1``, ``= 1`` for users that may not stay
local) with multipliers ``u_i``, the accuracy row with ``mu >= 0`` and the hallucination row
with ``nu >= 0`` leaves one independent problem per ES: choose a count n and the n cheapest
columns of group (j, n) under the reduced costs
``c_ijn + u_i - mu (acc^E_i - acc^L_i) + nu (hal^E_i - hal^L_i)``, a partial sort. Energy
budgets only remove columns, so they need no multiplier. Every multiplier vector gives a
proven lower bound

    L(u, mu, nu) = constant - sum_i u_i + mu * need - nu * cap + sum_j min(0, min_n S_jn),

the set-partitioning (column) bound, at least as strong as the LP relaxation of the
count-indexed model. Subgradient steps (Polyak rule towards the best known objective)
raise it. It needs no LP solve, so it gives a bound at sizes where the LP is out of reach.

:func:`assign_for_counts` is the matching primal step: for a fixed count vector the
interference-free problem (without quality constraints; energy budgets are respected) is a
rectangular assignment problem, solved exactly by :func:`scipy.optimize.linear_sum_assignment`;
:func:`count_search` moves through count vectors from the relaxation's.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from mecopt.formulations.count_indexed import (
    MS,
    CountIndexedModel,
    cost_table,
    local_cost,
    must_offload,
)
from mecopt.instance import Instance


@dataclasses.dataclass(frozen=True)
class LagrangianResult:
    """Outcome of :func:`lagrangian_bound`.

    Attributes
    ----------
    bound
        Best proven lower bound on the total delay (MILP units, ms).
    counts
        (M,) the count vector chosen by the relaxation at the best multipliers.
    iterations
        Subgradient iterations run.
    """

    bound: float
    counts: np.ndarray
    iterations: int


def _group_sums(r: np.ndarray, group: np.ndarray, group_n: np.ndarray,
                n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the sum of its n cheapest reduced costs and the chosen mask."""
    order = np.lexsort((r, group))
    g_sorted = group[order]
    starts = np.searchsorted(g_sorted, np.arange(n_groups))
    rank = np.arange(order.size) - starts[g_sorted]
    take_sorted = rank < group_n[g_sorted]
    sums = np.bincount(g_sorted[take_sorted], weights=r[order][take_sorted],
                       minlength=n_groups)
    take = np.zeros(r.size, dtype=bool)
    take[order[take_sorted]] = True
    return sums, take


def lagrangian_bound(model: CountIndexedModel, upper: float, *, time_budget: float = 5.0,
                     max_iter: int = 500) -> LagrangianResult:
    """Subgradient ascent on the Lagrangian dual of the count-indexed model.

    Parameters
    ----------
    model
        The count-indexed model (its columns define the groups).
    upper
        An upper bound on the optimum (a feasible objective, MILP units), for the step size.
    time_budget
        Wall-clock seconds.
    max_iter
        Largest number of iterations.

    Returns
    -------
    LagrangianResult
    """
    inst = model.instance
    start = time.perf_counter()
    n_x = model.n_x
    n_es = inst.n_servers
    c = model.milp.c[:n_x]
    users = model.x_user
    forced = must_offload(inst)
    # Group (j, n) of every x column = its y column.
    y_lookup = {(int(j), int(n)): g for g, (j, n) in enumerate(zip(model.y_es, model.y_n,
                                                                    strict=True))}
    group = np.array([y_lookup[int(j), int(n)] for j, n in zip(model.x_es, model.x_n,
                                                              strict=True)], dtype=np.int64)
    n_groups = model.y_es.size
    group_n = model.y_n
    if inst.min_accuracy is not None:
        gain = inst.acc_edge[users] - inst.acc_local[users]
        need = inst.n_users * inst.min_accuracy - float(inst.acc_local.sum())
    else:
        gain, need = np.zeros(n_x), 0.0
    has_hall = inst.max_hallucination is not None
    if has_hall:
        change = inst.hall_edge[users] - inst.hall_local[users]
        cap = inst.n_users * inst.max_hallucination - float(inst.hall_local.sum())
    else:
        change, cap = np.zeros(n_x), 0.0
    u = np.zeros(inst.n_users)
    mu = nu = 0.0
    best = -np.inf
    best_counts = np.zeros(n_es, dtype=np.int64)
    theta, stall, it = 2.0, 0, 0
    constant = model.milp.constant
    while it < max_iter and time.perf_counter() - start < time_budget:
        it += 1
        r = c + u[users] - mu * gain + nu * change
        sums, take = _group_sums(r, group, group_n, n_groups)
        # Per ES the best group (or none: count 0, value 0).
        chosen = np.zeros(n_groups, dtype=bool)
        es_best = np.zeros(n_es)
        for j in range(n_es):
            gj = np.flatnonzero(model.y_es == j)
            if gj.size:
                k = gj[np.argmin(sums[gj])]
                if sums[k] < 0:
                    chosen[k] = True
                    es_best[j] = sums[k]
        value = constant - u.sum() + mu * need - nu * cap + es_best.sum()
        if not np.isfinite(best) or value > best + 1e-9 * max(1.0, abs(best)):
            best, stall = value, 0
            best_counts = np.bincount(model.y_es[chosen], weights=model.y_n[chosen],
                                      minlength=n_es).astype(np.int64)
        else:
            stall += 1
            if stall >= 15:
                theta, stall = theta / 2.0, 0
                if theta < 1e-4:
                    break
        x = take & chosen[group]
        sub_u = np.bincount(users[x], minlength=inst.n_users) - 1.0
        sub_mu = need - float(gain[x].sum()) if inst.min_accuracy is not None else 0.0
        sub_nu = float(change[x].sum()) - cap if has_hall else 0.0
        # Projected subgradient: u >= 0 where the row is an inequality.
        sub_u = np.where(~forced & (u <= 0) & (sub_u < 0), 0.0, sub_u)
        if mu <= 0 and sub_mu < 0:
            sub_mu = 0.0
        if nu <= 0 and sub_nu < 0:
            sub_nu = 0.0
        norm = float(sub_u @ sub_u + sub_mu * sub_mu + sub_nu * sub_nu)
        if norm == 0.0:
            break  # the relaxed solution is feasible and complementary: bound is optimal
        step = theta * max(upper - value, 1e-9 * max(1.0, abs(upper))) / norm
        u = u + step * sub_u
        u = np.where(forced, u, np.maximum(u, 0.0))
        mu = max(0.0, mu + step * sub_mu)
        nu = max(0.0, nu + step * sub_nu)
    return LagrangianResult(bound=float(best), counts=best_counts, iterations=it)


def assign_for_counts(inst: Instance, counts: np.ndarray,
                      table: np.ndarray | None = None) -> np.ndarray | None:
    """Best interference-free assignment with exactly ``counts[j]`` users on ES j.

    Minimises the objective (``table`` is :func:`~mecopt.formulations.count_indexed.
    cost_table`) within the energy budgets, ignoring the accuracy target and the
    hallucination cap (check the answer with :func:`mecopt.evaluate`). Returns ``None`` when
    no assignment has these counts (users that may not stay local cannot all be placed, or
    an ES cannot serve ``counts[j]`` users).
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_users = inst.n_users
    if counts.sum() > n_users or np.any(counts > inst.count_limit):
        return None
    if table is None:
        table = cost_table(inst, max(int(counts.max(initial=0)), 1))
    big = 1e9
    cols = []
    owner = []
    for j in np.flatnonzero(counts):
        d = table[:, j, counts[j] - 1] * MS
        cols.append(np.repeat(np.where(np.isfinite(d), d, big)[:, None], counts[j], axis=1))
        owner.extend([j] * int(counts[j]))
    with np.errstate(over="ignore"):
        home = local_cost(inst) * MS
    local = np.where(must_offload(inst) | ~np.isfinite(home), big, home)
    n_local = n_users - int(counts.sum())
    cols.append(np.repeat(local[:, None], n_local, axis=1))
    owner.extend([-1] * n_local)
    # Costs beyond ``big`` (extreme but valid inputs, e.g. a 1e308 s local delay) count as
    # unusable: the solver needs a finite, well-scaled matrix.
    cost = np.minimum(np.hstack(cols), big) if cols else np.zeros((n_users, 0))
    rows, col = linear_sum_assignment(cost)
    if np.any(cost[rows, col] >= big):
        return None
    a = np.full(n_users, -1, dtype=np.int64)
    a[rows] = np.asarray(owner, dtype=np.int64)[col]
    return a


def count_search(inst: Instance, starts: list[np.ndarray], *, time_budget: float = 5.0,
                 table: np.ndarray | None = None) -> tuple[np.ndarray | None, float]:
    """Local search over count vectors, each scored by its exact assignment.

    From each count vector in ``starts`` in turn (the relaxation's, a heuristic's...), moves
    one user's worth of count (``+1`` or ``-1`` on one ES, or from one ES to another) while
    the interference-free objective of :func:`assign_for_counts` improves and the
    evaluator calls the assignment feasible (accuracy, hallucination, energy). A start that
    is infeasible (say, too few places for the users the rule forces) is left at once.

    Returns
    -------
    tuple
        The best assignment found (``None`` if no count vector tried was feasible) and its
        interference-free objective (``inf`` without one).
    """
    from mecopt.evaluate import evaluate

    start = time.perf_counter()
    free = inst if inst.interference == "none" else inst.replace(interference="none")
    limit = free.count_limit
    if table is None:
        table = cost_table(free, max(int(limit.max(initial=0)), 1))
    seen: dict[tuple[int, ...], float] = {}

    def score(n: np.ndarray) -> tuple[float, np.ndarray | None]:
        key = tuple(int(v) for v in n)
        if key in seen:
            return seen[key], None
        a = assign_for_counts(free, n, table)
        value = np.inf
        if a is not None:
            m = evaluate(free, a)
            value = m.objective if m.feasible else np.inf
        seen[key] = value
        return value, a

    n_es = free.n_servers
    best_val, best_a = np.inf, None
    moves = [e for j in range(n_es) for e in (np.eye(n_es, dtype=np.int64)[j],
                                               -np.eye(n_es, dtype=np.int64)[j])]
    moves += [np.eye(n_es, dtype=np.int64)[j] - np.eye(n_es, dtype=np.int64)[k]
              for j in range(n_es) for k in range(n_es) if j != k]
    for counts in starts:
        current = np.clip(np.asarray(counts, dtype=np.int64), 0, limit)
        current_val, a = score(current)
        if a is not None and current_val < best_val:
            best_val, best_a = current_val, a
        improved = np.isfinite(current_val)
        while improved and time.perf_counter() - start < time_budget:
            improved = False
            for mv in moves:
                cand = current + mv
                if np.any(cand < 0) or np.any(cand > limit) or cand.sum() > free.n_users:
                    continue
                val, a = score(cand)
                if val < current_val - 1e-12 * abs(current_val):
                    current, current_val, improved = cand, val, True
                    if a is not None and val < best_val:
                        best_val, best_a = val, a
                    break
                if time.perf_counter() - start > time_budget:
                    break
    return best_a, float(best_val)
