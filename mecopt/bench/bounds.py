"""A cheap lower bound on the optimal mean delay, valid at every size.

Every delay grows with the load of an ES (bandwidth and compute shares shrink, queues
lengthen) and with interference, so user i can never do better than
``min(t_i^L, min_j delay_ij(n_j = 1, I_j = 0))``; a user the uncertainty rule forces to
offload only has the ES terms. The mean of these per-user minima bounds the optimum from
below (constraints on accuracy and ES capacity only raise the optimum). It is weak at large
N, where shares shrink, but it gives every instance a bound, including those far beyond the
exact solvers' reach.
"""

from __future__ import annotations

import numpy as np

from mecopt.channel import comm_delay
from mecopt.instance import Instance
from mecopt.queues import QUEUE_MODELS


def per_user_bound(inst: Instance) -> float:
    """Mean over users of the best delay each could get alone (seconds).

    Parameters
    ----------
    inst
        The instance.

    Returns
    -------
    float
        A lower bound on the optimal mean delay (``inf`` if some forced user can reach
        no ES).
    """
    users = np.arange(inst.n_users)[:, None]
    es = np.arange(inst.n_servers)[None, :]
    one = np.ones((1, 1), dtype=np.int64)
    d = comm_delay(inst, users, es, one, 0.0) + QUEUE_MODELS.get(inst.queue).edge_delay(
        inst, users, es, one)
    d = np.where(np.isfinite(d), d, np.inf)
    best_edge = d.min(axis=1)
    best = np.where(inst.forced, best_edge, np.minimum(best_edge, inst.local_delay))
    return float(np.mean(best))
