"""The fixed-count problem: the cheapest assignment for a given count vector.

With the count ``n_j`` of every ES fixed, the interference-free offloading problem is a
transportation problem: each user answers locally or on one ES j at the cost
``c_ij(n_j)`` (:meth:`~mecopt.formulations.option_cost.LayerCosts.offload`). Its LP is
integral, so it is solved exactly as a network flow (:func:`transport`): source -> user
(capacity 1) -> ES j or "local" -> sink, ES j taking at most (or exactly) ``n_j`` users.
OR-Tools' ``SimpleMinCostFlow`` solves it on integer costs scaled so that the largest one
is ``COST_SCALE`` units (fewer when the network is so large that the solver's cost range
would overflow): optimal up to ``1 / COST_SCALE`` of the largest cost per user, and the
result carries a proven lower bound that accounts for that rounding. With exact counts and
at most ``DENSE_USERS`` users it is solved as a square assignment problem instead
(:func:`scipy.optimize.linear_sum_assignment`, each sink as ``n_j`` slots, exact in
floating point), which is several times faster than building the network at that size.

With side rows (accuracy target, hallucination cap) the LP has fractional vertices:
:func:`fixed_count_assignment` solves the transportation LP plus those rows (HiGHS through
SciPy) and re-assigns the few users a vertex splits by a small MILP with the others fixed,
or (``exact=True``) solves the whole fixed-count MILP.

:func:`count_search` moves through count vectors, each scored by its exact assignment.

Used by ``lns`` (:mod:`mecopt.heuristics.lns`), the exact driver's decomposition and
count-vector searches. It lives with the formulations because both the heuristics and the
solvers call it and neither may import the other's layer.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import scipy.sparse as sp
from ortools.graph.python import min_cost_flow
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, linprog, milp

from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import LayerCosts, cost_table, local_cost, must_offload
from mecopt.instance import Instance

#: Integer units of the largest absolute cost in :func:`transport`.
COST_SCALE = 1e13
#: Exact-count problems up to this many users go to the dense assignment solver.
DENSE_USERS = 100
#: :func:`assign_for_counts` treats costs at or above this (ms) as unusable: extreme but
#: valid inputs (a 1e308 s local delay) would otherwise ruin the scaling.
_UNUSABLE_MS = 1e9


@dataclasses.dataclass(frozen=True)
class Transport:
    """Outcome of :func:`transport`.

    Attributes
    ----------
    sink
        (N,) the column (sink) each user is sent to, or ``None`` when no assignment meets
        the capacities.
    value
        Sum of the chosen costs (``inf`` without an assignment).
    bound
        Proven lower bound on the optimum: ``value`` less the largest error the integer
        scaling can cause (``inf`` when the problem is infeasible).
    """

    sink: np.ndarray | None
    value: float
    bound: float


def transport(cost: np.ndarray, capacity: np.ndarray, *, exact: bool = False) -> Transport:
    """Send every user (row) to one sink (column) at least cost (exact min-cost flow).

    Parameters
    ----------
    cost
        (N, K) cost of each user at each sink; ``inf`` (or ``nan``) where not allowed. Only
        differences within a row matter: subtract a per-user constant (its local cost, say)
        for the best scaling.
    capacity
        (K,) the most users each sink takes; with ``exact``, the number it must take.
    exact
        Fill every sink to its capacity (``capacity`` must then sum to N).

    Returns
    -------
    Transport
    """
    cost = np.asarray(cost, dtype=float)
    n_users, n_sinks = cost.shape
    cap = np.minimum(np.maximum(np.asarray(capacity, dtype=np.int64), 0), n_users)
    none = Transport(None, np.inf, np.inf)
    ok = np.isfinite(cost)
    if not np.all(ok.any(axis=1)) or (exact and int(cap.sum()) != n_users):
        return none
    if exact and n_users <= DENSE_USERS:
        return _dense(np.where(ok, cost, np.inf), cap)
    ui, ki = np.nonzero(ok)
    r = cost[ui, ki]
    top = float(np.abs(r).max(initial=0.0))
    sink = n_users + n_sinks + 1
    # The solver scales costs by the number of nodes internally: stay inside int64.
    units_max = min(COST_SCALE, 2.0**61 / (sink + 2))
    # Nodes: 0 source, 1..N users, N+1..N+K sinks, N+K+1 the super sink (at-most form).
    tails = np.concatenate([np.zeros(n_users, np.int64), 1 + ui])
    heads = np.concatenate([1 + np.arange(n_users), n_users + 1 + ki])
    caps = np.ones(n_users + ui.size, np.int64)
    supply = np.zeros(sink + 1, np.int64)
    supply[0] = n_users
    if exact:
        supply[n_users + 1:sink] = -cap
    else:
        tails = np.concatenate([tails, n_users + 1 + np.arange(n_sinks)])
        heads = np.concatenate([heads, np.full(n_sinks, sink)])
        caps = np.concatenate([caps, cap])
        supply[sink] = -n_users
    for _ in range(3):
        scale = units_max / top if top > 0 else 1.0
        unit = np.rint(r * scale).astype(np.int64)
        units = np.concatenate([np.zeros(n_users, np.int64), unit,
                                np.zeros(caps.size - n_users - ui.size, np.int64)])
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, units)
        flow.set_nodes_supplies(np.arange(sink + 1), supply)
        status = flow.solve()
        if status != flow.BAD_COST_RANGE:
            break
        units_max /= 1e3
    if status != flow.OPTIMAL:
        return none
    on = flow.flows(np.arange(n_users, n_users + ui.size)) > 0
    out = np.full(n_users, -1, dtype=np.int64)
    out[ui[on]] = ki[on]
    value = float(r[on].sum())
    # Each cost is off by at most 0.5 / scale after rounding, so the flow's answer is
    # within n_users / scale of the optimum.
    return Transport(out, value, value - n_users / scale)


def _dense(cost: np.ndarray, cap: np.ndarray) -> Transport:
    """Exact-count transport as a square assignment problem (sink k as ``cap[k]`` slots)."""
    owner = np.repeat(np.arange(cost.shape[1]), cap)
    try:
        rows, cols = linear_sum_assignment(cost[:, owner])
    except ValueError:  # no assignment avoids the forbidden (inf) entries
        return Transport(None, np.inf, np.inf)
    sink = np.empty(cost.shape[0], dtype=np.int64)
    sink[rows] = owner[cols]
    value = float(cost[rows, owner[cols]].sum())
    return Transport(sink, value, value)


def cost_matrix(costs: LayerCosts, counts: np.ndarray) -> np.ndarray:
    """(N, M + 1) cost (ms) of each user on each ES at ``counts`` and locally (last
    column); ``inf`` where the option does not exist (count 0, over budget, forced users'
    local)."""
    inst = costs.inst
    cols = [costs.offload(j, int(counts[j])) if 1 <= counts[j] <= costs.limit[j]
            else np.full(inst.n_users, np.inf) for j in range(inst.n_servers)]
    return np.column_stack(cols + [np.where(costs.forced, np.inf, costs.local)])


def _assignment(sink: np.ndarray | None, n_es: int) -> np.ndarray | None:
    """Sinks (ES 0..M-1, M local) to an assignment (-1 local)."""
    return None if sink is None else np.where(sink < n_es, sink, -1)


def transport_assignment(costs: LayerCosts, counts: np.ndarray) -> np.ndarray | None:
    """Best assignment with at most ``counts[j]`` users on ES j, each costed at
    ``counts[j]``, ignoring side rows (exact min-cost flow, see :func:`transport`).

    Parameters
    ----------
    costs
        Layer costs of the (interference-free) instance.
    counts
        (M,) the count each ES is costed at and may hold at most.

    Returns
    -------
    numpy.ndarray or None
        (N,) assignment (-1 local), or ``None`` when the users who may not stay local
        cannot all be placed.
    """
    inst = costs.inst
    n_users, n_es = inst.n_users, inst.n_servers
    counts = np.asarray(counts, dtype=np.int64)
    if counts.shape != (n_es,):
        raise ValueError(f"counts has shape {counts.shape}, expected ({n_es},)")
    with np.errstate(invalid="ignore"):
        rel = cost_matrix(costs, counts) - costs.local[:, None]
    capacity = np.append(counts, n_users)
    return _assignment(transport(rel, capacity).sink, n_es)


def assign_for_counts(inst: Instance, counts: np.ndarray,
                      table: np.ndarray | None = None) -> np.ndarray | None:
    """Best interference-free assignment with exactly ``counts[j]`` users on ES j.

    Minimises the objective (``table`` is :func:`~mecopt.formulations.option_cost.
    cost_table`, computed when not given) within the energy budgets, ignoring the
    accuracy target and the hallucination cap (check the answer with
    :func:`mecopt.evaluate`). Returns ``None`` when no assignment has these counts (users
    that may not stay local cannot all be placed, or an ES cannot serve ``counts[j]``
    users).
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_users = inst.n_users
    if counts.sum() > n_users or np.any(counts > inst.count_limit):
        return None
    if table is None:
        table = cost_table(inst, max(int(counts.max(initial=0)), 1))
    cols = [table[:, j, counts[j] - 1] * MS if counts[j] >= 1 else np.full(n_users, np.inf)
            for j in range(inst.n_servers)]
    with np.errstate(over="ignore"):
        home = local_cost(inst) * MS
    cols.append(np.where(must_offload(inst), np.inf, home))
    mat = np.column_stack(cols)
    mat[~(mat < _UNUSABLE_MS)] = np.inf
    shift = np.min(mat, axis=1, initial=np.inf)
    with np.errstate(invalid="ignore"):
        rel = mat - np.where(np.isfinite(shift), shift, 0.0)[:, None]
    capacity = np.append(counts, n_users - int(counts.sum()))
    return _assignment(transport(rel, capacity, exact=True).sink, inst.n_servers)


