"""A lower bound that accounts for other-cells interference.

With ``"other-cells"`` interference, ES j hears every user offloaded to another ES. If T
users are offloaded in all and n of them to ES j, exactly ``T - n`` users interfere at j,
so its interference is at least

    I_j^min(T - n) = sum of the T - n smallest received powers P_k g_kj over all users.

Every cost (delay, uplink energy, and so the weighted cost) grows with the interference,
so ``c_ij(n, I_j^min(T - n))`` is a lower bound on user i's cost on ES j in any assignment
with T offloaded users and n on ES j. For a fixed T the Lagrangian relaxation of
:mod:`mecopt.formulations.bounds.lagrangian` (assignment and side rows relaxed) then leaves one
problem per ES coupled only by ``sum_j n_j = T``, solved exactly by a min-plus convolution
over the M ESs. The bound is the minimum over T. Any multipliers give a valid bound; the
driver uses those of the interference-free ascent. Energy budgets are applied at the
interference-free (smallest) uplink energy, which keeps the bound valid.

Cost: O(M N^2 log N) partial sorts and an O(M N^3) convolution, for N up to a few hundred.
"""

from __future__ import annotations

import numpy as np

from mecopt.formulations.interference.geometry import min_interference
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import LayerCosts, local_cost, must_offload, option_cost
from mecopt.instance import Instance

#: Largest N for which the bound is computed (its cost grows as N^3).
MAX_USERS = 200

__all__ = ["MAX_USERS", "interference_bound", "min_interference"]


def interference_bound(inst: Instance, u: np.ndarray | None = None,
                       mu: np.ndarray | None = None) -> float:
    """Lower bound (mean objective, s) on the optimum of ``inst`` under its interference.

    Parameters
    ----------
    inst
        The instance (``"other-cells"``; with ``"none"`` the bound holds as well, weaker
        than the pricing bound since it ignores dominated columns).
    u, mu
        Lagrange multipliers of the assignment and side rows (MILP units, as in
        :func:`mecopt.formulations.bounds.lagrangian.dual_bound`); default zeros.

    Returns
    -------
    float
        ``-inf`` above ``MAX_USERS`` users.
    """
    n_users, n_es = inst.n_users, inst.n_servers
    if n_users > MAX_USERS:
        return -np.inf
    free = inst.replace(interference="none")
    costs = LayerCosts.of(free)
    forced = must_offload(inst)
    u = np.zeros(n_users) if u is None else np.where(forced, u, np.maximum(u, 0.0))
    mu = np.zeros(len(costs.side)) if mu is None else np.maximum(np.asarray(mu, float), 0.0)
    shift = u - (mu @ costs.side_gain() if costs.side else 0.0)
    home = local_cost(inst) * MS
    base = float(home.sum()) - float(u.sum()) + float(mu @ costs.side_need())
    imin = min_interference(inst)
    limit = inst.count_limit
    users = np.arange(n_users)[:, None]
    n_all = np.arange(1, n_users + 1)[None, :]
    inf = np.inf
    best = inf
    # s[j, T, n]: the best value of n users on ES j when T are offloaded in all.
    for total in range(n_users + 1):
        s = np.full((n_es, total + 1), inf)
        s[:, 0] = 0.0
        for j in range(n_es):
            top = int(min(total, limit[j]))
            if top < 1:
                continue
            n = n_all[:, :top]
            interference = imin[j, total - n]  # (1, top)
            c = option_cost(inst, users, j, n, interference, budget=False) * MS
            with np.errstate(over="ignore", invalid="ignore"):
                # Budgets at the interference-free energy (the smallest possible).
                ok = np.isfinite(costs.offload(j, 1))[:, None] if inst.energy_budget is not \
                    None else True
                r = np.where(ok & np.isfinite(c), c - home[:, None] + shift[:, None], inf)
            r.sort(axis=0)
            with np.errstate(invalid="ignore"):
                prefix = np.cumsum(r, axis=0)  # prefix[k-1, n-1]: k smallest at count n
            vals = prefix[np.arange(top), np.arange(top)]
            s[j, 1:top + 1] = np.where(np.isfinite(vals), vals, inf)
        # Min-plus convolution over the ESs, keeping sum n_j <= total; read at = total.
        acc = s[0]
        for j in range(1, n_es):
            out = np.full(total + 1, inf)
            for b in np.flatnonzero(np.isfinite(s[j])):
                out[b:] = np.minimum(out[b:], acc[:total + 1 - b] + s[j][b])
            acc = out
        best = min(best, float(acc[total]))
    return (base + best) / (MS * n_users) if np.isfinite(best) else np.inf

