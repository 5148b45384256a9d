"""A cheap lower bound on the optimal mean delay, valid at every size.

Every delay grows with the load of an ES (bandwidth and compute shares shrink, queues
lengthen) and with interference, so user i can never do better than
``min(t_i^L, min_j delay_ij(n_j = 1, I_j = 0))``; a user the uncertainty rule forces to
offload only has the ES terms. The mean of these per-user minima bounds the optimum from
below (constraints on accuracy and ES capacity only raise the optimum). With cost weights
(energy, accuracy, hallucination) the same holds for each option's weighted cost, and an
option outside the user's energy budget is skipped. It is weak at large
N, where shares shrink, but it gives every instance a bound, including those far beyond the
exact solvers' reach.
"""

from __future__ import annotations

from mecopt.formulations.count_indexed import cost_table
from mecopt.instance import Instance
from mecopt.solvers.exact import trivial_bound


def per_user_bound(inst: Instance) -> float:
    """Mean over users of the best cost (the delay unless weighted) each could get alone (s).

    Parameters
    ----------
    inst
        The instance.

    Returns
    -------
    float
        A lower bound on the optimal objective (``inf`` if some user that may not stay local
        can reach no ES).
    """
    return trivial_bound(inst, cost_table(inst, 1))
