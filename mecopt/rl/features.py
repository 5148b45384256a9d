"""What a learned policy sees and is scored by: observations, reward, per-trace costs.

Observation (float32, clipped to [-10, 10]). Times are in slots (divided by the slot
length Delta), energies in units of the device's budget per slot ``b_u``. Per device u
(``F = 16 + 3 M`` values, all 0 on a device without a query except the energy state):

``has_query``, ``alpha``, ``acc_local``, ``acc_edge``, ``hall_local``, ``hall_edge``,
local delay (slots), local energy / b, prompt size and edge work (each divided by its
mean over a fixed reference trace of the scenario), device-buffer wait (slots), the
energy virtual queue ``Z_u / b_u``, the running energy use ``E_u / (t b_u) - 1``, the
budget left per remaining slot ``(T b_u - E_u) / ((T - t) b_u) - 1``, the local answers
the whole-horizon budget still affords ``(T b_u - E_u - R_u) / E^L`` (``R_u``: twice this
query's single-sharer upload energy for each expected later query; capped at 10; below 1
the decoder's energy guard forbids answering locally), the upload energy per slot of
upload ``P_u Delta / b_u``; then per ES j (M values each) the single-query upload time
``D / (B_j log2(1 + SNR)) / Delta``, the processing time alone
``W / min(C^max_j, C_j) / Delta`` and the processing time per sharer ``W / C_j / Delta``
(with n queries on ES j it takes ``max(alone, n x per sharer)``): what the slot decoder
of :mod:`mecopt.rl.network` needs to score a joint assignment exactly.

Globally (``G = 2 M + 11``): each ES backlog wait ``Q_j / C_j`` (slots), ES capacity /
mean capacity, the accuracy and hallucination virtual queues per device, the running
accuracy margin ``mean acc - A_min`` and hallucination margin ``H_max - mean hall``
(x 10), the share of devices with a query, the time feature ``t / T`` (T: the horizon of
the trace being run, which is the episode length in training and the trace length in
evaluation, so the two agree when they are run at the same T), ``A_min``, ``H_max`` (0
and 1 when off), ``1 / (U rate)`` (the scale of the quality costs below), and the
catch-up each quality target needs from the rest of the trace: the running accuracy
deficit ``A_min n - sum acc`` over the queries still expected ``(T - t) U rate``, divided
by ``A_min`` (negative when ahead), and likewise ``(sum hall - H_max n)`` over them,
divided by ``H_max``.

Reward of a slot: ``-(sum of its queries' latencies) / (U rate Delta)``: every query
weighs the same (the objective is the mean latency over all queries of the trace, and a
per-slot mean would weigh the queries of a quiet slot more); an episode's return is
``T`` times its mean latency in slots (for ``n = T U rate`` queries).

Costs of a slot (linear rates: a constraint is met on a trace when the sum of its costs over
the trace is <= 0):

- energy: ``mean_u (Z_u(t+1) - Z_u(t)) / b_u``, the growth of the devices' energy virtual
  queues (each device's pace against its own budget; one device's slack cannot hide
  another's excess);
- accuracy: ``sum_i (A_min - acc_i) / (U rate A_min)``;
- hallucination: ``sum_i (hall_i - H_max) / (U rate H_max)``;

a constraint that is off costs 0. Whether a whole trace met its constraints is measured
by :func:`violations` at its end (signed, relative): the worst device's energy
``max_u E_u / (T b_u) - 1``, ``(A_min - mean acc) / A_min`` and
``(mean hall - H_max) / H_max``; a trace is feasible when all three are <= 0. The
Lagrange multipliers of :mod:`mecopt.rl.lagrange` are driven by these, with limit 0 (no
margin). The decoder's per-option constraint terms use the per-query rates of the costs.
"""

from __future__ import annotations

import functools
import json

import numpy as np

import mecopt.longterm as lt

