"""The actor-critic network: MaskablePPO's MLP policy with a batched masked distribution.

sb3-contrib's multi-discrete masked distribution builds one ``Categorical`` per device; for
U devices with the same M + 1 options this module uses one (N, U, M + 1) tensor instead
(the same distribution, several times faster on a CPU).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from sb3_contrib.common.maskable.distributions import MaskableDistribution
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from torch import nn

_NEG = -1e8


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
        return nn.Linear(latent_dim, self.n * self.k)

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
    """MaskablePPO's actor-critic with :class:`BatchedMaskedCategorical` for the actions."""

    def _build(self, lr_schedule: Any) -> None:
        nvec = np.asarray(self.action_space.nvec)
        if nvec.min() != nvec.max():
            raise ValueError("OffloadPolicy needs the same number of options on every device")
        self.action_dist = BatchedMaskedCategorical(len(nvec), int(nvec[0]))
        super()._build(lr_schedule)
