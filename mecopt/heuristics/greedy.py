"""The greedy pair-selection engine behind GOA and the greedy baselines.

From a partial assignment, the engine repeatedly evaluates, for every user i still in the
pool and every ES j that can take one more user, the marginal score

    delta_ij = w_i * ( t_comm_ij(n_j + 1, I_j) + t_edge_ij(n_j + 1) - t_i^L ),

where n_j is ES j's current count and I_j the interference it currently receives (from the
users already offloaded elsewhere, under the instance's interference model). It assigns the
pair with the smallest delta (ties: lowest user, then lowest ES), updates counts and
interference, and repeats until the pool is empty or, with the stop rule, the smallest
delta is >= 0. Pairs whose delay is infinite (unstable queue, zero gain) or whose ES is
at its ``max_users`` are never chosen.

Like the published algorithm (arXiv 2602.07958), delta ignores what the new user costs the
users already placed (smaller bandwidth and compute shares, more interference).

Two implementations make the same decisions: :func:`greedy_loop` evaluates pairs one by
one as the published algorithm is written (the reference), :func:`greedy_vectorised`
evaluates all pairs of an iteration as one numpy expression.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mecopt.channel import INTERFERENCE, InterferenceModel, comm_delay
from mecopt.instance import Instance
from mecopt.queues import QUEUE_MODELS

GreedyEngine = Callable[[Instance, np.ndarray, np.ndarray, np.ndarray, bool], np.ndarray]


def _pair_delay(inst: Instance, users: np.ndarray, es: np.ndarray, n: np.ndarray,
                interference: np.ndarray) -> np.ndarray:
    """Delay of ``users`` if each joined ``es`` as its ``n``-th user."""
    queue = QUEUE_MODELS.get(inst.queue)
    return comm_delay(inst, users, es, n, interference) + queue.edge_delay(inst, users, es, n)


def engine_state(inst: Instance, assignment: np.ndarray, pool: np.ndarray) -> tuple[
        np.ndarray, InterferenceModel, np.ndarray, np.ndarray, np.ndarray]:
    """Starting state shared by the array engines.

    Returns a fresh copy of the assignment, the interference model, the (M,) counts, the
    (M,) count limits and the pool users still local.
    """
    a = np.array(assignment, dtype=np.int64)
    counts = np.bincount(a[a >= 0], minlength=inst.n_servers)
    users = np.flatnonzero(pool & (a < 0))
    return a, INTERFERENCE.get(inst.interference), counts, inst.count_limit, users


def greedy_loop(inst: Instance, assignment: np.ndarray, pool: np.ndarray,
                weight: np.ndarray, stop_at_nonnegative: bool) -> np.ndarray:
    """Reference implementation: every pair scored one at a time.

    Parameters
    ----------
    inst
        The instance.
    assignment
        (N,) starting assignment (not modified).
    pool
        (N,) bool: users the engine may offload.
    weight
        (N,) the weights w_i of delta (alpha for GOA, ones for the unweighted variants).
    stop_at_nonnegative
        Stop as soon as the smallest delta is >= 0.

    Returns
    -------
    numpy.ndarray
        The new assignment.
    """
    a = np.array(assignment, dtype=np.int64)
    interf = INTERFERENCE.get(inst.interference)
    counts = np.bincount(a[a >= 0], minlength=inst.n_servers)
    limit = inst.count_limit
    remaining = [int(i) for i in np.flatnonzero(pool & (a < 0))]
    while remaining:
        interference = interf.interference(inst, a)
        best, best_pair = np.inf, None
        for i in remaining:
            for j in range(inst.n_servers):
                if counts[j] >= limit[j]:
                    continue
                d = _pair_delay(inst, np.array([i]), np.array([j]), np.array([counts[j] + 1]),
                                interference[[j]])[0]
                if not np.isfinite(d):
                    continue
                delta = weight[i] * (d - inst.local_delay[i])
                if delta < best:
                    best, best_pair = delta, (i, j)
        if best_pair is None or (stop_at_nonnegative and best >= 0):
            break
        i, j = best_pair
        a[i] = j
        counts[j] += 1
        remaining.remove(i)
    return a


def greedy_vectorised(inst: Instance, assignment: np.ndarray, pool: np.ndarray,
                      weight: np.ndarray, stop_at_nonnegative: bool) -> np.ndarray:
    """Same decisions as :func:`greedy_loop`, each iteration one numpy expression.

    Only the column of the ES that received a user changes between iterations when there
    is no interference; with interference every column is recomputed.
    """
    a, interf, counts, limit, users = engine_state(inst, assignment, pool)
    if users.size == 0:
        return a
    n_es = inst.n_servers
    es = np.arange(n_es)
    w = weight[users][:, None]
    t_loc = inst.local_delay[users][:, None]
    alive = np.ones(users.size, dtype=bool)
    score = np.empty((users.size, n_es))
    dirty = np.ones(n_es, dtype=bool)
    recompute_all = inst.interference != "none"
    interference = interf.interference(inst, a)
    for _ in range(users.size):
        cols = es[dirty]
        if cols.size:
            d = _pair_delay(inst, users[:, None], cols[None, :], (counts[cols] + 1)[None, :],
                            interference[cols][None, :])
            s = w * (d - t_loc[:, :1])
            s[~np.isfinite(d)] = np.inf
            s[:, counts[cols] >= limit[cols]] = np.inf
            score[:, cols] = s
        masked = np.where(alive[:, None], score, np.inf)
        k = int(np.argmin(masked))
        best = masked.flat[k]
        if not np.isfinite(best) or (stop_at_nonnegative and best >= 0):
            break
        u, j = divmod(k, n_es)
        a[users[u]] = j
        counts[j] += 1
        alive[u] = False
        if recompute_all:
            interference = interf.interference(inst, a)
            dirty[:] = True
        else:
            dirty[:] = False
            dirty[j] = True
    return a