#: Names of the constraint costs, in order.
COST_NAMES = ("energy", "accuracy", "hallucination")
#: Version of the observation layout (stored with saved policies).
OBS_VERSION = 2
CLIP = 10.0
_REF_SEED = 2**31 - 7
#: Index of the per-device fields the decoder reads (see the module docstring).
DEV_Q, DEV_ACC_L, DEV_ACC_E, DEV_HALL_L, DEV_HALL_E = 0, 2, 3, 4, 5
DEV_LOCAL, DEV_E_LOCAL, DEV_Z, DEV_AFFORD, DEV_POWER, DEV_PER_ES = 6, 7, 11, 14, 15, 16
#: Offsets of the global fields the decoder reads, after the 2 M ES fields.
GLOB_TIME, GLOB_A_MIN, GLOB_H_MAX, GLOB_INV_LOAD, GLOB_ACC_NEED, GLOB_HALL_NEED = 5, 6, 7, 8, 9, 10


@functools.cache
def _reference_scales(scenario_json: str) -> tuple[float, float, float]:
    scen = lt.LongtermScenario.from_dict(json.loads(scenario_json))
    tr = lt.trace(scen, n_devices=8, horizon=40, seed=_REF_SEED)
    q = tr.has_query
    return (float(tr.prompt_bits[q].mean()), float(tr.edge_work[q].mean()),
            float(tr.capacity.mean()))


def device_features(n_servers: int) -> int:
    """Features per device, F."""
    return 16 + 3 * n_servers


def global_features(n_servers: int) -> int:
    """Global features, G (after the U blocks of F)."""
    return 2 * n_servers + 11


def n_features(n_devices: int, n_servers: int) -> int:
    """Length of the observation vector, ``U F + G``."""
    return n_devices * device_features(n_servers) + global_features(n_servers)


class Encoder:
    """Turns a batched :class:`~mecopt.longterm.Observation` into (B, D) float32 features.

    Parameters
    ----------
    scenario
        The scenario (fixes the reference scales).
    n_devices
        U.
    """

    def __init__(self, scenario: lt.LongtermScenario, n_devices: int) -> None:
        self.scenario = scenario
        self.n_devices = int(n_devices)
        self.n_servers = scenario.n_servers
        key = json.dumps(scenario.to_dict(), sort_keys=True, default=str)
        self.bits, self.work, self.cap = _reference_scales(key)
        self.dim = n_features(self.n_devices, self.n_servers)

    def __call__(self, obs: lt.Observation) -> np.ndarray:
        q = obs.has_query.astype(np.float64)
        b, u = q.shape
        s = obs.slot_s
        budget = obs.energy_budget
        t, horizon = obs.t, obs.horizon
        qe = q[..., None]
        up = obs.prompt_bits[..., None] / (obs.bandwidth[:, None, :] * obs.spectral_eff) / s
        work = obs.edge_work[..., None]
        alone = work / np.minimum(obs.per_user_cap, obs.capacity)[:, None, :] / s
        shared = work / obs.capacity[:, None, :] / s
        rest = horizon * budget - obs.energy_used
        left = rest / (max(horizon - t, 1) * budget) - 1.0
        # keep back twice the upload energy of this query for each expected later query
        upload_e = obs.tx_power * obs.slot_s * up.min(axis=-1)
        reserve = 2.0 * (horizon - t) * self.scenario.arrival_rate * upload_e
        afford = np.where(q > 0, (rest - reserve) / np.maximum(obs.local_energy, 1e-12), CLIP)
        dev = [q, obs.alpha, obs.acc_local, obs.acc_edge, obs.hall_local, obs.hall_edge,
               obs.local_delay / s, obs.local_energy / budget, obs.prompt_bits / self.bits,
               obs.edge_work / self.work, obs.device_wait / s, obs.energy_queue / budget,
               obs.energy_used / (max(t, 1) * budget) - (t > 0), left, afford,
               obs.tx_power * s / budget]
        per_dev = np.concatenate([np.stack(dev, axis=-1), up * qe, alone * qe, shared * qe],
                                 axis=-1)
        n = np.maximum(obs.n_queries, 1.0)
        a_min = obs.min_accuracy if obs.min_accuracy is not None else 0.0
        h_max = obs.max_hallucination if obs.max_hallucination is not None else 1.0
        acc_margin = np.where(obs.n_queries > 0, obs.accuracy_sum / n - a_min, 0.0)
        hall_margin = np.where(obs.n_queries > 0, h_max - obs.hallucination_sum / n, 0.0)
        inv_load = 1.0 / (u * self.scenario.arrival_rate)
        still = max(horizon - t, 1) / inv_load
        acc_need = np.where(a_min > 0, (a_min * obs.n_queries - obs.accuracy_sum)
                            / (still * max(a_min, 1e-9)), 0.0)
        hall_need = np.where(h_max < 1, (obs.hallucination_sum - h_max * obs.n_queries)
                             / (still * max(h_max, 1e-9)), 0.0)
        glob = np.concatenate([
            obs.backlog_wait / s, obs.capacity / self.cap,
            np.stack([obs.accuracy_queue / u, obs.hallucination_queue / u, 10 * acc_margin,
                      10 * hall_margin, q.mean(axis=1), np.full(b, t / horizon),
                      np.full(b, a_min), np.full(b, h_max), np.full(b, inv_load), acc_need,
                      hall_need], axis=-1),
        ], axis=-1)
        out = np.concatenate([per_dev.reshape(b, -1), glob], axis=-1)
        return np.clip(np.nan_to_num(out, nan=0.0, posinf=CLIP, neginf=-CLIP), -CLIP,
                       CLIP).astype(np.float32)