def fixed_count_assignment(costs: LayerCosts, counts: np.ndarray,
                           time_limit: float | None = None,
                           exact: bool = False) -> np.ndarray | None:
    """Best assignment with at most ``counts[j]`` users on ES j, each costed at ``counts[j]``.

    Without side rows it is the min-cost flow of :func:`transport_assignment`, whose
    answer is the best with those counts. With side rows (accuracy target, hallucination
    cap) it is a transportation LP plus those rows; the few users a fractional vertex
    splits are re-assigned exactly with the others fixed (:func:`_integral_side`), which is
    fast but not always best. With ``exact=True`` that problem is solved as a MILP instead
    (HiGHS), falling back to the fast answer when the MILP finds none in time.
    Returns ``None`` when there is no (integral) answer.
    """
    if not costs.side:
        return transport_assignment(costs, counts)
    inst = costs.inst
    n_users, n_es = inst.n_users, inst.n_servers
    cols = [costs.offload(j, int(counts[j])) if counts[j] >= 1 else np.full(n_users, np.inf)
            for j in range(n_es)]
    c = np.column_stack(cols + [np.where(costs.forced, np.inf, costs.local)])  # (N, M+1)
    ok = np.isfinite(c)
    ui, ki = np.nonzero(ok)
    n_var = ui.size
    if n_var == 0:
        return None
    a_eq = sp.csr_matrix((np.ones(n_var), (ui, np.arange(n_var))), shape=(n_users, n_var))
    es_var = ki < n_es
    rows = [sp.csr_matrix((np.ones(int(es_var.sum())), (ki[es_var], np.flatnonzero(es_var))),
                          shape=(n_es, n_var))]
    rhs = [np.asarray(counts, dtype=float)]
    for s in costs.side:
        rows.append(sp.csr_matrix(np.where(es_var, -s.gain[ui], 0.0)[None, :]))
        rhs.append(np.array([-s.need]))
    start = time.perf_counter()
    options = {} if time_limit is None else {"time_limit": max(time_limit, 1e-3)}
    a_ub, b_ub = sp.vstack(rows).tocsr(), np.concatenate(rhs)
    res = linprog(c[ui, ki], A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n_users),
                  bounds=(0, 1), method="highs", options=options)
    if res.status != 0 or res.x is None:
        return None

    def left() -> float | None:
        return None if time_limit is None else time_limit - (time.perf_counter() - start)

    x = res.x
    frac = np.abs(x - np.round(x)) > 1e-6
    if np.any(frac) and exact:
        whole = _integral_side(c[ui, ki], a_eq, a_ub, b_ub, x, np.ones(x.size, bool), ui,
                               left())
        if whole is not None:
            x, frac = whole, np.zeros(x.size, bool)
    if np.any(frac):
        x = _integral_side(c[ui, ki], a_eq, a_ub, b_ub, x, frac, ui, left())
        if x is None:
            return None
    on = x > 0.5
    a = np.full(n_users, -1, dtype=np.int64)
    target = ki[on]
    a[ui[on]] = np.where(target < n_es, target, -1)
    return a


