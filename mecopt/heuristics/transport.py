"""The fixed-count transportation problem as a min-cost flow.

With the count ``n_j`` of every ES fixed, the offloading problem without side rows is a
transportation problem: each user answers locally or on one ES j at the cost
``c_ij(n_j)`` (:meth:`mecopt.formulations.layers.LayerCosts.offload`), at most ``n_j``
users on ES j. As a network: source -> user (capacity 1) -> ES j or "local" -> sink,
the arc ES j -> sink with capacity ``n_j``. OR-Tools' ``SimpleMinCostFlow`` solves it
exactly on integer costs; the costs (relative to answering locally) are scaled so that
the largest one is ``COST_SCALE`` units (fewer when the network is so large that the
solver's cost range would overflow), so the answer is optimal up to a rounding of
``1 / COST_SCALE`` of the largest cost per user. At N = 10,000 and M = 4 it takes about 60 ms,
against about 0.5 s for the same problem as a linear program.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from mecopt.formulations.layers import LayerCosts

#: Integer units of the largest absolute relative cost.
COST_SCALE = 1e13


def cost_matrix(costs: LayerCosts, counts: np.ndarray) -> np.ndarray:
    """(N, M + 1) cost of each user on each ES at ``counts`` and locally (last column);
    ``inf`` where the option does not exist (count 0, over budget, forced users' local)."""
    inst = costs.inst
    cols = [costs.offload(j, int(counts[j])) if 1 <= counts[j] <= costs.limit[j]
            else np.full(inst.n_users, np.inf) for j in range(inst.n_servers)]
    return np.column_stack(cols + [np.where(costs.forced, np.inf, costs.local)])


def transport_assignment(costs: LayerCosts, counts: np.ndarray) -> np.ndarray | None:
    """Best assignment with at most ``counts[j]`` users on ES j, each costed at
    ``counts[j]``, ignoring side rows (exact min-cost flow, see the module docstring).

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
    c = cost_matrix(costs, counts)
    if not np.all(np.isfinite(c).any(axis=1)):
        return None
    with np.errstate(invalid="ignore"):
        rel = c - costs.local[:, None]
    ok = np.isfinite(rel)
    ui, ki = np.nonzero(ok)
    r = rel[ui, ki]
    top = float(np.abs(r).max(initial=0.0))
    sink = n_users + n_es + 2
    # The solver scales costs by the number of nodes internally: stay inside int64.
    units_max = min(COST_SCALE, 2.0**61 / (sink + 2))
    # Nodes: 0 source, 1..N users, N+1..N+M ES, N+M+1 local, N+M+2 sink.
    tails = np.concatenate([np.zeros(n_users, np.int64), 1 + ui,
                            n_users + 1 + np.arange(n_es + 1)])
    heads = np.concatenate([1 + np.arange(n_users), n_users + 1 + ki,
                            np.full(n_es + 1, sink)])
    caps = np.concatenate([np.ones(n_users + ui.size, np.int64),
                           np.minimum(np.maximum(counts, 0), n_users), [n_users]])
    supply = np.zeros(sink + 1, np.int64)
    supply[0], supply[sink] = n_users, -n_users
    for _ in range(3):
        scale = units_max / top if top > 0 else 1.0
        unit = np.rint(r * scale).astype(np.int64)
        units = np.concatenate([np.zeros(n_users, np.int64), unit,
                                np.zeros(n_es + 1, np.int64)])
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, units)
        flow.set_nodes_supplies(np.arange(sink + 1), supply)
        status = flow.solve()
        if status != flow.BAD_COST_RANGE:
            break
        units_max /= 1e3
    if status != flow.OPTIMAL:
        return None
    on = flow.flows(np.arange(n_users, n_users + ui.size)) > 0
    a = np.full(n_users, -1, dtype=np.int64)
    a[ui[on]] = np.where(ki[on] < n_es, ki[on], -1)
    return a
