"""GOA and the baselines of the published system (arXiv 2602.07958), on the greedy engine.

Every policy is a function ``policy(inst, rng, *, engine=..., **options) -> assignment``.
Policies plan on :meth:`~mecopt.instance.Instance.planning_view` (the planning estimate
``edge_work_plan`` in place of ``edge_work`` when one is given); the caller scores the plan
with the true instance (:func:`mecopt.evaluate`). The engines compute with the instance they
are given.
"""

from __future__ import annotations

import numpy as np

from mecopt.heuristics.greedy import GreedyEngine
from mecopt.heuristics.greedy_fast import greedy_fast
from mecopt.instance import Instance


def _tau(inst: Instance, tau: float | None) -> float:
    if tau is None:
        tau = inst.tau
    return np.inf if tau is None else float(tau)


def goa(inst: Instance, rng: np.random.Generator, *, engine: GreedyEngine = greedy_fast,
        tau: float | None = None) -> np.ndarray:
    """The greedy offloading algorithm (GOA).

    Step 1 offloads every user with ``alpha_i > tau``, smallest alpha-weighted delta first,
    whatever its delta; step 2 offloads the remaining users, smallest alpha-weighted delta
    first, while that delta is negative.

    Parameters
    ----------
    inst
        The instance.
    rng
        Unused (GOA is deterministic); accepted for a uniform policy signature.
    engine
        The greedy engine: :func:`~mecopt.heuristics.greedy_fast.greedy_fast` (default),
        :func:`~mecopt.heuristics.greedy.greedy_vectorised` or
        :func:`~mecopt.heuristics.greedy.greedy_loop` (the reference); all decide alike.
    tau
        Threshold; defaults to the instance's ``tau`` (no step 1 when that is ``None``).
    """
    inst = inst.planning_view()
    t = _tau(inst, tau)
    uncertain = inst.alpha > t
    a = np.full(inst.n_users, -1, dtype=np.int64)
    a = engine(inst, a, uncertain, inst.alpha, False)
    return engine(inst, a, ~uncertain, inst.alpha, True)


def local_all(inst: Instance, rng: np.random.Generator, *,
              engine: GreedyEngine = greedy_fast) -> np.ndarray:
    """Every user answers locally."""
    return np.full(inst.n_users, -1, dtype=np.int64)


def edge_all(inst: Instance, rng: np.random.Generator, *,
             engine: GreedyEngine = greedy_fast) -> np.ndarray:
    """Every user is offloaded, pairs chosen by the alpha-weighted delta, no stop rule."""
    inst = inst.planning_view()
    a = np.full(inst.n_users, -1, dtype=np.int64)
    return engine(inst, a, np.ones(inst.n_users, dtype=bool), inst.alpha, False)


def min_delay(inst: Instance, rng: np.random.Generator, *,
              engine: GreedyEngine = greedy_fast) -> np.ndarray:
    """Greedy by the unweighted delta over all users; stop when it is >= 0.

    It ignores the uncertainty rule, as published.
    """
    inst = inst.planning_view()
    a = np.full(inst.n_users, -1, dtype=np.int64)
    return engine(inst, a, np.ones(inst.n_users, dtype=bool), np.ones(inst.n_users), True)


def random_offload(inst: Instance, rng: np.random.Generator, *,
                   engine: GreedyEngine = greedy_fast,
                   tau: float | None = None) -> np.ndarray:
    """Offload as many users as GOA does, drawn uniformly at random, greedily placed.

    The users are sampled with ``rng``; their ESs are chosen by the unweighted delta with no
    stop rule.
    """
    inst = inst.planning_view()
    k = int(np.count_nonzero(goa(inst, rng, engine=engine, tau=tau) >= 0))
    chosen = np.zeros(inst.n_users, dtype=bool)
    chosen[rng.choice(inst.n_users, size=k, replace=False)] = True
    a = np.full(inst.n_users, -1, dtype=np.int64)
    return engine(inst, a, chosen, np.ones(inst.n_users), False)
