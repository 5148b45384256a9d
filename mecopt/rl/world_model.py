"""A learned model of what the action changes: backlogs, virtual queues, energy state.

In the offloading problem most of the next observation does not depend on the action:
arrivals, queries, channels and the ES capacities are exogenous. What the action changes
is the *endogenous* state: the ES backlog waits, each device's energy queue and running
energy use, the accuracy and hallucination virtual queues and running margins, and the
slot's reward and constraint costs. :class:`WorldModel` predicts exactly those (the
change of each endogenous feature, the reward and the three costs) from the observation
and the joint action: a per-device encoder of ``[s_u, onehot(a_u)]`` pooled with the
per-ES load of the action (queries and work sent to each ES) and the global features.

A model rollout (:func:`imagine`) replays the exogenous part of the next observations
from the real trajectory (the same trace window, which no action changes) and takes the
endogenous part from the model: a counterfactual rollout of the current policy on the
real trace (the MBPO idea of short model rollouts branched from real states, restricted
to the state the action drives, as DreamerV3 / TD-MPC2 model what the action changes).
"""

from __future__ import annotations

import numpy as np
import torch as th
from torch import nn
from torch.nn import functional as F

from mecopt.rl import features as ft

#: Per-device endogenous fields (energy queue, running use, budget left, affordable).
DEV_ENDO = (ft.DEV_Z, ft.DEV_Z + 1, ft.DEV_Z + 2, ft.DEV_AFFORD)
#: Global endogenous fields after the 2 M ES fields (the two queues and two margins).
GLOB_ENDO = (0, 1, 2, 3)


def endogenous_index(n_devices: int, n_servers: int) -> np.ndarray:
    """Indices of the endogenous features in the observation vector."""
    f = ft.device_features(n_servers)
    dev = [u * f + k for u in range(n_devices) for k in DEV_ENDO]
    base = n_devices * f
    glob = [base + j for j in range(n_servers)] + [base + 2 * n_servers + k for k in GLOB_ENDO]
    return np.array(dev + glob)


class WorldModel(nn.Module):
    """``(s_t, a_t) -> (endogenous part of s_{t+1}, r_t, c_t)``.

    Parameters
    ----------
    n_devices, n_servers
        U and M.
    hidden
        Width of the device encoder and the trunk.
    n_costs
        Number of constraint costs.
    """

    def __init__(self, n_devices: int, n_servers: int, hidden: int = 64,
                 n_costs: int = 3) -> None:
        super().__init__()
        self.n_devices, self.n_servers, self.n_options = n_devices, n_servers, n_servers + 1
        self.f, self.g = ft.device_features(n_servers), ft.global_features(n_servers)
        self.hidden, self.n_costs = hidden, n_costs
        self.register_buffer("index", th.as_tensor(endogenous_index(n_devices, n_servers)))
        self.dev = nn.Sequential(nn.Linear(self.f + self.n_options, hidden), nn.ELU())
        self.trunk = nn.Sequential(nn.Linear(hidden + self.g + 2 * n_servers, hidden),
                                   nn.ELU(), nn.Linear(hidden, hidden), nn.ELU())
        self.dev_head = nn.Linear(2 * hidden, len(DEV_ENDO))
        self.glob_head = nn.Linear(hidden, n_servers + len(GLOB_ENDO) + 1 + n_costs)

    def forward(self, obs: th.Tensor, actions: th.Tensor
                ) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """Predicted endogenous features of the next observation (N, E), reward (N,) and
        costs (N, K)."""
        u, m, f = self.n_devices, self.n_servers, self.f
        dev = obs[:, : u * f].view(-1, u, f)
        glob = obs[:, u * f:]
        onehot = F.one_hot(actions.long().clamp(min=0), self.n_options).float()
        onehot = onehot * dev[..., ft.DEV_Q, None]
        h = self.dev(th.cat([dev, onehot], dim=-1))
        work = dev[..., ft.DEV_PER_ES + 2 * m:ft.DEV_PER_ES + 3 * m]
        load = th.cat([onehot[..., 1:].sum(dim=1) / u, (onehot[..., 1:] * work).sum(dim=1)],
                      dim=-1)
        z = self.trunk(th.cat([h.mean(dim=1), glob, load], dim=-1))
        d_dev = self.dev_head(th.cat([h, z[:, None].expand(-1, u, -1)], dim=-1))
        out = self.glob_head(z)
        k = m + len(GLOB_ENDO)
        delta = th.cat([d_dev.flatten(1), out[:, :k]], dim=1)
        endo = obs[:, self.index] + delta
        return endo.clamp(-ft.CLIP, ft.CLIP), out[:, k], out[:, k + 1:]

    def splice(self, exogenous_next: th.Tensor, endo: th.Tensor) -> th.Tensor:
        """The next observation: ``exogenous_next`` with its endogenous part replaced."""
        nxt = exogenous_next.clone()
        nxt[:, self.index] = endo
        return nxt

    def loss(self, obs: th.Tensor, actions: th.Tensor, next_obs: th.Tensor,
             rewards: th.Tensor, costs: th.Tensor, valid: th.Tensor) -> th.Tensor:
        """Mean squared error of the endogenous features (where ``valid``, i.e. the next
        observation belongs to the same episode), the reward and the costs."""
        endo, r, c = self(obs, actions)
        w = valid.float()
        err = ((endo - next_obs[:, self.index]) ** 2).mean(dim=-1)
        return (err * w).sum() / w.sum().clamp(min=1.0) + F.mse_loss(r, rewards) \
            + F.mse_loss(c, costs)
