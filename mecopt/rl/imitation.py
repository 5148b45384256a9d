"""Imitation of hindsight plans (behavioural cloning), a learned baseline: ``bc``.

mecopt can compute the full-horizon optimum of a trace (:mod:`mecopt.longterm.hindsight`)
and so has an expert to imitate. :class:`BehaviourCloning` trains the same network and slot
decoder as the PPO learners (:class:`~mecopt.rl.network.OffloadPolicy`) to reproduce the
hindsight plans of training traces (seeds >= 1,000,000, never the evaluation seeds):

1. each training trace (``bc_traces`` windows of the run's pool, ``horizon`` slots, the
   same windows for every run of a training seed) is solved in hindsight
   (``bc_time_limit`` seconds, ``lp_only``: the LP-priced incumbent with its proven
   bound, close to the optimum and fast); plans whose proven gap exceeds ``bc_max_gap``
   (a solve stopped early on a loaded machine returns a poor incumbent) are left out, and
   every plan's status and gap are recorded in ``expert_stats``;
2. the plan is replayed through the simulator; each slot gives the observation, the masks
   and the expert's joint action;
3. the network maximises the log-probability of the expert's joint action under the slot
   decoder (teacher forced, per-device conditionals), with the Lagrange multipliers the
   decoder prices with learned as three more parameters (through a softplus).

The result is saved like a PPO model (``bc:PATH``). ``learn`` counts one step per slot of
expert data per epoch. Plain behavioural cloning: the expert's states come from its own
trajectory, so the policy is trained on states it may not reach (no DAgger correction).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th

import mecopt.longterm as lt
from mecopt.rl.features import Encoder, masks
from mecopt.rl.pool import window
from mecopt.rl.slot_ppo import SlotPPO


def expert_data(trace: lt.Trace, plan: np.ndarray) -> dict[str, np.ndarray]:
    """Observations (B T, D), masks and the plan's actions (B T, U) of a replayed plan."""
    sim = lt.Simulator(trace)
    enc = Encoder(trace.scenario, trace.n_devices)
    obs = sim.reset()
    feats, mks, acts = [], [], []
    while True:
        a = np.where(obs.has_query, plan[:, obs.t], lt.NO_QUERY)
        feats.append(enc(obs))
        mks.append(masks(obs.has_query, trace.n_servers))
        acts.append(np.maximum(a, 0))
        sim.step(a)
        if sim.done:
            break
        obs = sim.observe()
    return {"obs": np.stack(feats, 1).reshape(-1, feats[0].shape[-1]),
            "masks": np.stack(mks, 1).reshape(-1, mks[0].shape[-1]),
            "actions": np.stack(acts, 1).reshape(-1, acts[0].shape[-1])}


class BehaviourCloning(SlotPPO):
    """Behavioural cloning of hindsight plans (see the module docstring).

    Parameters
    ----------
    *args, **kwargs
        As :class:`~mecopt.rl.slot_ppo.SlotPPO` (its rollout settings are unused).
    bc_traces
        Training traces solved in hindsight.
    bc_epochs
        Passes over the expert data.
    bc_time_limit
        Seconds per hindsight solve.
    bc_max_gap
        Largest proven relative gap of a plan that is imitated.
    """

    def __init__(self, *args: Any, bc_traces: int = 16, bc_epochs: int = 30,
                 bc_time_limit: float = 60.0, bc_max_gap: float = 0.02,
                 **kwargs: Any) -> None:
        self.bc_traces, self.bc_epochs = int(bc_traces), int(bc_epochs)
        self.bc_time_limit, self.bc_max_gap = float(bc_time_limit), float(bc_max_gap)
        self.expert_stats: dict[str, Any] = {}
        super().__init__(*args, **kwargs)

    def _expert(self) -> dict[str, np.ndarray]:
        from mecopt.longterm.hindsight import solve_hindsight

        core = self.env.core if hasattr(self.env, "core") else self.env.venv.core
        pool, horizon = core.pool, core.horizon
        if pool is None:
            raise ValueError("behavioural cloning needs a training pool")
        rng = np.random.default_rng(self.seed)
        members = np.arange(self.bc_traces) % pool.batch
        starts = rng.integers(0, pool.horizon - horizon + 1, size=self.bc_traces)
        tr = window(pool, members, starts, horizon)
        res = solve_hindsight(tr, time_limit=self.bc_time_limit, lp_only=True)
        gaps = np.array([float(g) for g in res.gap])
        keep = np.flatnonzero(gaps <= self.bc_max_gap)
        self.expert_stats = {"status": list(res.status), "gap": gaps.tolist(),
                             "mean_latency": [float(x) for x in res.objective],
                             "kept": keep.tolist()}
        if keep.size == 0:
            raise RuntimeError(f"no hindsight plan within bc_max_gap = {self.bc_max_gap} "
                               f"(gaps {np.round(gaps, 4).tolist()}); raise bc_time_limit")
        sub = window(tr, keep, np.zeros(keep.size, dtype=int), horizon)
        return expert_data(sub, np.asarray(res.actions)[keep])

    def learn(self, total_timesteps: int, callback: Any = None, log_interval: int = 1,
              tb_log_name: str = "bc", reset_num_timesteps: bool = True,
              progress_bar: bool = False) -> BehaviourCloning:
        _, callback = self._setup_learn(total_timesteps, callback, reset_num_timesteps,
                                        tb_log_name, progress_bar)
        callback.on_training_start(locals(), globals())
        data = self._expert()
        obs = th.as_tensor(data["obs"])
        acts = th.as_tensor(data["actions"]).long()
        mks = data["masks"]
        n = obs.shape[0]
        lam_raw = th.zeros(3, requires_grad=True)
        opt = th.optim.Adam([*self.policy.parameters(), lam_raw], lr=self.learning_rate
                            if isinstance(self.learning_rate, float) else 3e-4)
        extractor = self.policy.mlp_extractor
        gen = th.Generator().manual_seed(int(self.seed or 0))
        for _epoch in range(self.bc_epochs):
            perm = th.randperm(n, generator=gen)
            losses = []
            for start in range(0, n, self.batch_size):
                i = perm[start:start + self.batch_size]
                extractor.lam = th.nn.functional.softplus(lam_raw) * 2.0
                _, _, logp, _ = self.policy.evaluate_slot(obs[i], acts[i], mks[i.numpy()])
                loss = -logp.sum(dim=1).mean()
                opt.zero_grad()
                loss.backward()
                th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
                opt.step()
                losses.append(float(loss.detach()))
            self.num_timesteps += n
            self.logger.record("bc/nll", float(np.mean(losses)))
            callback.on_rollout_end()
        with th.no_grad():
            extractor.lam = (th.nn.functional.softplus(lam_raw) * 2.0).detach()
        callback.on_training_end()
        return self

    def multipliers(self) -> np.ndarray:
        return self.policy.lam.detach().numpy().copy()
