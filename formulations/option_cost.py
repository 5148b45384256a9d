"""The option cost: what one user pays locally or on one ES, written once.

Every model, bound and the brute force price an option with :func:`option_cost`: user i on
ES j holding n users, under interference I (0 without it),

    t_comm = n D_i / (B_j log2(1 + P_i g_ij / (sigma_j^2 + I))),
    c_ij(n, I) = t_comm + t_edge_ij(n) + w^E_i P_i t_comm - w^A acc^E_i + w^H hal^E_i,

``inf`` where the ES cannot serve the user at that load (unreachable, unstable queue) and,
with the budget mask, where the uplink energy ``P_i t_comm`` exceeds the user's budget.
The local option costs :func:`local_cost`. Every cost is non-decreasing in n and in I.

The same cost comes in three shapes:

- :func:`option_cost`: any broadcast of users, ESs, counts and interference (brute force,
  the interval models, the interference bound);
- :func:`cost_table`: the ``(N, M, n_max)`` table of the count-indexed model;
- :class:`LayerCosts`: one layer ``(j, n)`` at a time, relative to answering locally and
  in MILP units, never storing ``N x M x N`` (the full table alone is 3.2 GB at
  N = 10,000); the pricing bounds and the fixed-count solver read it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mecopt.channel import comm_delay
from mecopt.formulations.milp import MS, ROW_ACCURACY, ROW_HALLUCINATION
from mecopt.instance import Instance
from mecopt.objective import cost, local_allowed, local_energy, offload_energy, within_budget
from mecopt.queues import QUEUE_MODELS

#: Memory the layer cache of :class:`LayerCosts` may use, bytes.
CACHE_BYTES = 400_000_000


def option_cost(inst: Instance, users: np.ndarray, es: np.ndarray | int,
                n: np.ndarray | int, interference: np.ndarray | float = 0.0, *,
                comm: np.ndarray | None = None, budget: bool = True) -> np.ndarray:
    """Cost (s) of ``users`` offloaded to ``es`` holding ``n`` users at ``interference``.

    Parameters
    ----------
    inst
        The instance.
    users, es, n, interference
        Broadcasting arrays (or scalars): user, ES, count ``n >= 1`` and interference (W).
    comm
        The uplink delay of these options when the caller has it already (it must equal
        the channel's ``comm_delay`` up to rounding); computed otherwise.
    budget
        Mask options whose uplink energy exceeds the user's energy budget (``inf``).

    Returns
    -------
    numpy.ndarray
        The weighted cost of :func:`mecopt.objective.cost` (the delay when no weight is
        set); ``inf`` where the option is impossible (never ``nan``).
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if comm is None:
            comm = comm_delay(inst, users, es, n, interference)
        delay = comm + QUEUE_MODELS.get(inst.queue).edge_delay(inst, users, es, n)
        energy = offload_energy(inst, users, comm)
        out = cost(inst, users, True, delay, energy)
        if budget and inst.energy_budget is not None:
            out = np.where(within_budget(inst, users, energy), out, np.inf)
    return np.where(np.isnan(out), np.inf, out)


def local_cost(inst: Instance) -> np.ndarray:
    """(N,) cost of answering locally, seconds (finite even where local is not allowed)."""
    return cost(inst, slice(None), False, inst.local_delay, local_energy(inst))


def must_offload(inst: Instance) -> np.ndarray:
    """(N,) bool: users that may not stay local (uncertainty rule or local energy budget)."""
    return ~local_allowed(inst)


def prunable(inst: Instance) -> np.ndarray:
    """(N,) bool: users whose dominated offloads may be dropped.

    A user that may stay local and whose move home can break neither quality row (no
    accuracy target or ``acc^E_i <= acc^L_i``; no hallucination cap or
    ``hal^L_i <= hal^E_i``) is never offloaded at a cost at or above its local cost in some
    optimal solution.
    """
    free = local_allowed(inst)
    if inst.min_accuracy is not None:
        free &= inst.acc_edge <= inst.acc_local
    if inst.max_hallucination is not None:
        free &= inst.hall_local <= inst.hall_edge
    return free


def _grid(inst: Instance, n_max: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    users = np.arange(inst.n_users)[:, None, None]
    es = np.arange(inst.n_servers)[None, :, None]
    return users, es, np.arange(1, n_max + 1)[None, None, :]


def delay_table(inst: Instance, n_max: int) -> np.ndarray:
    """Interference-free offload delays ``d[i, j, n-1]`` for n = 1..n_max, seconds.

    ``inf`` where the ES cannot serve the user at that load.
    """
    users, es, n = _grid(inst, n_max)
    comm = comm_delay(inst, users, es, n)
    return comm + QUEUE_MODELS.get(inst.queue).edge_delay(inst, users, es, n)


def cost_table(inst: Instance, n_max: int) -> np.ndarray:
    """Interference-free offload costs ``c[i, j, n-1]`` for n = 1..n_max, seconds
    (:func:`option_cost` on the grid of users, ESs and counts). Non-decreasing in n."""
    users, es, n = _grid(inst, n_max)
    return option_cost(inst, users, es, n)


@dataclasses.dataclass(frozen=True, eq=False)
class SideRow:
    """One linear side constraint ``sum_{i offloaded} gain_i >= need``.

    The accuracy target has ``gain = acc^E - acc^L``; the hallucination cap, written the
    same way, ``gain = hal^L - hal^E``.
    """

    name: str
    gain: np.ndarray
    need: float
    kind: int


def side_rows(inst: Instance) -> tuple[SideRow, ...]:
    """The side rows (accuracy target, hallucination cap) of ``inst`` in gain form."""
    side: list[SideRow] = []
    if inst.min_accuracy is not None:
        side.append(SideRow(
            "accuracy", inst.acc_edge - inst.acc_local,
            inst.n_users * inst.min_accuracy - float(inst.acc_local.sum()), ROW_ACCURACY))
    if inst.max_hallucination is not None:
        side.append(SideRow(
            "hallucination", inst.hall_local - inst.hall_edge,
            float(inst.hall_local.sum()) - inst.n_users * inst.max_hallucination,
            ROW_HALLUCINATION))
    return tuple(side)


@dataclasses.dataclass(frozen=True, eq=False)
class LayerCosts:
    """Per-layer option costs of the interference-free instance ``inst`` (MILP units, ms).

    A *layer* ``(j, n)`` is "ES j holds exactly n users".

    Attributes
    ----------
    inst
        The instance (interference is ignored: the costs are interference-free).
    local
        (N,) cost of answering locally, ms; finite even where local is not allowed.
    forced
        (N,) bool: users that may not stay local (uncertainty rule, local energy budget).
    free
        (N,) bool: users whose dominated offloads may be dropped (:func:`prunable`).
    limit
        (M,) the largest count each ES may hold.
    side
        The side rows (accuracy target, hallucination cap) in gain form.
    """

    inst: Instance
    local: np.ndarray
    forced: np.ndarray
    free: np.ndarray
    limit: np.ndarray
    side: tuple[SideRow, ...]
    _comm1: np.ndarray
    _cache: dict[tuple[int, int], np.ndarray] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, inst: Instance) -> LayerCosts:
        """Precompute what every layer needs (O(N M))."""
        users = np.arange(inst.n_users)[:, None]
        es = np.arange(inst.n_servers)[None, :]
        comm1 = comm_delay(inst, users, es, np.ones((1, 1)))
        return cls(inst=inst, local=local_cost(inst) * MS, forced=must_offload(inst),
                   free=prunable(inst), limit=inst.count_limit, side=side_rows(inst),
                   _comm1=comm1)

    @property
    def constant(self) -> float:
        """Objective constant: every user local."""
        return float(self.local.sum())

    def offload(self, j: int, n: int) -> np.ndarray:
        """(N,) cost (ms) of each user on ES ``j`` when it holds ``n`` users; ``inf`` if
        impossible."""
        users = np.arange(self.inst.n_users)
        with np.errstate(over="ignore", invalid="ignore"):
            comm = self._comm1[:, j] * n  # the uplink delay is linear in n
            return option_cost(self.inst, users, j, n, comm=comm) * MS

    def relative(self, j: int, n: int) -> np.ndarray:
        """(N,) MILP coefficient of ``x_ijn`` (offload minus local cost); ``inf`` where the
        column does not exist (impossible, above the count limit, or dominated).

        Layers are cached (up to ``CACHE_BYTES``): pricing asks for the same ones again
        and again. The returned array is read-only.
        """
        key = (int(j), int(n))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if n < 1 or n > self.limit[j]:
            r = np.full(self.inst.n_users, np.inf)
        else:
            with np.errstate(invalid="ignore"):
                r = self.offload(j, n) - self.local
            r[~np.isfinite(r)] = np.inf
            r[self.free & (r >= 0)] = np.inf
        r.setflags(write=False)
        if (len(self._cache) + 1) * r.nbytes <= CACHE_BYTES:
            self._cache[key] = r
        return r

    def side_gain(self) -> np.ndarray:
        """(S, N) gains of the side rows."""
        if not self.side:
            return np.zeros((0, self.inst.n_users))
        return np.stack([s.gain for s in self.side])

    def side_need(self) -> np.ndarray:
        """(S,) right-hand sides of the side rows."""
        return np.array([s.need for s in self.side], dtype=float)
