"""The batched environment core: B episodes stepped at once through one simulator.

:class:`OffloadCore` holds the :class:`~mecopt.longterm.Simulator` of a (B, T) trace and
turns its observations and outcomes into features, masks, rewards and costs
(:mod:`mecopt.rl.features`). An episode is one trace window of ``horizon`` slots; at its
end all B members start a new one (every member has the same horizon). Episodes come from a
pool trace (windows at random members and start slots) or, without a pool, from fresh
traces on training seeds drawn by the core's generator. Both the gymnasium env (B = 1)
and the SB3 vector env (B = n_envs) are thin shells around it.
"""

from __future__ import annotations

import numpy as np

import mecopt.longterm as lt
from mecopt.rl.features import Encoder, device_rewards, masks, violations
from mecopt.rl.pool import TRAIN_SEED_BASE, window


class OffloadCore:
    """B episodes of the long-term offloading problem, stepped as one batch.

    Parameters
    ----------
    scenario
        The scenario (a name or a :class:`~mecopt.longterm.LongtermScenario`).
    n_devices
        U.
    batch
        B, the number of parallel episodes.
    horizon
        Slots per episode.
    pool
        Optional pool trace to cut episodes from (its length must be >= ``horizon``).
    """

    def __init__(self, scenario: str | lt.LongtermScenario = "default", *, n_devices: int = 20,
                 batch: int = 1, horizon: int = 100, pool: lt.Trace | None = None) -> None:
        self.scenario = (scenario if isinstance(scenario, lt.LongtermScenario)
                         else lt.make_scenario(scenario))
        for name, v in (("n_devices", n_devices), ("batch", batch), ("horizon", horizon)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"{name} = {v!r}: must be a whole number >= 1")
        if pool is not None:
            if pool.n_devices != n_devices or pool.horizon < horizon:
                raise ValueError(f"pool trace has U = {pool.n_devices}, T = {pool.horizon}; "
                                 f"need U = {n_devices}, T >= {horizon}")
        self.n_devices, self.batch, self.horizon = int(n_devices), int(batch), int(horizon)
        self.n_servers = self.scenario.n_servers
        self.pool = pool
        self.encoder = Encoder(self.scenario, self.n_devices)
        self.rng = np.random.default_rng()
        self.sim: lt.Simulator | None = None
        self.obs: lt.Observation | None = None

    def seed(self, seed: int | None) -> None:
        """Reseed the generator that picks episodes."""
        self.rng = np.random.default_rng(seed)

    def _episode_trace(self) -> lt.Trace:
        if self.pool is None:
            seeds = self.rng.integers(TRAIN_SEED_BASE, 2**31 - 1, size=self.batch)
            return lt.trace(self.scenario, n_devices=self.n_devices, horizon=self.horizon,
                            seed=[int(s) for s in seeds])
        members = self.rng.integers(0, self.pool.batch, size=self.batch)
        starts = self.rng.integers(0, self.pool.horizon - self.horizon + 1, size=self.batch)
        return window(self.pool, members, starts, self.horizon)

    def start(self, trace: lt.Trace | None = None) -> np.ndarray:
        """Start new episodes (on ``trace`` if given); return (B, D) features."""
        trace = self._episode_trace() if trace is None else trace
        self.sim = lt.Simulator(trace, validate=False)
        self.obs = self.sim.reset()
        self.features = self.encoder(self.obs)
        return self.features

    def action_masks(self) -> np.ndarray:
        """(B, U (M + 1)) masks of the current slot."""
        assert self.obs is not None
        return masks(self.obs.has_query, self.n_servers)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool,
                                                  lt.SlotOutcome]:
        """Apply (B, U) actions; return (next features, reward, costs, done, outcome).

        After the last slot there is no next observation: the features returned are those
        of the last slot (the final observation of a truncated episode).
        """
        assert self.sim is not None and self.obs is not None
        q = self.obs.has_query
        a = np.where(q, np.asarray(actions, dtype=np.int64), lt.NO_QUERY)
        out = self.sim.step(a)
        r_dev, c_dev = device_rewards(out, self.obs, self.scenario)
        #: (B, U) per-device rewards and (B, U, 3) per-device cost rates of the last step.
        self.device_reward, self.device_costs = r_dev, c_dev
        reward, costs = r_dev.sum(axis=1), c_dev.sum(axis=1)
        if self.sim.done:
            #: (B, 3) signed violations of the episodes that just ended.
            self.violation = violations(self.obs, out, self.scenario)
            self.obs = None
            return self.features, reward, costs, True, out
        self.obs = self.sim.observe()
        self.features = self.encoder(self.obs)
        return self.features, reward, costs, False, out
