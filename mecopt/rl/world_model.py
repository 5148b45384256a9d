"""A small recurrent (GRU) world model of the offloading environment.

Given the observation ``s_t``, the action ``a_t`` (one-hot per device) and the recurrent
state ``h_{t-1}``, it predicts the next observation ``s_{t+1}`` (as ``s_t`` plus a
predicted change), the slot's reward and its three constraint costs. The recurrent state
summarises the history (fading, ES backlogs, arrivals) that one observation does not.
Trained by mean squared error on real rollouts, with the state reset at episode starts.
"""

from __future__ import annotations

import torch as th
from torch import nn
from torch.nn import functional as F

from mecopt.rl.features import CLIP


class WorldModel(nn.Module):
    """GRU world model: ``(s_t, a_t, h_{t-1}) -> (s_{t+1}, r_t, c_t, h_t)``.

    Parameters
    ----------
    obs_dim
        Length of the observation.
    n_devices, n_options
        U and M + 1 (the action is one-hot per device).
    hidden
        Width of the input layer and the GRU state.
    n_costs
        Number of constraint costs.
    """

    def __init__(self, obs_dim: int, n_devices: int, n_options: int, hidden: int = 128,
                 n_costs: int = 3) -> None:
        super().__init__()
        self.obs_dim, self.n_devices, self.n_options = obs_dim, n_devices, n_options
        self.hidden, self.n_costs = hidden, n_costs
        self.inp = nn.Sequential(nn.Linear(obs_dim + n_devices * n_options, hidden), nn.ELU())
        self.cell = nn.GRUCell(hidden, hidden)
        self.obs_head = nn.Linear(hidden, obs_dim)
        self.out_head = nn.Linear(hidden, 1 + n_costs)

    def initial(self, n: int) -> th.Tensor:
        """Zero recurrent state for ``n`` sequences."""
        return th.zeros(n, self.hidden)

    def step(self, obs: th.Tensor, actions: th.Tensor, h: th.Tensor
             ) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        """One step: (N, D) obs, (N, U) integer actions, (N, H) state -> (next obs, reward
        (N,), costs (N, K), new state)."""
        onehot = F.one_hot(actions.long(), self.n_options).float().flatten(1)
        h = self.cell(self.inp(th.cat([obs, onehot], dim=1)), h)
        nxt = (obs + self.obs_head(h)).clamp(-CLIP, CLIP)
        out = self.out_head(h)
        return nxt, out[:, 0], out[:, 1:], h

    def unroll(self, obs: th.Tensor, actions: th.Tensor, starts: th.Tensor
               ) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        """Teacher-forced pass over (T, N, ...) sequences; the state restarts where
        ``starts`` is 1. Returns predicted next obs (T, N, D), rewards (T, N), costs
        (T, N, K) and the states ``h_t`` (T, N, H) after each step."""
        h = self.initial(obs.shape[1])
        preds, rews, costs, hs = [], [], [], []
        for t in range(obs.shape[0]):
            h = h * (1.0 - starts[t])[:, None]
            nxt, r, c, h = self.step(obs[t], actions[t], h)
            preds.append(nxt)
            rews.append(r)
            costs.append(c)
            hs.append(h)
        return th.stack(preds), th.stack(rews), th.stack(costs), th.stack(hs)

    def loss(self, obs: th.Tensor, actions: th.Tensor, starts: th.Tensor, next_obs: th.Tensor,
             rewards: th.Tensor, costs: th.Tensor, valid: th.Tensor) -> th.Tensor:
        """Mean squared error of the next observation (where ``valid``), reward and costs."""
        pred, r, c, _ = self.unroll(obs, actions, starts)
        w = valid.float()
        obs_err = ((pred - next_obs) ** 2).mean(dim=-1)
        obs_loss = (obs_err * w).sum() / w.sum().clamp(min=1.0)
        return obs_loss + F.mse_loss(r, rewards) + F.mse_loss(c, costs)
