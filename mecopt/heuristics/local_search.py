"""Local search under the instance's full model (interference included).

Used by the exact driver and ``lns`` on ``"other-cells"`` instances, where the
interference-free optimum is only a starting point. Neighbourhoods: every single-user move
(to local or to another ES), then every swap of two users' places (which keeps every
count, so no single move makes it). Each neighbourhood is scored as one numpy batch of
whole assignments (:func:`batch_objective`, the evaluator's objective without side rows
and budgets), the best candidate is confirmed by the evaluator and applied, until neither
neighbourhood improves or the time budget is spent; where the batch does not see every
constraint, the one-by-one search with the evaluator follows. Its speed against the
one-by-one search is measured in ``benchmarks/replay/README.md``.
"""

from __future__ import annotations

import time

import numpy as np

from mecopt.channel import INTERFERENCE, comm_delay
from mecopt.evaluate import Metrics, evaluate
from mecopt.instance import Instance
from mecopt.objective import cost, local_allowed, offload_energy
from mecopt.queues import QUEUE_MODELS

#: Most candidate assignments scored in one numpy batch.
BATCH = 2048


def batch_objective(inst: Instance, assignments: np.ndarray) -> np.ndarray:
    """(B,) mean cost (s) of every row of ``assignments`` (B, N) under the full model,
    without the side rows and budgets (the caller confirms a choice with the evaluator);
    ``inf`` where a user that may not stay local is local or an ES is over its limit.
    """
    a = np.asarray(assignments, dtype=np.int64)
    n_rows, n_users = a.shape
    n_es = inst.n_servers
    off = a >= 0
    es = np.where(off, a, 0)
    counts = np.zeros((n_rows, n_es), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(n_rows), n_users)[off.ravel()], a[off]), 1)
    interference = INTERFERENCE.get(inst.interference).interference_batch(inst, a)
    users = np.broadcast_to(np.arange(n_users), a.shape)
    n = np.take_along_axis(counts, es, axis=1)
    level = np.take_along_axis(interference, es, axis=1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        comm = comm_delay(inst, users, es, np.maximum(n, 1), level)
        delay = comm + QUEUE_MODELS.get(inst.queue).edge_delay(inst, users, es, np.maximum(n, 1))
        edge_cost = cost(inst, users, True, delay, offload_energy(inst, users, comm))
    home = cost(
        inst,
        np.arange(n_users),
        False,
        inst.local_delay,
        inst.local_energy if inst.local_energy is not None else np.zeros(n_users),
    )
    per_user = np.where(off, edge_cost, home[None, :])
    total = per_user.mean(axis=1)
    bad = (
        (~off & ~local_allowed(inst)[None, :]).any(axis=1)
        | (counts > inst.count_limit[None, :]).any(axis=1)
        | ~np.isfinite(total)
    )
    return np.where(bad, np.inf, total)


def _best_neighbour(inst: Instance, a: np.ndarray, swaps: bool) -> tuple[np.ndarray, float]:
    """The best single move (or swap) from ``a`` by :func:`batch_objective`."""
    n_users = inst.n_users
    if swaps:
        i, k = np.triu_indices(n_users, 1)
        keep = a[i] != a[k]
        i, k = i[keep], k[keep]
        cand = np.repeat(a[None, :], i.size, axis=0)
        rows = np.arange(i.size)
        cand[rows, i], cand[rows, k] = a[k], a[i]
    else:
        targets = np.arange(-1, inst.n_servers)
        i = np.repeat(np.arange(n_users), targets.size)
        t = np.tile(targets, n_users)
        keep = a[i] != t
        i, t = i[keep], t[keep]
        cand = np.repeat(a[None, :], i.size, axis=0)
        cand[np.arange(i.size), i] = t
    best, value = a, np.inf
    for start in range(0, cand.shape[0], BATCH):
        chunk = cand[start : start + BATCH]
        obj = batch_objective(inst, chunk)
        k = int(np.argmin(obj))
        if obj[k] < value:
            best, value = chunk[k].copy(), float(obj[k])
    return best, value


def improve_batched(
    inst: Instance, assignment: np.ndarray, *, time_budget: float = 2.0
) -> np.ndarray:
    """Best-improvement local search over single moves, then swaps, each neighbourhood
    scored as one numpy batch (:func:`batch_objective`) and every step confirmed by the
    evaluator (feasible and lower). Falls back to :func:`improve` for a step the batch
    ranks wrongly (a side row or budget it does not see)."""
    a = np.array(assignment, dtype=np.int64)
    best = evaluate(inst, a)
    if not best.feasible:
        return a
    deadline = time.perf_counter() + time_budget
    while time.perf_counter() < deadline:
        moved = False
        for swaps in (False, True):
            cand, value = _best_neighbour(inst, a, swaps)
            if value < best.objective - 1e-12 * abs(best.objective):
                m = evaluate(inst, cand)
                if m.feasible and m.objective < best.objective - 1e-12 * abs(best.objective):
                    a, best, moved = cand, m, True
                    break
                return _improve_sequential(
                    inst, a, time_budget=max(deadline - time.perf_counter(), 0.0)
                )
        if not moved:
            break
    return a


def improve(
    inst: Instance, assignment: np.ndarray, *, time_budget: float = 2.0, max_passes: int = 100
) -> np.ndarray:
    """Local search under the full model: best-improvement moves and swaps scored in numpy
    batches (:func:`improve_batched`), then, where the batch does not see every constraint
    (side rows, energy budgets), first-improvement moves and swaps scored one by one by the
    evaluator.

    Parameters
    ----------
    inst
        The instance (its own interference and queue models are used).
    assignment
        A feasible starting assignment; an infeasible one is returned unchanged.
    time_budget
        Wall-clock seconds after which the search stops (the result is still feasible).
    max_passes
        Upper bound on full passes of the one-by-one search.

    Returns
    -------
    numpy.ndarray
        A feasible assignment no worse than the start.
    """
    deadline = time.perf_counter() + time_budget
    a = np.asarray(assignment, dtype=np.int64)
    a = improve_batched(inst, a, time_budget=time_budget)
    exact_batch = (
        inst.min_accuracy is None and inst.max_hallucination is None and inst.energy_budget is None
    )
    if exact_batch:
        return a
    return _improve_sequential(
        inst, a, time_budget=max(deadline - time.perf_counter(), 0.0), max_passes=max_passes
    )


def _improve_sequential(
    inst: Instance, assignment: np.ndarray, *, time_budget: float, max_passes: int = 100
) -> np.ndarray:
    """Apply first-improvement single-user moves while they lower the objective, then
    swaps; every candidate scored by the evaluator. Parameters and return value as for
    :func:`improve`."""
    a = np.array(assignment, dtype=np.int64)
    best = evaluate(inst, a)
    if not best.feasible:
        return a
    deadline = time.perf_counter() + time_budget
    targets = np.arange(-1, inst.n_servers)
    for _ in range(max_passes):
        improved = False
        for i in range(inst.n_users):
            current = a[i]
            for t in targets:
                if t == current:
                    continue
                a[i] = t
                m = evaluate(inst, a)
                if m.feasible and m.objective < best.objective - 1e-12 * abs(best.objective):
                    best, current, improved = m, t, True
                else:
                    a[i] = current
            if time.perf_counter() > deadline:
                return a
        if not improved:
            best, improved = _swap_pass(inst, a, best, deadline)
            if not improved:
                break
    return a


def _swap_pass(
    inst: Instance, a: np.ndarray, best: Metrics, deadline: float
) -> tuple[Metrics, bool]:
    """Apply improving swaps of two users' places in ``a`` (in place), one pass."""
    improved = False
    for i in range(inst.n_users):
        for k in range(i + 1, inst.n_users):
            if a[i] == a[k]:
                continue
            a[i], a[k] = a[k], a[i]
            m = evaluate(inst, a)
            if m.feasible and m.objective < best.objective - 1e-12 * abs(best.objective):
                best, improved = m, True
            else:
                a[i], a[k] = a[k], a[i]
        if time.perf_counter() > deadline:
            break
    return best, improved
