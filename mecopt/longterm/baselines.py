"""The baseline policies that decide by array operations: ``local``, ``offload``,
``random``, ``greedy``, and :class:`FixedActions` (replays given actions)."""

from __future__ import annotations

import numpy as np

from mecopt.longterm.protocol import EnvInfo, idle
from mecopt.longterm.simulator import LOCAL, NO_QUERY, Observation
from mecopt.longterm.traces import Trace

__all__ = [
    "FixedActions",
    "GreedyPolicy",
    "LocalPolicy",
    "OffloadPolicy",
    "RandomPolicy",
    "nearest_es",
]


class _ArrayPolicy:
    """Base of the stateless array policies: ``reset`` keeps the info and the generator."""

    name = ""

    def reset(self, info: EnvInfo, rng: np.random.Generator) -> None:
        self.info = info
        self.rng = rng


class LocalPolicy(_ArrayPolicy):
    """Always local: every query answered on its device."""

    name = "local"

    def act(self, obs: Observation) -> np.ndarray:
        return idle(obs.has_query, np.full(obs.has_query.shape, LOCAL))


class OffloadPolicy(_ArrayPolicy):
    """Always offload, each device to its nearest ES (by distance at the start of the run)."""

    name = "offload"

    def reset(self, info: EnvInfo, rng: np.random.Generator) -> None:
        super().reset(info, rng)
        self._nearest: np.ndarray | None = None

    def act(self, obs: Observation) -> np.ndarray:
        if self._nearest is None:
            # The nearest ES has the largest path gain; the fading-free gain is not
            # observed, so use distance through the positions the policy may know.
            self._nearest = nearest_es(obs.position, self.info.es_positions)
        return idle(obs.has_query, self._nearest + 1)


def nearest_es(position: np.ndarray, es_positions: np.ndarray) -> np.ndarray:
    """(B, U) index of the nearest ES for device positions (B, U, 2)."""
    d = np.linalg.norm(position[..., None, :] - es_positions, axis=-1)
    return np.argmin(d, axis=-1)


class RandomPolicy(_ArrayPolicy):
    """Offload with probability ``p_offload`` to a uniformly drawn ES, else local.

    Parameters
    ----------
    p_offload
        Probability of offloading a query, in [0, 1].
    """

    name = "random"

    def __init__(self, p_offload: float = 0.5) -> None:
        p = float(p_offload)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p_offload = {p_offload!r}: must lie in [0, 1]")
        self.p_offload = p

    def act(self, obs: Observation) -> np.ndarray:
        shape = obs.has_query.shape
        off = self.rng.random(shape) < self.p_offload
        es = self.rng.integers(1, self.info.n_servers + 1, size=shape)
        return idle(obs.has_query, np.where(off, es, LOCAL))


class GreedyPolicy(_ArrayPolicy):
    """Myopic delay greedy: devices in index order each take the option (local or an ES)
    with the smallest own latency, given the ES counts of the devices before it, the ES
    backlog and its current channel. It ignores what it costs the others and the
    constraints. Vectorised over the batch, one step per device."""

    name = "greedy"

    def act(self, obs: Observation) -> np.ndarray:
        b, u = obs.has_query.shape
        counts = np.zeros((b, self.info.n_servers))
        out = np.full((b, u), NO_QUERY)
        for k in range(u):
            q = obs.has_query[:, k]
            if not q.any():
                continue
            n = counts + 1.0
            up = obs.prompt_bits[:, k, None] * n / (obs.bandwidth * obs.spectral_eff[:, k])
            share = np.minimum(obs.per_user_cap, obs.capacity / n)
            delay = up + obs.backlog_wait + obs.edge_work[:, k, None] / share
            best = np.argmin(delay, axis=1)
            best_delay = delay[np.arange(b), best]
            go = q & (best_delay < obs.local_delay[:, k])
            out[:, k] = np.where(q, np.where(go, best + 1, LOCAL), NO_QUERY)
            counts[np.flatnonzero(go), best[go]] += 1.0
        return out


class FixedActions:
    """Replays given actions: (B, T, U) or (T, U) for a batch of one."""

    name = "fixed"
    offline = True

    def __init__(self, actions: np.ndarray) -> None:
        self.actions = np.asarray(actions)

    def plan(self, trace: Trace, rng: np.random.Generator) -> np.ndarray:
        a = self.actions
        if a.ndim == 2:
            a = a[None]
        want = (trace.batch, trace.horizon, trace.n_devices)
        if a.shape != want:
            raise ValueError(f"actions must have shape (B, T, U) = {want}, got {a.shape}")
        return a
