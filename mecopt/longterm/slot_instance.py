"""A slot of the long-term system as an ordinary one-shot :class:`mecopt.Instance`.

The users of the instance are the devices with a query in the slot. Everything the slot's
latency and energy depend on maps onto instance fields: the uplink (gain, bandwidth,
noise, power), processor sharing at the ES (capacity, per-query cap, edge work), the local
time and energy, and both models' accuracy and hallucination probabilities. The ES backlog
``Q_j(t)`` delays every query offloaded to ES j by the same ``Q_j(t) / C_j``: it is the
instance's optional per-ES ``edge_wait`` (s), which the evaluator, the heuristics and the
exact formulation add to every offload to that ES. The device-buffer wait (Poisson
arrivals) is the same whatever the decision, so it is left out. Hence
``mecopt.evaluate(inst, actions - 1)`` gives the simulator's per-query latencies minus the
device-buffer wait, and its energies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mecopt.instance import Instance
from mecopt.longterm.simulator import LOCAL, NO_QUERY, Observation


def slot_instance(obs: Observation, b: int = 0, **fields: Any) -> tuple[Instance | None,
                                                                     np.ndarray]:
    """The instance of slot ``obs.t`` of batch member ``b``.

    Parameters
    ----------
    obs
        The observation at the start of the slot.
    b
        Batch member.
    **fields
        Further instance fields (``tau``, ``min_accuracy``, ``energy_budget``,
        ``cost_energy``, ...), for the users in order.

    Returns
    -------
    (Instance or None, numpy.ndarray)
        The instance (``None`` when no device has a query) and the device index of each of
        its users.
    """
    users = np.flatnonzero(obs.has_query[b])
    if users.size == 0:
        return None, users
    inst = Instance(
        alpha=obs.alpha[b, users], acc_local=obs.acc_local[b, users],
        acc_edge=obs.acc_edge[b, users], local_delay=obs.local_delay[b, users],
        prompt_bits=obs.prompt_bits[b, users], edge_work=obs.edge_work[b, users],
        tx_power=obs.tx_power[b, users], gain=obs.gain[b, users], bandwidth=obs.bandwidth[b],
        noise=obs.noise[b], capacity=obs.capacity[b], per_user_cap=obs.per_user_cap[b],
        edge_wait=obs.backlog_wait[b], local_energy=obs.local_energy[b, users],
        hall_local=obs.hall_local[b, users], hall_edge=obs.hall_edge[b, users],
        meta={"longterm_slot": int(obs.t), "batch_member": int(b)}, **fields,
    )
    return inst, users


def score_assignments(obs: Observation, b: int, candidates: np.ndarray,
                      **weights: Any) -> np.ndarray:
    """The exact slot objective of candidate joint decisions of member ``b``.

    Parameters
    ----------
    obs
        The observation at the start of the slot.
    b
        Batch member (it must have at least one query).
    candidates
        (K, U) simulator actions (0 local, ``j + 1`` ES j; entries of devices without a
        query are ignored) or (K, n) instance assignments of the slot's users (-1 local).
    **weights
        Instance weights (``cost_accuracy``, ``cost_hallucination``, ``cost_energy`` for
        the slot's users, ...): the prices of :class:`~mecopt.longterm.priced.PricedPolicy`
        or :class:`~mecopt.longterm.lyapunov.LyapunovPolicy`.

    Returns
    -------
    numpy.ndarray
        (K,) each candidate's objective as :func:`mecopt.evaluate` scores it on the slot
        instance: mean over the slot's queries of delay (ES backlog wait included, device
        buffer wait left out) plus the weighted energy, accuracy and hallucination terms,
        in s; ``inf`` for a candidate that breaks an instance constraint.
    """
    import mecopt

    inst, users = slot_instance(obs, b, **weights)
    if inst is None:
        raise ValueError(f"batch member {b} has no query in slot {obs.t}: nothing to score")
    cand = np.atleast_2d(np.asarray(candidates, dtype=np.int64))
    if cand.shape[1] == obs.has_query.shape[1]:
        cand = cand[:, users] - 1
    elif cand.shape[1] != users.size:
        raise ValueError(f"candidates must be (K, U = {obs.has_query.shape[1]}) actions or "
                         f"(K, n = {users.size}) assignments, got {cand.shape}")
    out = np.empty(cand.shape[0])
    for k, a in enumerate(cand):
        m = mecopt.evaluate(inst, a)
        out[k] = m.objective if m.feasible else np.inf
    return out


def to_actions(assignment: np.ndarray) -> np.ndarray:
    """Instance assignment (-1 local, j ES j) to simulator actions (0 local, j + 1)."""
    return np.asarray(assignment, dtype=np.int64) + 1


def scatter(n_devices: int, users: np.ndarray, assignment: np.ndarray) -> np.ndarray:
    """(U,) actions of one batch member from the assignment of its slot instance."""
    out = np.full(n_devices, NO_QUERY, dtype=np.int64)
    out[users] = to_actions(assignment)
    return out


__all__ = ["LOCAL", "scatter", "score_assignments", "slot_instance", "to_actions"]