def masks(has_query: np.ndarray, n_servers: int) -> np.ndarray:
    """(B, U * (M + 1)) action masks: every option on a query, only 0 elsewhere."""
    b, u = has_query.shape
    m = np.repeat(has_query[..., None], n_servers + 1, axis=-1)
    m[..., 0] = True
    return m.reshape(b, u * (n_servers + 1))


def violations(obs: lt.Observation, out: lt.SlotOutcome,
               scenario: lt.LongtermScenario) -> np.ndarray:
    """(B, 3) signed relative violations of a trace after the slot of ``obs`` (its last
    slot, whose outcome is ``out``), from the running totals; see the module docstring."""
    used = obs.energy_used + out.energy
    n = np.maximum(obs.n_queries + obs.has_query.sum(axis=1), 1.0)
    res = np.zeros((n.size, 3))
    res[:, 0] = (used / (obs.horizon * obs.energy_budget)).max(axis=1) - 1.0
    if scenario.min_accuracy is not None:
        a = scenario.min_accuracy
        res[:, 1] = (a - (obs.accuracy_sum + out.accuracy.sum(axis=1)) / n) / a
    if scenario.max_hallucination is not None:
        h = scenario.max_hallucination
        res[:, 2] = ((obs.hallucination_sum + out.hallucination.sum(axis=1)) / n - h) / h
    return res


def reward_and_costs(out: lt.SlotOutcome, obs: lt.Observation,
                     scenario: lt.LongtermScenario) -> tuple[np.ndarray, np.ndarray]:
    """(B,) reward and (B, 3) costs of the slot of ``obs`` (see the module docstring)."""
    r, c = device_rewards(out, obs, scenario)
    return r.sum(axis=1), c.sum(axis=1)


def device_rewards(out: lt.SlotOutcome, obs: lt.Observation, scenario: lt.LongtermScenario
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per-device (B, U) reward and (B, U, 3) linear constraint rates of the slot.

    The reward of a query is ``-latency / (U rate Delta)``; its constraint rates are its
    share of the costs (energy: its virtual-queue growth over ``U``, accuracy and
    hallucination: its distance to the target over ``U rate``). Devices without a query
    get 0. The sums over the devices are the slot's reward and costs.
    """
    q = obs.has_query
    u = q.shape[1]
    scale = u * scenario.arrival_rate
    r = np.where(q, -out.latency / (scale * scenario.slot_s), 0.0)
    c = np.zeros((*q.shape, 3))
    b = obs.energy_budget
    c[..., 0] = (out.energy_queue - obs.energy_queue) / b / u
    if scenario.min_accuracy is not None:
        a = scenario.min_accuracy
        c[..., 1] = np.where(q, (a - out.accuracy) / (scale * a), 0.0)
    if scenario.max_hallucination is not None:
        h = scenario.max_hallucination
        c[..., 2] = np.where(q, (out.hallucination - h) / (scale * h), 0.0)
    return r, c
