"""Edge-server queue models: the edge compute delay of a user as a function of its ES's load.

Every model here gives user i on ES j, with n_j users on that ES, a delay that depends on
the ES only through n_j (plus the instance's fixed per-ES ``edge_wait``, when set, which
every model adds). That is what lets the exact formulation (a count-indexed MILP, see
``mecopt.formulations``) represent it exactly: the delay is tabulated for every n.
A load the queue cannot carry (utilisation >= 1) gives an infinite delay, which the
evaluator reports as infeasible and the formulation excludes; never NaN or a negative value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from mecopt.registry import Registry

if TYPE_CHECKING:
    from mecopt.instance import Instance


class QueueModel(Protocol):
    """Strategy object computing edge delays."""

    name: str

    def edge_delay(
        self, inst: Instance, users: np.ndarray, es: np.ndarray, n: np.ndarray
    ) -> np.ndarray:
        """Edge delay (s) of ``users`` on ES ``es`` when that ES holds ``n`` users.

        The three arrays broadcast together; ``n >= 1``. Returns ``inf`` where the load is
        beyond what the ES can serve.
        """
        ...


def fixed_wait(inst: Instance, es: np.ndarray) -> np.ndarray | float:
    """The instance's fixed wait (s) at ``es`` (``edge_wait``), 0 when unset."""
    return 0.0 if inst.edge_wait is None else inst.edge_wait[es]


class ProcessorSharing:
    """Processor sharing: user i gets the share ``min(C_max_j, C_j / n_j)``.

    Delay ``W_i / min(C_max_j, C_j / n_j)``; this is the contention model of the published
    system (arXiv 2602.07958). Every load is feasible.
    """

    name = "processor-sharing"

    def edge_delay(
        self, inst: Instance, users: np.ndarray, es: np.ndarray, n: np.ndarray
    ) -> np.ndarray:
        share = np.minimum(inst.per_user_cap[es], inst.capacity[es] / n)
        return inst.edge_work[users] / share + fixed_wait(inst, es)


class _SingleServerQueue:
    """Single-server FIFO queue fed by ``n_j`` users each sending ``lambda`` queries/s.

    The ES serves one query at a time at its full rate C_j: user i's own service time is
    ``W_i / C_j``. The queue's service rate is ``mu_j = C_j / mean(W)`` queries/s (the
    instance's mean edge work), its utilisation ``rho = n_j lambda / mu_j``, and the
    steady-state wait ``Wq`` follows the model's formula; ``rho >= 1`` is unstable
    (infinite delay).
    """

    name = ""
    #: Wq = factor * rho / (mu (1 - rho)): 1 for M/M/1, 1/2 for M/D/1 (Pollaczek-Khinchine).
    wait_factor = 1.0

    def edge_delay(
        self, inst: Instance, users: np.ndarray, es: np.ndarray, n: np.ndarray
    ) -> np.ndarray:
        cap = inst.capacity[es]
        mu = cap / float(np.mean(inst.edge_work))
        rho = np.asarray(n, dtype=float) * inst.arrival_rate / mu
        stable = rho < 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            wait = np.where(stable, self.wait_factor * rho / (mu * (1.0 - rho)), np.inf)
        return inst.edge_work[users] / cap + wait + fixed_wait(inst, es)


class MM1(_SingleServerQueue):
    """M/M/1 queue: Poisson arrivals, exponential service (see :class:`_SingleServerQueue`)."""

    name = "mm1"
    wait_factor = 1.0


class MD1(_SingleServerQueue):
    """M/D/1 queue: Poisson arrivals, deterministic service (see :class:`_SingleServerQueue`)."""

    name = "md1"
    wait_factor = 0.5


#: The queue models by name.
QUEUE_MODELS: Registry[QueueModel] = Registry("queue model")
for _model in (ProcessorSharing(), MM1(), MD1()):
    QUEUE_MODELS.register(_model.name, _model)
