"""What a learned policy sees and is scored by: normalised observations, reward, costs.

Observation (float32, clipped to [-10, 10]), per device u (``F = 13 + M`` values):
``has_query``, ``alpha``, ``acc_local``, ``acc_edge``, ``hall_local``, ``hall_edge``
(probabilities as they are), local delay, local energy / budget, prompt size, edge work
(each divided by its mean over the queries of a fixed reference trace of the scenario),
device-buffer wait / slot, ``log1p`` of the single-query upload time to each ES in slots
(the channel estimate, M values), ``log1p`` of the energy virtual queue / budget and the
device's running energy use / budget - 1; then globally (``G = 2 M + 6``): ``log1p`` of
each ES backlog wait in slots, ES capacity / mean capacity, the accuracy and
hallucination virtual queues per device, the running accuracy margin ``mean acc - A_min``
and hallucination margin ``H_max - mean hall`` (x 10), the share of devices with a query,
and the time feature ``t / T``. A query field is 0 on a device without a query.

Reward of a slot: ``-(mean latency of its queries) / slot length`` (0 without queries).
Costs of a slot (a constraint is met on average iff the mean cost is <= 0):

- energy: ``mean_u (Z_u(t+1) - Z_u(t)) / b_u``, the growth of the devices' energy virtual
  queues ``Z_u(t+1) = max(Z_u(t) + e_u - b_u, 0)``; over an episode it sums to
  ``mean_u Z_u(T) / b_u``, which bounds each device's excess over its budget from above
  (a mean of ``(e_u - b_u) / b_u`` would let one device's slack hide another's excess);
  it is >= 0 over an episode, so its limit must be > 0;
- accuracy: ``sum_i (A_min - acc_i) / (U rate A_min)``;
- hallucination: ``sum_i (hall_i - H_max) / (U rate H_max)``;

a constraint that is off costs 0. The normalisations make the costs of always-local
about 0.44, 0.14 and 0.18 in the default scenario.
"""

from __future__ import annotations

import functools
import json

import numpy as np

import mecopt.longterm as lt

#: Names of the constraint costs, in order.
COST_NAMES = ("energy", "accuracy", "hallucination")
#: Version of the observation layout (stored with saved policies).
OBS_VERSION = 1
CLIP = 10.0
_REF_SEED = 2**31 - 7


@functools.cache
def _reference_scales(scenario_json: str) -> tuple[float, float, float, float]:
    scen = lt.LongtermScenario.from_dict(json.loads(scenario_json))
    tr = lt.trace(scen, n_devices=8, horizon=40, seed=_REF_SEED)
    q = tr.has_query
    return (float(tr.local_delay[q].mean()), float(tr.prompt_bits[q].mean()),
            float(tr.edge_work[q].mean()), float(tr.capacity.mean()))


def device_features(n_servers: int) -> int:
    """Features per device, F."""
    return 13 + n_servers


def global_features(n_servers: int) -> int:
    """Global features, G (after the U blocks of F)."""
    return 2 * n_servers + 6


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
        self.ld, self.bits, self.work, self.cap = _reference_scales(key)
        self.dim = n_features(self.n_devices, self.n_servers)

    def __call__(self, obs: lt.Observation) -> np.ndarray:
        q = obs.has_query.astype(np.float64)
        b, u = q.shape
        s = obs.slot_s
        budget = obs.energy_budget
        t = max(obs.t, 1)
        up = obs.prompt_bits[..., None] / (obs.bandwidth[:, None, :] * obs.spectral_eff) / s
        dev = [q, obs.alpha, obs.acc_local, obs.acc_edge, obs.hall_local, obs.hall_edge,
               obs.local_delay / self.ld, obs.local_energy / budget, obs.prompt_bits / self.bits,
               obs.edge_work / self.work, obs.device_wait / s,
               np.log1p(obs.energy_queue / budget),
               obs.energy_used / (t * budget) - (obs.t > 0)]
        per_dev = np.concatenate([np.stack(dev, axis=-1), np.log1p(up) * q[..., None]], axis=-1)
        n = np.maximum(obs.n_queries, 1.0)
        a_min = obs.min_accuracy if obs.min_accuracy is not None else 0.0
        h_max = obs.max_hallucination if obs.max_hallucination is not None else 1.0
        acc_margin = np.where(obs.n_queries > 0, obs.accuracy_sum / n - a_min, 0.0)
        hall_margin = np.where(obs.n_queries > 0, h_max - obs.hallucination_sum / n, 0.0)
        glob = np.concatenate([
            np.log1p(obs.backlog_wait / s), obs.capacity / self.cap,
            np.stack([obs.accuracy_queue / u, obs.hallucination_queue / u, 10 * acc_margin,
                      10 * hall_margin, q.mean(axis=1), np.full(b, obs.t / obs.horizon)],
                     axis=-1),
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


def reward_and_costs(out: lt.SlotOutcome, obs: lt.Observation,
                     scenario: lt.LongtermScenario) -> tuple[np.ndarray, np.ndarray]:
    """(B,) reward and (B, 3) costs of the slot of ``obs`` (see the module docstring)."""
    has_query, energy_budget = obs.has_query, obs.energy_budget
    nq = has_query.sum(axis=1)
    reward = -out.latency.sum(axis=1) / np.maximum(nq, 1) / scenario.slot_s
    u = has_query.shape[1]
    scale = u * scenario.arrival_rate
    costs = np.zeros((nq.size, 3))
    costs[:, 0] = ((out.energy_queue - obs.energy_queue) / energy_budget).mean(axis=1)
    if scenario.min_accuracy is not None:
        a = scenario.min_accuracy
        costs[:, 1] = (a * nq - out.accuracy.sum(axis=1)) / (scale * a)
    if scenario.max_hallucination is not None:
        h = scenario.max_hallucination
        costs[:, 2] = (out.hallucination.sum(axis=1) - h * nq) / (scale * h)
    return reward, costs
