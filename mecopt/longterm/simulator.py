"""The slot simulator: the single evaluator of the long-term system, stepwise and batched.

:class:`Simulator` runs a :class:`~mecopt.longterm.traces.Trace` (B realisations at once) slot
by slot. At the start of slot t, :meth:`Simulator.observe` gives an :class:`Observation`
(what a controller may know); :meth:`Simulator.step` takes a (B, U) action array and returns
the :class:`SlotOutcome`. The model of one slot, for query i of device u offloaded to ES j
together with ``n_j`` queries of its batch member:

- upload ``t_up = D_i n_j / (B_j log2(1 + P_u g_uj(t) / sigma_j^2))`` (equal bandwidth
  shares, orthogonal cells);
- wait behind the ES backlog ``Q_j(t) / C_j`` (FIFO: the work queued before this slot);
- processing ``W_i / min(C^max_j, C_j / n_j)`` (processor sharing within the slot);
- energy ``P_u t_up``; a local answer takes ``t^L_i`` and ``E^L_i``;
- every query's latency adds its wait in the device buffer (Poisson arrivals only);
- backlog ``Q_j(t+1) = max(Q_j(t) + sum_{i on j} W_i - C_j Delta, 0)``.

The simulator also keeps the virtual queues of the three long-term constraints, in natural
units, so controllers (Lyapunov, learned policies) can observe them:

- energy, per device (J): ``Z_u(t+1) = max(Z_u(t) + e_u(t) - b_u, 0)``;
- accuracy (queries): ``Y(t+1) = max(Y(t) + sum_i (A_min - acc_i), 0)``;
- hallucination (queries): ``H(t+1) = max(H(t) + sum_i (hall_i - H_max), 0)``;

a constraint that is off (``None``) keeps its queue at 0.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mecopt.longterm.traces import Trace

#: Action of a device without a query (any value is accepted there and ignored).
NO_QUERY = -1
#: Action that answers locally; ``j + 1`` offloads to ES j.
LOCAL = 0


class ActionError(ValueError):
    """An action array of the wrong shape or with a value outside -1..M on a query."""


@dataclasses.dataclass(frozen=True, eq=False)
class Observation:
    """What a controller may know at the start of slot ``t`` (arrays of the batch).

    Attributes
    ----------
    t
        Slot index.
    has_query
        (B, U) bool: the device launches a query now; actions of other devices are ignored.
    alpha, acc_local, acc_edge, hall_local, hall_edge
        (B, U) the query's uncertainty and both models' correctness and hallucination
        probabilities (the realised outcomes are not observable).
    local_delay, local_energy, prompt_bits, edge_work, device_wait
        (B, U) the query's local time (s), local energy (J), payload (bit), edge work (FLOP)
        and the time it already waited in the device buffer (s).
    gain, spectral_eff
        (B, U, M) channel gain of this slot and ``log2(1 + P g / sigma^2)`` (bit/s/Hz).
    position
        (B, U, 2) device positions, m.
    backlog, backlog_wait
        (B, M) ES backlog ``Q_j(t)`` (FLOP) and the wait it imposes, ``Q_j / C_j`` (s).
    energy_queue, accuracy_queue, hallucination_queue
        (B, U), (B,), (B,) the virtual queues (see the module docstring).
    energy_used, n_queries, accuracy_sum, hallucination_sum, latency_sum
        Running totals over slots ``0..t-1``: (B, U) J per device, and (B,) queries served,
        sums of effective accuracy, hallucination probability and latency (s).
    capacity, per_user_cap, bandwidth, noise
        (B, M) ES compute (FLOP/s), per-query cap (FLOP/s), bandwidth (Hz), noise (W).
    tx_power, energy_budget
        (B, U) transmit power (W), energy budget (J per slot).
    slot_s, min_accuracy, max_hallucination, horizon
        Slot length (s), the long-term targets (``None`` when off) and T.
    """

    t: int
    has_query: np.ndarray
    alpha: np.ndarray
    acc_local: np.ndarray
    acc_edge: np.ndarray
    hall_local: np.ndarray
    hall_edge: np.ndarray
    local_delay: np.ndarray
    local_energy: np.ndarray
    prompt_bits: np.ndarray
    edge_work: np.ndarray
    device_wait: np.ndarray
    gain: np.ndarray
    spectral_eff: np.ndarray
    position: np.ndarray
    backlog: np.ndarray
    backlog_wait: np.ndarray
    energy_queue: np.ndarray
    accuracy_queue: np.ndarray
    hallucination_queue: np.ndarray
    energy_used: np.ndarray
    n_queries: np.ndarray
    accuracy_sum: np.ndarray
    hallucination_sum: np.ndarray
    latency_sum: np.ndarray
    capacity: np.ndarray
    per_user_cap: np.ndarray
    bandwidth: np.ndarray
    noise: np.ndarray
    tx_power: np.ndarray
    energy_budget: np.ndarray
    slot_s: float
    min_accuracy: float | None
    max_hallucination: float | None
    horizon: int


@dataclasses.dataclass(frozen=True, eq=False)
class SlotArrays:
    """The arrays a slot produces, shared by :class:`SlotOutcome` (one slot of a batch: a
    leading batch axis B) and :class:`~mecopt.longterm.rollout.SlotRecords` (every slot of
    one trace member: a leading slot axis T). Per-device arrays hold 0 (False) where there is
    no query.

    Attributes
    ----------
    actions
        (., U) the actions (0 local, j + 1 ES j), -1 where there is no query.
    latency, upload, queue_wait, processing, device_wait
        (., U) per query, s: the latency and, for offloads, its upload, ES-backlog wait and
        processing parts; the device-buffer wait is part of every latency.
    energy
        (., U) J spent by each device in the slot.
    accuracy, hallucination
        (., U) effective accuracy and hallucination probability of the serving model.
    correct, hallucinated
        (., U) bool realised outcomes.
    counts
        (., M) queries offloaded to each ES.
    backlog
        (., M) ES backlog (FLOP) after the slot; in :class:`SlotRecords` (T + 1, M), the
        backlog at the start of each slot and after the last.
    energy_queue, accuracy_queue, hallucination_queue
        (., U), (.,), (.,) the virtual queues after the slot.
    """

    actions: np.ndarray
    latency: np.ndarray
    upload: np.ndarray
    queue_wait: np.ndarray
    processing: np.ndarray
    device_wait: np.ndarray
    energy: np.ndarray
    accuracy: np.ndarray
    hallucination: np.ndarray
    correct: np.ndarray
    hallucinated: np.ndarray
    counts: np.ndarray
    backlog: np.ndarray
    energy_queue: np.ndarray
    accuracy_queue: np.ndarray
    hallucination_queue: np.ndarray


@dataclasses.dataclass(frozen=True, eq=False)
class SlotOutcome(SlotArrays):
    """What slot t produced: the :class:`SlotArrays` of the slot, (B, U) and (B, M), with the
    slot index and the offloaded work.

    Attributes
    ----------
    t
        Slot index.
    work
        (B, M) work (FLOP) offloaded to each ES.
    """

    t: int
    work: np.ndarray


class Simulator:
    """Step a trace (all B members at once) through its T slots.

    Parameters
    ----------
    trace
        The trace.
    validate
        Check every action array (shape, whole numbers, range on query cells). Turn it off
        only for trusted array policies in throughput runs.

    Examples
    --------
    >>> import numpy as np
    >>> import mecopt.longterm as lt
    >>> sim = lt.Simulator(lt.trace(n_devices=3, horizon=2, seed=0))
    >>> obs = sim.reset()
    >>> out = sim.step(np.where(obs.has_query, 1, -1))   # everyone with a query -> ES 0
    >>> sim.t, sim.done
    (1, False)
    """

    def __init__(self, trace: Trace, *, validate: bool = True) -> None:
        if not isinstance(trace, Trace):
            raise TypeError(f"trace must be a mecopt.longterm.Trace, got {type(trace).__name__}")
        self.trace = trace
        self.validate = validate
        b, m = trace.batch, trace.n_servers
        scen = trace.scenario
        snr = trace.tx_power[:, None, :, None] * trace.gain / trace.noise[:, None, None, :]
        #: (B, T, U, M) spectral efficiency, bit/s/Hz (channel-only, precomputed).
        self.spectral_eff = np.log2(1.0 + snr)
        self._row = (np.arange(b) * m)[:, None]
        self._cap_flat = trace.capacity.ravel()
        self._share_flat = np.minimum(trace.per_user_cap, trace.capacity).ravel()
        self._bw_flat = trace.bandwidth.ravel()
        self._drain = trace.capacity * scen.slot_s
        self._a_min = scen.min_accuracy
        self._h_max = scen.max_hallucination
        self.reset()

    # ------------------------------------------------------------------ state
    def reset(self) -> Observation:
        """Go back to slot 0 with empty queues; return the first observation."""
        tr = self.trace
        b, u, m = tr.batch, tr.n_devices, tr.n_servers
        self.t = 0
        self.backlog = np.zeros((b, m))
        self.energy_queue = np.zeros((b, u))
        self.accuracy_queue = np.zeros(b)
        self.hallucination_queue = np.zeros(b)
        self.energy_used = np.zeros((b, u))
        self.n_queries = np.zeros(b)
        self.accuracy_sum = np.zeros(b)
        self.hallucination_sum = np.zeros(b)
        self.latency_sum = np.zeros(b)
        self._freeze()
        return self.observe()

    _STATE = ("backlog", "energy_queue", "accuracy_queue", "hallucination_queue",
              "energy_used", "n_queries", "accuracy_sum", "hallucination_sum", "latency_sum")

    def _freeze(self) -> None:
        """Make the state arrays read-only: observations share them."""
        for name in self._STATE:
            getattr(self, name).setflags(write=False)

    @property
    def done(self) -> bool:
        """True once every slot has been stepped."""
        return self.t >= self.trace.horizon

    def observe(self) -> Observation:
        """The observation at the start of the current slot.

        Its arrays are read-only views or snapshots: the simulator replaces (never
        modifies) its state arrays when it steps, so an observation stays valid.

        Raises
        ------
        IndexError
            After the last slot.
        """
        if self.done:
            raise IndexError(f"the horizon of {self.trace.horizon} slots is over")
        tr, t = self.trace, self.t
        scen = tr.scenario
        return Observation(
            t=t, has_query=tr.has_query[:, t], alpha=tr.alpha[:, t],
            acc_local=tr.acc_local[:, t], acc_edge=tr.acc_edge[:, t],
            hall_local=tr.hall_local[:, t], hall_edge=tr.hall_edge[:, t],
            local_delay=tr.local_delay[:, t], local_energy=tr.local_energy[:, t],
            prompt_bits=tr.prompt_bits[:, t], edge_work=tr.edge_work[:, t],
            device_wait=tr.device_wait[:, t], gain=tr.gain[:, t],
            spectral_eff=self.spectral_eff[:, t], position=tr.position[:, t],
            backlog=self.backlog, backlog_wait=self.backlog / tr.capacity,
            energy_queue=self.energy_queue, accuracy_queue=self.accuracy_queue,
            hallucination_queue=self.hallucination_queue, energy_used=self.energy_used,
            n_queries=self.n_queries, accuracy_sum=self.accuracy_sum,
            hallucination_sum=self.hallucination_sum, latency_sum=self.latency_sum,
            capacity=tr.capacity,
            per_user_cap=tr.per_user_cap, bandwidth=tr.bandwidth, noise=tr.noise,
            tx_power=tr.tx_power, energy_budget=tr.energy_budget, slot_s=scen.slot_s,
            min_accuracy=scen.min_accuracy, max_hallucination=scen.max_hallucination,
            horizon=tr.horizon,
        )

    # ------------------------------------------------------------------ step
    def _check(self, actions: object, has_query: np.ndarray) -> np.ndarray:
        a = np.asarray(actions)
        shape = has_query.shape
        if a.shape != shape:
            raise ActionError(f"actions must have shape (B, U) = {shape}, got {a.shape}")
        if a.dtype.kind not in "iu":
            if a.dtype.kind != "f" or not np.all(a[has_query] == np.round(a[has_query])):
                raise ActionError(f"actions must be whole numbers, got dtype {a.dtype}")
            if not np.isfinite(a[has_query]).all():  # never cast inf to an integer
                b, u = (int(x) for x in np.argwhere(has_query & ~np.isfinite(a))[0])
                raise ActionError(f"actions[{b}, {u}] = {a[b, u]} at slot {self.t}: must be a "
                                  "whole number (0 local or 1..M for an ES)")
            a = np.where(has_query, a, NO_QUERY).astype(np.int64)
        m = self.trace.n_servers
        bad = has_query & ((a < LOCAL) | (a > m))
        if bad.any():
            b, u = (int(x) for x in np.argwhere(bad)[0])
            raise ActionError(
                f"actions[{b}, {u}] = {a[b, u]} at slot {self.t}: the device has a query, so "
                f"the action must be 0 (local) or 1..{m} (ES 0..{m - 1})"
            )
        return a

    def step(self, actions: object) -> SlotOutcome:
        """Apply ``actions`` to the current slot and move to the next.

        Parameters
        ----------
        actions
            (B, U) integers: 0 answers locally, ``j + 1`` offloads to ES j; on devices
            without a query any value is ignored (use -1).

        Returns
        -------
        SlotOutcome

        Raises
        ------
        ActionError
            For a wrong shape or an out-of-range action on a query (with ``validate``).
        IndexError
            After the last slot.
        """
        if self.done:
            raise IndexError(f"the horizon of {self.trace.horizon} slots is over")
        tr, t = self.trace, self.t
        q = tr.has_query[:, t]
        a = self._check(actions, q) if self.validate else np.asarray(actions)
        off = q & (a > LOCAL)
        flat = self._row + np.where(off, a - 1, 0)
        sel = flat[off]
        bm = self.backlog.size
        counts = np.bincount(sel, minlength=bm)
        work_in = tr.edge_work[:, t]
        work = np.bincount(sel, weights=work_in[off], minlength=bm)
        n = np.maximum(counts[flat], 1)
        cap = self._cap_flat[flat]
        se = np.take_along_axis(self.spectral_eff[:, t], (flat - self._row)[..., None],
                                axis=2)[..., 0]
        upload = np.where(off, tr.prompt_bits[:, t] * n / (self._bw_flat[flat] * se), 0.0)
        qwait = np.where(off, self.backlog.ravel()[flat] / cap, 0.0)
        share = np.minimum(self._share_flat[flat], cap / n)
        proc = np.where(off, work_in / share, 0.0)
        dwait = tr.device_wait[:, t]
        latency = np.where(off, upload + qwait + proc, tr.local_delay[:, t]) + dwait
        energy = np.where(off, tr.tx_power * upload, tr.local_energy[:, t])
        acc = np.where(off, tr.acc_edge[:, t], tr.acc_local[:, t])
        hall = np.where(off, tr.hall_edge[:, t], tr.hall_local[:, t])
        correct = np.where(off, tr.correct_edge[:, t], tr.correct_local[:, t])
        halluc = np.where(off, tr.halluc_edge[:, t], tr.halluc_local[:, t])

        counts = counts.reshape(self.backlog.shape)
        work = work.reshape(self.backlog.shape)
        self.backlog = np.maximum(self.backlog + work - self._drain, 0.0)
        self.energy_queue = np.maximum(self.energy_queue + energy - tr.energy_budget, 0.0)
        nq = q.sum(axis=1)
        acc_sum = acc.sum(axis=1)
        hall_sum = hall.sum(axis=1)
        if self._a_min is not None:
            self.accuracy_queue = np.maximum(self.accuracy_queue + self._a_min * nq - acc_sum,
                                             0.0)
        if self._h_max is not None:
            self.hallucination_queue = np.maximum(
                self.hallucination_queue + hall_sum - self._h_max * nq, 0.0)
        self.energy_used = self.energy_used + energy
        self.n_queries = self.n_queries + nq
        self.accuracy_sum = self.accuracy_sum + acc_sum
        self.hallucination_sum = self.hallucination_sum + hall_sum
        self.latency_sum = self.latency_sum + latency.sum(axis=1)
        self._freeze()
        self.t = t + 1
        return SlotOutcome(
            t=t, actions=np.where(q, a, NO_QUERY), latency=latency, upload=upload,
            queue_wait=qwait, processing=proc, device_wait=dwait, energy=energy, accuracy=acc,
            hallucination=hall, correct=correct, hallucinated=halluc, counts=counts,
            work=work, backlog=self.backlog, energy_queue=self.energy_queue,
            accuracy_queue=self.accuracy_queue, hallucination_queue=self.hallucination_queue,
        )
