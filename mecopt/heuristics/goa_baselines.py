"""GOA and the baselines of the published system (arXiv 2602.07958), on the greedy engine.

Every policy is a function ``policy(inst, rng, *, engine=..., **options) -> assignment``.
Policies plan on :meth:`~mecopt.instance.Instance.planning_view` (the planning estimate
``edge_work_plan`` in place of ``edge_work`` when one is given); the caller scores the plan
with the true instance (:func:`mecopt.evaluate`). The engines compute with the instance they
are given.
"""

from __future__ import annotations

import numpy as np

from mecopt.evaluate import evaluate
from mecopt.heuristics.greedy import GreedyEngine
from mecopt.heuristics.greedy_fast import greedy_fast
from mecopt.instance import Instance


def _tau(inst: Instance, tau: float | None) -> float:
    if tau is None:
        tau = inst.tau
    return np.inf if tau is None else float(tau)


def goa(
    inst: Instance,
    rng: np.random.Generator,
    *,
    engine: GreedyEngine = greedy_fast,
    tau: float | None = None,
) -> np.ndarray:
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


def local_all(
    inst: Instance, rng: np.random.Generator, *, engine: GreedyEngine = greedy_fast
) -> np.ndarray:
    """Every user answers locally."""
    return np.full(inst.n_users, -1, dtype=np.int64)


def edge_all(
    inst: Instance, rng: np.random.Generator, *, engine: GreedyEngine = greedy_fast
) -> np.ndarray:
    """Every user is offloaded, pairs chosen by the alpha-weighted delta, no stop rule."""
    inst = inst.planning_view()
    a = np.full(inst.n_users, -1, dtype=np.int64)
    return engine(inst, a, np.ones(inst.n_users, dtype=bool), inst.alpha, False)


def min_delay_published(
    inst: Instance, rng: np.random.Generator, *, engine: GreedyEngine = greedy_fast
) -> np.ndarray:
    """The published min-delay baseline, literally: greedy by the unweighted delta over all
    users; stop when the smallest delta is >= 0.

    Each delta sees the interference of the users placed so far, as the authors' planner
    does (their ``calc_delay_set`` with the current decisions); interference that arrives
    later is not foreseen, so a user placed early can end with an uplink far slower than
    its local answer (an example is in ``benchmarks/replay/README.md``). It ignores
    the uncertainty rule, as published.
    """
    inst = inst.planning_view()
    a = np.full(inst.n_users, -1, dtype=np.int64)
    return engine(inst, a, np.ones(inst.n_users, dtype=bool), np.ones(inst.n_users), True)


def planned_delay(inst: Instance, assignment: np.ndarray) -> np.ndarray:
    """(N,) delay of every user under ``assignment`` as the planner sees it.

    The planner's view is :meth:`~mecopt.instance.Instance.planning_view` (the edge-time
    estimate in place of the measured edge work), with the interference and the shares of
    the whole assignment.
    """
    return evaluate(inst.planning_view(), assignment).delay


def send_home_slower(inst: Instance, assignment: np.ndarray) -> np.ndarray:
    """Send home, one at a time and slowest first, every offloaded user whose planned delay
    at the whole assignment is not below its local delay (the min-delay stop rule, checked
    once every user is placed).

    A user going home lowers its own planned delay and raises no other's: its ES's shares
    grow and the interference at every other ES falls. So the planned mean delay never
    rises, and the loop ends after at most N moves.
    """
    a = np.array(assignment, dtype=np.int64)
    plan = inst.planning_view()
    while True:
        d = planned_delay(plan, a)
        slower = np.flatnonzero((a >= 0) & ~(d < plan.local_delay))
        if slower.size == 0:
            return a
        a[slower[np.argmax(d[slower] - plan.local_delay[slower])]] = -1


def min_delay(
    inst: Instance, rng: np.random.Generator, *, engine: GreedyEngine = greedy_fast
) -> np.ndarray:
    """Min delay: the published greedy (:func:`min_delay_published`), its stop rule checked
    at the end, and never a plan slower than Edge all's.

    1. The published greedy by the unweighted delta, stopping when it is >= 0.
    2. :func:`send_home_slower`: a user whose planned delay at the final assignment is not
       below its local delay goes home (the greedy's own criterion, applied once the
       interference of the users placed after it is known).
    3. If Edge all's plan (:func:`edge_all`, computed by the same engine) has a lower
       planned mean delay, it is returned instead: offloading everyone is one of the
       answers a minimum-delay planner may give.

    Every step uses only what the published planner sees (the edge-time estimate and the
    interference of an assignment), never the measured edge time that scores the answer.
    It ignores the uncertainty rule, as published.
    """
    plan = inst.planning_view()
    a = send_home_slower(plan, min_delay_published(plan, rng, engine=engine))
    every = edge_all(plan, rng, engine=engine)
    if planned_delay(plan, every).mean() < planned_delay(plan, a).mean():
        return every
    return a


def random_offload(
    inst: Instance,
    rng: np.random.Generator,
    *,
    engine: GreedyEngine = greedy_fast,
    tau: float | None = None,
) -> np.ndarray:
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
