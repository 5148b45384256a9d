"""The evaluator: the single source of truth for delay, accuracy, energy, hallucination,
the objective and feasibility.

Every solver's answer, exact or heuristic, is re-evaluated here before it is reported.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mecopt.channel import INTERFERENCE, comm_delay
from mecopt.instance import Instance
from mecopt.objective import cost, hallucination, local_energy, offload_energy, within_budget
from mecopt.queues import QUEUE_MODELS

#: Slack allowed on the accuracy target (solvers work with rounded coefficients).
ACCURACY_TOL = 1e-9
#: Slack allowed on the hallucination cap.
HALLUCINATION_TOL = ACCURACY_TOL
_MAX_LISTED = 5


@dataclasses.dataclass(frozen=True, eq=False)
class Metrics:
    """What an assignment achieves on an instance.

    Attributes
    ----------
    mean_delay
        Mean delay over all N users, seconds (``inf`` if some user cannot be served).
    objective
        What every solver minimises, seconds: the mean over users of ``delay_i +
        cost_energy_i energy_i - cost_accuracy acc_i + cost_hallucination hall_i``; equal to
        ``mean_delay`` when the instance sets no weight.
    accuracy
        Mean served accuracy: the expected share of users answered correctly.
    mean_energy
        Mean energy per user, J.
    mean_hallucination
        Mean hallucination probability of the served models; ``None`` when the instance has
        no hallucination data.
    feasible
        True when no constraint is violated and every delay is finite.
    violations
        Readable descriptions of every violated constraint (empty when feasible).
    delay, comm_delay, edge_delay
        (N,) per-user delay and, for offloaded users, its uplink and edge parts (zero for
        local users), seconds.
    users_per_es
        (M,) number of users offloaded to each ES.
    n_offloaded
        Number of offloaded users.
    energy
        (N,) energy of each user's choice, J: ``local_energy`` (0 when unset) locally,
        ``tx_power * comm_delay`` offloaded.
    hallucination
        (N,) hallucination probability of each user's model, or ``None``.
    """

    mean_delay: float
    objective: float
    accuracy: float
    feasible: bool
    violations: tuple[str, ...]
    delay: np.ndarray
    comm_delay: np.ndarray
    edge_delay: np.ndarray
    users_per_es: np.ndarray
    n_offloaded: int
    energy: np.ndarray
    mean_energy: float
    hallucination: np.ndarray | None
    mean_hallucination: float | None


def check_assignment(inst: Instance, assignment: object) -> np.ndarray:
    """Return ``assignment`` as a read-only int64 array after validating it.

    Raises
    ------
    ValueError
        If the shape is not (N,), a value is not a whole number, or it lies outside
        ``-1 .. M-1``; the message names the first offending index.
    """
    arr = np.asarray(assignment)
    if arr.shape != (inst.n_users,):
        raise ValueError(f"assignment must have shape ({inst.n_users},), got {arr.shape}")
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"assignment must hold integers, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            bad = next(i for i, v in enumerate(arr.tolist()) if not float(v).is_integer())
            raise ValueError(f"assignment[{bad}] = {arr[bad].item()!r}: must be a whole number")
    bad = np.flatnonzero((arr < -1) | (arr >= inst.n_servers))  # before any int cast
    if bad.size:
        raise ValueError(
            f"assignment[{bad[0]}] = {arr[bad[0]].item()!r}: must be -1 (local) or an ES index "
            f"0..{inst.n_servers - 1}"
        )
    out = arr.astype(np.int64)
    out.setflags(write=False)
    return out


def evaluate(inst: Instance, assignment: object) -> Metrics:
    """Evaluate an assignment: delays, energy, accuracy, hallucination, objective, feasibility.

    Parameters
    ----------
    inst
        The instance.
    assignment
        (N,) integers: ``-1`` answers locally, ``j >= 0`` offloads to ES ``j``.

    Returns
    -------
    Metrics
        Delays follow the model in :mod:`mecopt.formulations` with the instance's
        interference and queue models.

    Examples
    --------
    >>> import mecopt
    >>> inst = mecopt.scenario("uniform", 6, seed=1)
    >>> m = mecopt.evaluate(inst, [-1] * 6)
    >>> bool(m.feasible), m.n_offloaded
    (True, 0)
    """
    a = check_assignment(inst, assignment)
    n_es = inst.n_servers
    off = a >= 0
    users = np.flatnonzero(off)
    es = a[off]
    counts = np.bincount(es, minlength=n_es)
    interference = INTERFERENCE.get(inst.interference).interference(inst, a)

    comm = np.zeros(inst.n_users)
    edge = np.zeros(inst.n_users)
    if users.size:
        n = counts[es]
        comm[users] = comm_delay(inst, users, es, n, interference[es])
        edge[users] = QUEUE_MODELS.get(inst.queue).edge_delay(inst, users, es, n)
    delay = np.where(off, comm + edge, inst.local_delay)
    accuracy = float(np.mean(np.where(off, inst.acc_edge, inst.acc_local)))
    everyone = np.arange(inst.n_users)
    energy = np.where(off, offload_energy(inst, everyone, comm), local_energy(inst))
    hall = hallucination(inst, everyone, off)
    mean_hall = None if hall is None else float(np.mean(hall))
    objective = float(np.mean(cost(inst, everyone, off, delay, energy)))

    violations: list[str] = []
    forced_local = np.flatnonzero(inst.forced & ~off)
    if forced_local.size:
        listed = ", ".join(
            f"user {i} (alpha={inst.alpha[i]:.4g})" for i in forced_local[:_MAX_LISTED]
        )
        more = f" and {forced_local.size - _MAX_LISTED} more" if forced_local.size > 5 else ""
        violations.append(
            f"uncertainty rule (alpha > tau = {inst.tau:g}) broken: {listed}{more} answered "
            "locally"
        )
    if inst.min_accuracy is not None and accuracy < inst.min_accuracy - ACCURACY_TOL:
        violations.append(
            f"mean accuracy {accuracy:.6f} is below min_accuracy {inst.min_accuracy:.6f}"
        )
    if (inst.max_hallucination is not None and mean_hall is not None
            and mean_hall > inst.max_hallucination + HALLUCINATION_TOL):
        violations.append(f"mean hallucination {mean_hall:.6f} is above max_hallucination "
                          f"{inst.max_hallucination:.6f}")
    over = np.flatnonzero(np.isfinite(energy) & ~within_budget(inst, everyone, energy))
    if over.size:
        listed = ", ".join(
            f"user {i} ({'local' if a[i] < 0 else f'ES {a[i]}'}: {energy[i]:.6g} J > "
            f"{inst.energy_budget[i]:.6g} J)" for i in over[:_MAX_LISTED])
        more = f" and {over.size - _MAX_LISTED} more" if over.size > _MAX_LISTED else ""
        violations.append(f"energy_budget exceeded: {listed}{more}")
    if inst.max_users is not None:
        for j in np.flatnonzero(counts > inst.max_users):
            violations.append(f"ES {j} serves {counts[j]} users > max_users {inst.max_users[j]}")
    unserved = np.flatnonzero(~np.isfinite(delay))
    for i in unserved[:_MAX_LISTED]:
        j = a[i]
        reason = (
            "its channel gain is zero"
            if inst.gain[i, j] == 0
            else f"queue {inst.queue!r} is unstable at {counts[j]} users"
        )
        violations.append(f"user {i} cannot be served by ES {j}: {reason}")
    if unserved.size > _MAX_LISTED:
        violations.append(f"... and {unserved.size - _MAX_LISTED} more users cannot be served")

    for arr in (delay, comm, edge, counts, energy) + (() if hall is None else (hall,)):
        arr.setflags(write=False)
    return Metrics(
        mean_delay=float(np.mean(delay)),
        objective=objective,
        accuracy=accuracy,
        feasible=not violations,
        violations=tuple(violations),
        delay=delay,
        comm_delay=comm,
        edge_delay=edge,
        users_per_es=counts,
        n_offloaded=int(users.size),
        energy=energy,
        mean_energy=float(np.mean(energy)),
        hallucination=hall,
        mean_hallucination=mean_hall,
    )
