"""Per-user energy, hallucination and weighted cost of an option, shared by every model.

The evaluator, the count-indexed MILP and brute force all price an option (user i local, or
on ES j with n users) with these functions, so they agree on energy budgets and on the
objective:

- energy: ``E_i^L`` (``local_energy``, 0 when unset) locally, ``P_i t_comm_ij`` offloaded;
- cost: ``delay + cost_energy_i energy - cost_accuracy acc + cost_hallucination hall``,
  where acc and hall are those of the chosen model. The objective is the mean cost; with no
  weight set the cost is the delay itself (bit for bit).
"""

from __future__ import annotations

import numpy as np

from mecopt.instance import Instance

#: Relative slack on energy budgets (the MILP and the evaluator compute the same floats,
#: the slack only absorbs rounding).
ENERGY_TOL = 1e-9


def local_energy(inst: Instance, users: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Energy (J) of answering locally: ``local_energy`` or 0 when it is unset."""
    if inst.local_energy is None:
        return np.zeros(np.arange(inst.n_users)[users].shape)
    return inst.local_energy[users]


def offload_energy(inst: Instance, users: np.ndarray, comm: np.ndarray) -> np.ndarray:
    """Uplink energy (J) ``P_i t_comm`` of ``users`` given their uplink times ``comm``."""
    return inst.tx_power[users] * comm


def within_budget(inst: Instance, users: np.ndarray | slice, energy: np.ndarray) -> np.ndarray:
    """Bool array: ``energy`` of ``users`` respects their ``energy_budget`` (all True if unset)."""
    energy = np.asarray(energy)
    if inst.energy_budget is None:
        return np.ones(energy.shape, dtype=bool)
    budget = inst.energy_budget[users]
    return energy <= budget * (1.0 + ENERGY_TOL)


def local_allowed(inst: Instance) -> np.ndarray:
    """(N,) bool: users who may answer locally (not forced by tau, local energy in budget)."""
    return ~inst.forced & within_budget(inst, slice(None), local_energy(inst))


def hallucination(inst: Instance, users: np.ndarray | slice,
                  edge: np.ndarray | bool) -> np.ndarray | None:
    """Hallucination probability of the chosen model, ``None`` without hallucination data."""
    if inst.hall_local is None or inst.hall_edge is None:
        return None
    return np.where(edge, inst.hall_edge[users], inst.hall_local[users])


def cost(inst: Instance, users: np.ndarray | slice, edge: np.ndarray | bool,
         delay: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """Weighted per-user cost (s) of an option; ``delay`` itself when no weight is set.

    Parameters
    ----------
    inst
        The instance.
    users
        User indices (any shape broadcasting with the other arguments) or a slice.
    edge
        True where the option is an offload (edge model), False where it is local.
    delay, energy
        Delay (s) and energy (J) of the option.
    """
    out = delay
    if inst.cost_energy is not None:
        weight = inst.cost_energy[users]
        with np.errstate(invalid="ignore"):
            out = out + np.where(weight > 0, weight * energy, 0.0)
    if inst.cost_accuracy > 0:
        out = out - inst.cost_accuracy * np.where(edge, inst.acc_edge[users],
                                                  inst.acc_local[users])
    if inst.cost_hallucination > 0:
        out = out + inst.cost_hallucination * hallucination(inst, users, edge)
    return out
