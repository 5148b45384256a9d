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


def to_actions(assignment: np.ndarray) -> np.ndarray:
    """Instance assignment (-1 local, j ES j) to simulator actions (0 local, j + 1)."""
    return np.asarray(assignment, dtype=np.int64) + 1


def scatter(n_devices: int, users: np.ndarray, assignment: np.ndarray) -> np.ndarray:
    """(U,) actions of one batch member from the assignment of its slot instance."""
    out = np.full(n_devices, NO_QUERY, dtype=np.int64)
    out[users] = to_actions(assignment)
    return out


__all__ = ["LOCAL", "scatter", "slot_instance", "to_actions"]