def _integral_side(c: np.ndarray, a_eq: sp.csr_matrix, a_ub: sp.csr_matrix,
                   b_ub: np.ndarray, x: np.ndarray, frac: np.ndarray, ui: np.ndarray,
                   time_limit: float | None) -> np.ndarray | None:
    """An integral answer of the fixed-count LP whose vertex ``x`` is fractional.

    With side rows a vertex has a few fractional users (at most one per side row plus the
    count rows they touch). Users whose LP answer is integral keep it; the fractional users
    are re-assigned by a MILP (HiGHS) over their own columns, against what is left of the
    count and side rows. With every user marked in ``frac`` it is the whole fixed-count
    MILP. Returns ``None`` when that MILP has no answer in time.
    """
    users = np.unique(ui[frac])
    free = np.isin(ui, users)
    fixed_x = np.where(free, 0.0, np.round(x))
    b_left = b_ub - a_ub @ fixed_x
    sub_eq = a_eq[users][:, free]
    sub_ub = a_ub[:, free]
    options: dict[str, float] = {}
    if time_limit is not None:
        if time_limit <= 0:
            return None
        options["time_limit"] = max(time_limit, 1e-3)
    res = milp(c[free], integrality=np.ones(int(free.sum())), bounds=Bounds(0, 1),
               constraints=[LinearConstraint(sub_eq, 1, 1),
                            LinearConstraint(sub_ub, -np.inf, b_left)], options=options)
    if res.x is None:
        return None
    out = fixed_x.copy()
    out[free] = np.round(res.x)
    return out


def _count_moves(n_es: int) -> list[np.ndarray]:
    """+1 or -1 on one ES, or one user's worth of count from one ES to another."""
    eye = np.eye(n_es, dtype=np.int64)
    moves = [e for j in range(n_es) for e in (eye[j], -eye[j])]
    return moves + [eye[j] - eye[k] for j in range(n_es) for k in range(n_es) if j != k]


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

    best_val, best_a = np.inf, None
    moves = _count_moves(free.n_servers)
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
