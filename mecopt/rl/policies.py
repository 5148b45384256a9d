"""The actor-critic network: one network shared by every device, a batched distribution.

- :class:`DeviceExtractor`: the actor applies the same MLP to each device's features
  joined with the global ones (``[s_u, g] -> h_u``) and a shared linear head turns ``h_u``
  into the device's M + 1 logits, so every device's experience trains the same weights
  and the network does not grow with U; the critic reads the mean of per-device
  embeddings and the global features. (``net_arch`` sets the widths.)
- :class:`BatchedMaskedCategorical`: sb3-contrib's multi-discrete masked distribution
  builds one ``Categorical`` per device; with U devices of the same M + 1 options this
  uses one (N, U, M + 1) tensor instead (the same distribution, several times faster).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from sb3_contrib.common.maskable.distributions import MaskableDistribution
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from torch import nn

from mecopt.rl.features import device_features, global_features

_NEG = -1e8


class DeviceExtractor(nn.Module):
    """Per-device actor embeddings (flattened, U x width) and a pooled critic latent.

    Parameters
    ----------
    n_devices, n_servers
        U and M (fix the observation layout of :mod:`mecopt.rl.features`).
    widths
        Hidden widths of the shared device MLP and of the critic MLP.
    """

    def __init__(self, n_devices: int, n_servers: int, widths: list[int]) -> None:
        super().__init__()
        self.u, self.f, self.g = n_devices, device_features(n_servers), global_features(
            n_servers)
        w = int(widths[-1])
        layers: list[nn.Module] = []
        d = self.f + self.g
        for h in widths:
            layers += [nn.Linear(d, h), nn.Tanh()]
            d = h
        self.actor = nn.Sequential(*layers)
        self.critic_dev = nn.Sequential(nn.Linear(self.f + self.g, w), nn.Tanh())
        self.critic = nn.Sequential(nn.Linear(w + self.g, w), nn.Tanh(), nn.Linear(w, w),
                                    nn.Tanh())
        self.latent_dim_pi = self.u * w
        self.latent_dim_vf = w

    def _split(self, x: th.Tensor) -> th.Tensor:
        dev = x[:, : self.u * self.f].reshape(-1, self.u, self.f)
        glob = x[:, self.u * self.f:]
        return th.cat([dev, glob[:, None, :].expand(-1, self.u, -1)], dim=-1)

    def forward_actor(self, x: th.Tensor) -> th.Tensor:
        return self.actor(self._split(x)).flatten(1)

    def forward_critic(self, x: th.Tensor) -> th.Tensor:
        pooled = self.critic_dev(self._split(x)).mean(dim=1)
        return self.critic(th.cat([pooled, x[:, self.u * self.f:]], dim=-1))

    def forward(self, x: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        return self.forward_actor(x), self.forward_critic(x)


class DeviceHead(nn.Module):
    """The same linear map from each device's embedding to its option logits."""

    def __init__(self, n_devices: int, width: int, n_options: int) -> None:
        super().__init__()
        self.u, self.w = n_devices, width
        self.linear = nn.Linear(width, n_options)

    def forward(self, latent: th.Tensor) -> th.Tensor:
        return self.linear(latent.view(-1, self.u, self.w)).flatten(1)


class BatchedMaskedCategorical(MaskableDistribution):
    """U independent categorical choices of ``k`` options each, with masks.

    Parameters
    ----------
    n
        Number of choices (U).
    k
        Options per choice (M + 1).
    """

    def __init__(self, n: int, k: int) -> None:
        super().__init__()
        self.n, self.k = int(n), int(k)
        self.logits: th.Tensor | None = None
        self.masks: th.Tensor | None = None

    def proba_distribution_net(self, latent_dim: int) -> nn.Module:
        return DeviceHead(self.n, latent_dim // self.n, self.k)

    def proba_distribution(self, action_logits: th.Tensor) -> BatchedMaskedCategorical:
        self.raw = action_logits.view(-1, self.n, self.k)
        self.masks = None
        self._apply()
        return self

    def _apply(self) -> None:
        logits = self.raw
        if self.masks is not None:
            logits = th.where(self.masks, logits, th.full_like(logits, _NEG))
        self.logits = th.log_softmax(logits, dim=-1)

    def apply_masking(self, masks: Any) -> None:
        if masks is None:
            self.masks = None
        else:
            m = th.as_tensor(np.asarray(masks) if not isinstance(masks, th.Tensor) else masks,
                             dtype=th.bool, device=self.raw.device)
            self.masks = m.view(-1, self.n, self.k)
        self._apply()

    def log_prob(self, actions: th.Tensor) -> th.Tensor:
        a = actions.long().view(-1, self.n, 1)
        return th.gather(self.logits, -1, a).squeeze(-1).sum(dim=1)

    def entropy(self) -> th.Tensor:
        p = self.logits.exp()
        return -(p * th.where(p > 0, self.logits, th.zeros_like(p))).sum(dim=(1, 2))

    def sample(self) -> th.Tensor:
        u = th.rand_like(self.logits).clamp_(1e-12, 1.0)
        return th.argmax(self.logits - th.log(-th.log(u)), dim=-1)

    def mode(self) -> th.Tensor:
        return th.argmax(self.logits, dim=-1)

    def actions_from_params(self, action_logits: th.Tensor,
                            deterministic: bool = False) -> th.Tensor:
        self.proba_distribution(action_logits)
        return self.get_actions(deterministic=deterministic)

    def log_prob_from_params(self, action_logits: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        actions = self.actions_from_params(action_logits)
        return actions, self.log_prob(actions)


class OffloadPolicy(MaskableActorCriticPolicy):
    """MaskablePPO's actor-critic with :class:`DeviceExtractor` and
    :class:`BatchedMaskedCategorical`."""

    def _build_mlp_extractor(self) -> None:
        nvec = np.asarray(self.action_space.nvec)
        arch = self.net_arch
        widths = list(arch.get("pi", [64, 64]) if isinstance(arch, dict) else arch or [64])
        self.mlp_extractor = DeviceExtractor(len(nvec), int(nvec[0]) - 1, widths)

    def _build(self, lr_schedule: Any) -> None:
        nvec = np.asarray(self.action_space.nvec)
        if nvec.min() != nvec.max():
            raise ValueError("OffloadPolicy needs the same number of options on every device")
        self.action_dist = BatchedMaskedCategorical(len(nvec), int(nvec[0]))
        super()._build(lr_schedule)
