"""The actor-critic network and its joint slot decision (a decoder that cannot blindly collide).

One network is shared by every device; the slot's joint assignment is decided device by
device, each choice seeing the choices before it:

- :class:`DeviceExtractor`: the actor applies the same MLP to each device's features
  joined with the global ones and the Lagrange multipliers ``[s_u, g, lambda] -> h_u``;
  the critic reads the mean of per-device embeddings, the global features and the
  multipliers (the multipliers are a buffer of the network, set by the learner after each
  rollout and saved with the policy, so the policy observes them in training and uses the
  final ones when deployed);
- :class:`SlotDecoder` (the action distribution): devices in index order; device u picks
  option k (0 local, j + 1 ES j) with probability ``softmax_k(base_uk - beta_u s_uk)``,
  where ``base_uk`` is the network's logit and ``s_uk`` the **exact marginal cost** of the
  choice given the devices decided before it, in slots: the increase of the slot's total
  latency (its own upload with the sharers so far, the ES backlog wait and processor
  sharing, plus the upload and processing it adds to the queries already on that ES),
  ``kappa_u`` times the backlog it leaves for the next slot, and the Lagrangian price of its
  energy, accuracy and hallucination (the multipliers times the slot's constraint rates,
  :mod:`mecopt.rl.features`; each quality multiplier plus ``queue_gain`` times the
  catch-up the trace still needs (its running deficit over the queries still expected),
  divided by the share of the horizon left: a one-sided feedback that raises the price on
  a trace that falls behind, and a backstop in its last slots; it aims ``target_slack``
  = 0.3 % inside the target so that a trace does not end a hair short). An energy guard forbids a
  local answer once the device's whole-horizon budget no longer affords one (offloading
  costs the device only its upload energy). ``beta_u`` and ``kappa_u`` are ``score_scale``
  and ``backlog_weight`` times a learned per-device factor. The log-probability of a joint
  action is the sum of the per-device conditional ones (teacher forced in training), so
  PPO sees per-device ratios (:mod:`mecopt.rl.slot_ppo`).

With the network's logits at 0 the decoder is a congestion-aware greedy on the slot's
Lagrangian; training learns the multipliers, the corrections and when to deviate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from sb3_contrib.common.maskable.distributions import MaskableDistribution
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from torch import nn
from torch.nn import functional as F

from mecopt.rl import features as ft

_NEG = -1e8
#: Default ``target_slack`` of the decoder's catch-up feedback (see :class:`SlotContext`).
TARGET_SLACK = 0.003
#: Extra head outputs per device after the M + 1 logits: log-factors of beta and kappa.
_EXTRA = 2


class DeviceExtractor(nn.Module):
    """Per-device actor embeddings (flattened, U x width) and a pooled critic latent.

    Parameters
    ----------
    n_devices, n_servers
        U and M (fix the observation layout of :mod:`mecopt.rl.features`).
    widths
        Hidden widths of the shared device MLP and of the critic MLP.
    n_costs
        Number of Lagrange multipliers held in the buffer ``lam``.
    """

    def __init__(self, n_devices: int, n_servers: int, widths: list[int],
                 n_costs: int = 3) -> None:
        super().__init__()
        self.u, self.f = n_devices, ft.device_features(n_servers)
        self.g = ft.global_features(n_servers)
        self.register_buffer("lam", th.zeros(n_costs))
        w = int(widths[-1])
        layers: list[nn.Module] = []
        d = self.f + self.g + n_costs
        for h in widths:
            layers += [nn.Linear(d, h), nn.Tanh()]
            d = h
        self.actor = nn.Sequential(*layers)
        self.critic_dev = nn.Sequential(nn.Linear(self.f + self.g + n_costs, w), nn.Tanh())
        self.critic = nn.Sequential(nn.Linear(w + self.g + n_costs, w), nn.Tanh(),
                                    nn.Linear(w, w), nn.Tanh())
        self.width = w
        self.latent_dim_pi = self.u * w + ft.n_features(n_devices, n_servers) + n_costs
        self.latent_dim_vf = w

    def _glob(self, x: th.Tensor) -> th.Tensor:
        lam = th.log1p(self.lam).expand(x.shape[0], -1)
        return th.cat([x[:, self.u * self.f:], lam], dim=-1)

    def _split(self, x: th.Tensor) -> th.Tensor:
        dev = x[:, : self.u * self.f].reshape(-1, self.u, self.f)
        glob = self._glob(x)
        return th.cat([dev, glob[:, None, :].expand(-1, self.u, -1)], dim=-1)

    def forward_actor(self, x: th.Tensor) -> th.Tensor:
        """``[h_1 .. h_U | x | lambda]``: the embeddings, then the observation and the
        multipliers the decoder reads (:class:`DeviceHead` passes them through)."""
        h = self.actor(self._split(x)).flatten(1)
        return th.cat([h, x, self.lam.expand(x.shape[0], -1)], dim=1)

    def forward_critic(self, x: th.Tensor) -> th.Tensor:
        pooled = self.critic_dev(self._split(x)).mean(dim=1)
        return self.critic(th.cat([pooled, self._glob(x)], dim=-1))

    def forward(self, x: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        return self.forward_actor(x), self.forward_critic(x)


class DeviceHead(nn.Module):
    """The same linear map from each device's embedding to its M + 1 logits and the two
    log-factors of :class:`SlotDecoder`; the observation and multipliers after the
    embeddings pass through unchanged."""

    def __init__(self, n_devices: int, width: int, n_options: int) -> None:
        super().__init__()
        self.u, self.w = n_devices, width
        self.linear = nn.Linear(width, n_options + _EXTRA)

    def forward(self, latent: th.Tensor) -> th.Tensor:
        k = self.u * self.w
        out = self.linear(latent[:, :k].reshape(-1, self.u, self.w)).flatten(1)
        return th.cat([out, latent[:, k:]], dim=1)


class SlotContext:
    """The decoder's view of a batch of observations (tensors in slot units).

    Parameters
    ----------
    obs
        (N, D) features of :class:`mecopt.rl.features.Encoder`.
    n_devices, n_servers
        U and M.
    lam
        (3,) multipliers (energy, accuracy, hallucination).
    queue_gain
        Weight of the catch-up each quality target still needs (features
        ``GLOB_ACC_NEED``, ``GLOB_HALL_NEED``) added to its multiplier.
    target_slack
        Relative distance inside each quality target that the catch-up feedback aims at
        (the multipliers themselves are driven by the targets, with no margin).
    """

    def __init__(self, obs: th.Tensor, n_devices: int, n_servers: int, lam: th.Tensor,
                 queue_gain: float = 10.0, target_slack: float = 0.0) -> None:
        u, m = n_devices, n_servers
        f = ft.device_features(m)
        dev = obs[:, : u * f].view(-1, u, f)
        glob = obs[:, u * f:]
        self.q = dev[..., ft.DEV_Q] > 0.5
        p = ft.DEV_PER_ES
        self.up, self.alone = dev[..., p:p + m], dev[..., p + m:p + 2 * m]
        self.shared = dev[..., p + 2 * m:p + 3 * m]
        self.local, self.e_local = dev[..., ft.DEV_LOCAL], dev[..., ft.DEV_E_LOCAL]
        self.z, self.power = dev[..., ft.DEV_Z], dev[..., ft.DEV_POWER]
        #: (N, U) the energy guard: the whole-horizon budget no longer affords a local answer
        self.no_local = self.q & (dev[..., ft.DEV_AFFORD] < 1.0)
        self.backlog = glob[:, :m]
        a_min = glob[:, 2 * m + ft.GLOB_A_MIN, None, None]
        h_max = glob[:, 2 * m + ft.GLOB_H_MAX, None, None]
        # the slot's Lagrangian times U rate: latencies in slots, quality rates relative
        # to their targets, energy as virtual-queue growth per device times the rate
        inv_load = glob[:, 2 * m + ft.GLOB_INV_LOAD]
        self.energy_scale = (lam[0] / (u * inv_load))[:, None]
        acc = th.cat([dev[..., ft.DEV_ACC_L, None],
                      dev[..., ft.DEV_ACC_E, None].expand(-1, -1, m)], dim=-1)
        hall = th.cat([dev[..., ft.DEV_HALL_L, None],
                       dev[..., ft.DEV_HALL_E, None].expand(-1, -1, m)], dim=-1)
        c_acc = th.where(a_min > 0, (a_min - acc) / a_min.clamp(min=1e-9), th.zeros_like(acc))
        c_hall = th.where(h_max < 1, (hall - h_max) / h_max.clamp(min=1e-9),
                          th.zeros_like(hall))
        # the multipliers plus a feedback on the catch-up the trace still needs (its
        # running deficit over the queries still expected, relative to the target); one
        # sided: a trace ahead keeps the multiplier's price, so it stays ahead
        acc_need = glob[:, 2 * m + ft.GLOB_ACC_NEED, None, None]
        hall_need = glob[:, 2 * m + ft.GLOB_HALL_NEED, None, None]
        # ... weighted by 1 / (share of the horizon left): a backstop that makes the last
        # slots of a trace still behind take whatever accuracy they can
        done = glob[:, 2 * m + ft.GLOB_TIME, None, None]
        left = (1.0 - done).clamp(min=1e-3)
        # the feedback aims ``target_slack`` (relative) inside each target: the deficit
        # against the tighter target, with the queries so far estimated as done / left of
        # the queries still expected
        extra = target_slack * done / left
        lam_acc = lam[1] + queue_gain * F.relu(acc_need + extra) / left
        lam_hall = lam[2] + queue_gain * F.relu(hall_need + extra) / left
        #: (N, U, M + 1) Lagrangian price of the quality constraints, in slots.
        self.quality = lam_acc * c_acc + lam_hall * c_hall


def option_scores(ctx: SlotContext, assigned: th.Tensor, counts: th.Tensor,
                  kappa: th.Tensor) -> th.Tensor:
    """(N, U, M + 1) exact marginal score (slots) of every device's options, given the
    offloads decided so far.

    Parameters
    ----------
    ctx
        The slot context.
    assigned
        (N, U, M) 0/1 offloads of the devices decided so far.
    counts
        (N, M) their counts per ES.
    kappa
        (N, U) weight of the backlog left for the next slot.
    """
    n1 = (counts + 1.0)[:, None, :]
    n0 = counts[:, None, :]
    own = n1 * ctx.up + ctx.backlog[:, None, :] + th.maximum(ctx.alone, n1 * ctx.shared)
    # what one more query on ES j adds to each query already there: one more bandwidth
    # share of its upload and the change of its processor share
    added = ctx.up + th.maximum(ctx.alone, n1 * ctx.shared) - th.maximum(ctx.alone,
                                                                        n0 * ctx.shared)
    ext = (assigned * added).sum(dim=1)[:, None, :]
    work = ((assigned * ctx.shared).sum(dim=1) + ctx.backlog)[:, None, :]
    grow = F.relu(work + ctx.shared - 1.0) - F.relu(work - 1.0)
    energy = th.cat([ctx.e_local[..., None], ctx.power[..., None] * n1 * ctx.up], dim=-1)
    z = ctx.z[..., None]
    e_cost = ctx.energy_scale[..., None] * (F.relu(z + energy - 1.0) - z)
    lat = th.cat([ctx.local[..., None], own + ext + kappa[..., None] * grow], dim=-1)
    return lat + e_cost + ctx.quality


class SlotDecoder(MaskableDistribution):
    """Joint slot decision: U choices of ``k`` options, each conditioned on the earlier ones.

    Parameters
    ----------
    n
        Number of devices (U).
    k
        Options per device (M + 1).
    score_scale, backlog_weight
        ``beta`` and ``kappa`` at a zero network output (see the module docstring).
    queue_gain
        Feedback of the trace's quality deficits on the prices (:class:`SlotContext`).
    energy_guard
        Forbid a local answer the device's whole-horizon energy budget no longer affords.
    target_slack
        See :class:`SlotContext`.
    """

    def __init__(self, n: int, k: int, score_scale: float = 20.0,
                 backlog_weight: float = 2.0, queue_gain: float = 10.0,
                 energy_guard: bool = True, target_slack: float = TARGET_SLACK) -> None:
        super().__init__()
        self.n, self.k = int(n), int(k)
        self.score_scale, self.backlog_weight = float(score_scale), float(backlog_weight)
        self.queue_gain, self.energy_guard = float(queue_gain), bool(energy_guard)
        self.target_slack = float(target_slack)
        self.ctx: SlotContext | None = None
        self.masks: th.Tensor | None = None
        self.logits: th.Tensor | None = None
        self._actions: th.Tensor | None = None

    def proba_distribution_net(self, latent_dim: int) -> nn.Module:
        tail = ft.n_features(self.n, self.k - 1) + 3
        return DeviceHead(self.n, (latent_dim - tail) // self.n, self.k)

    def proba_distribution(self, action_logits: th.Tensor) -> SlotDecoder:
        """``action_logits``: the :class:`DeviceHead` output (per-device logits and
        log-factors, then the observation and the multipliers)."""
        k = self.n * (self.k + _EXTRA)
        out = action_logits[:, :k].reshape(-1, self.n, self.k + _EXTRA)
        dim = ft.n_features(self.n, self.k - 1)
        obs, lam = action_logits[:, k:k + dim], action_logits[0, k + dim:]
        self.base = out[..., : self.k]
        self.beta = self.score_scale * th.exp(out[..., self.k].clamp(-5, 5))
        self.kappa = self.backlog_weight * th.exp(out[..., self.k + 1].clamp(-5, 5))
        self.ctx = SlotContext(obs, self.n, self.k - 1, lam, self.queue_gain,
                               self.target_slack)
        self.masks = None
        self.logits = None
        self._actions = None
        return self

    def apply_masking(self, masks: Any) -> None:
        if masks is None:
            self.masks = None
        else:
            m = th.as_tensor(np.asarray(masks) if not isinstance(masks, th.Tensor) else masks,
                             dtype=th.bool, device=self.base.device)
            self.masks = m.view(-1, self.n, self.k)
        self.logits = None
        self._actions = None

    def decode(self, actions: th.Tensor | None = None, noise: th.Tensor | None = None
               ) -> th.Tensor:
        """Run the decoder over the devices; return the (N, U) actions.

        ``actions`` given: teacher forcing (their conditional log-probabilities are kept);
        otherwise each device takes ``argmax(logits + noise)`` (``noise`` Gumbel for a
        sample, ``None`` for the most probable option at each step). The (N, U, M + 1)
        conditional log-probabilities are kept in :attr:`logits`.
        """
        assert self.ctx is not None, "SlotDecoder needs the observation context"
        ctx = self.ctx
        nb, m = self.base.shape[0], self.k - 1
        rows = th.arange(nb, device=self.base.device)
        assigned = th.zeros(nb, self.n, m, device=self.base.device)
        counts = th.zeros(nb, m, device=self.base.device)
        eye = th.eye(m, device=self.base.device)
        valid = th.ones_like(self.base, dtype=th.bool) if self.masks is None else self.masks
        valid = valid.clone()
        if self.energy_guard:
            valid[..., 0] &= ~ctx.no_local
        logit = self._logits(option_scores(ctx, assigned, counts, self.kappa), valid)
        with th.no_grad():  # decide first the devices that gain most from offloading
            gain = logit[..., 1:].max(dim=-1).values - logit[..., 0]
            gain = th.where(ctx.q, gain, th.full_like(gain, -float("inf")))
            order = th.argsort(gain, dim=1, descending=True)
        logps, chosen = [], []
        for p in range(self.n):
            u = order[:, p]
            if p:
                logit = self._logits(option_scores(ctx, assigned, counts, self.kappa), valid)
            logp = th.log_softmax(logit[rows, u], dim=-1)
            if actions is not None:
                a = actions[rows, u].long()
            elif noise is not None:
                a = th.argmax(logp + noise[rows, u], dim=-1)
            else:
                a = th.argmax(logp, dim=-1)
            off = (a > 0).float()[:, None] * eye[(a - 1).clamp(min=0)]
            assigned = assigned.clone()
            assigned[rows, u] = off
            counts = counts + off
            logps.append(logp)
            chosen.append(a)
        inv = th.argsort(order, dim=1)
        self.logits = th.stack(logps, dim=1).gather(1, inv[..., None].expand(-1, -1, self.k))
        self._actions = th.stack(chosen, dim=1).gather(1, inv)
        return self._actions

    def _logits(self, scores: th.Tensor, valid: th.Tensor) -> th.Tensor:
        logit = self.base - self.beta[..., None] * scores
        return th.where(valid, logit, th.full_like(logit, _NEG))
    def _ensure(self, actions: th.Tensor) -> None:
        if self._actions is None or self._actions is not actions:
            self.decode(actions=actions)

    def device_log_prob(self, actions: th.Tensor) -> th.Tensor:
        """(N, U) conditional log-probability of each device's choice."""
        self._ensure(actions)
        assert self.logits is not None
        a = actions.long().view(-1, self.n, 1)
        return th.gather(self.logits, -1, a).squeeze(-1)

    def log_prob(self, actions: th.Tensor) -> th.Tensor:
        return self.device_log_prob(actions).sum(dim=1)

    def device_entropy(self) -> th.Tensor:
        """(N, U) entropies of the conditional choices of the last decode."""
        assert self.logits is not None
        p = self.logits.exp()
        return -(p * th.where(p > 0, self.logits, th.zeros_like(p))).sum(dim=-1)

    def entropy(self) -> th.Tensor:
        return self.device_entropy().sum(dim=1)

    def sample(self) -> th.Tensor:
        u = th.rand(self.base.shape, device=self.base.device).clamp_(1e-12, 1.0)
        return self.decode(noise=-th.log(-th.log(u)))

    def mode(self) -> th.Tensor:
        return self.decode()

    def actions_from_params(self, action_logits: th.Tensor,
                            deterministic: bool = False) -> th.Tensor:
        self.proba_distribution(action_logits)
        return self.get_actions(deterministic=deterministic)

    def log_prob_from_params(self, action_logits: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        actions = self.actions_from_params(action_logits)
        return actions, self.log_prob(actions)


class OffloadPolicy(MaskableActorCriticPolicy):
    """MaskablePPO's actor-critic with :class:`DeviceExtractor`, :class:`SlotDecoder` and a
    cost critic (``cost_net``: one value per constraint cost).

    Extra keyword arguments (in ``policy_kwargs``): ``score_scale``, ``backlog_weight``,
    ``queue_gain``, ``energy_guard`` and ``target_slack`` of the decoder.
    """

    def __init__(self, *args: Any, score_scale: float = 20.0, backlog_weight: float = 2.0,
                 queue_gain: float = 10.0, energy_guard: bool = True,
                 target_slack: float = TARGET_SLACK, **kwargs: Any) -> None:
        self.score_scale, self.backlog_weight = float(score_scale), float(backlog_weight)
        self.queue_gain, self.energy_guard = float(queue_gain), bool(energy_guard)
        self.target_slack = float(target_slack)
        super().__init__(*args, **kwargs)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(score_scale=self.score_scale, backlog_weight=self.backlog_weight,
                    queue_gain=self.queue_gain, energy_guard=self.energy_guard,
                    target_slack=self.target_slack)
        return data

    def _build_mlp_extractor(self) -> None:
        nvec = np.asarray(self.action_space.nvec)
        arch = self.net_arch
        widths = list(arch.get("pi", [64, 64]) if isinstance(arch, dict) else arch or [64])
        self.mlp_extractor = DeviceExtractor(len(nvec), int(nvec[0]) - 1, widths)

    def _build(self, lr_schedule: Any) -> None:
        nvec = np.asarray(self.action_space.nvec)
        if nvec.min() != nvec.max():
            raise ValueError("OffloadPolicy needs the same number of options on every device")
        self.action_dist = SlotDecoder(len(nvec), int(nvec[0]), self.score_scale,
                                       self.backlog_weight, self.queue_gain, self.energy_guard,
                                       self.target_slack)
        super()._build(lr_schedule)
        self.cost_net = nn.Linear(self.mlp_extractor.latent_dim_vf, 3)
        # rebuild the optimiser so that it also trains the cost critic
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1),
                                              **self.optimizer_kwargs)

    @property
    def lam(self) -> th.Tensor:
        """The Lagrange multipliers the network observes and the decoder prices with."""
        return self.mlp_extractor.lam

    def set_multipliers(self, values: Any) -> None:
        """Set the multipliers (called by the learner after each rollout)."""
        self.mlp_extractor.lam.copy_(th.as_tensor(np.asarray(values, dtype=np.float32)))

    def predict_costs(self, obs: th.Tensor) -> th.Tensor:
        """(N, 3) cost-critic values (in the learner's normalised cost units)."""
        latent_vf = self.mlp_extractor.forward_critic(self.extract_features(obs))
        return self.cost_net(latent_vf)

    def evaluate_slot(self, obs: th.Tensor, actions: th.Tensor, action_masks: Any
                      ) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        """Values (N,), cost values (N, 3), per-device log-probs and entropies (N, U)."""
        latent_pi, latent_vf = self.mlp_extractor(self.extract_features(obs))
        dist = self._get_action_dist_from_latent(latent_pi)
        dist.apply_masking(action_masks)
        logp = dist.device_log_prob(actions)
        return (self.value_net(latent_vf).flatten(), self.cost_net(latent_vf), logp,
                dist.device_entropy())

    def decide(self, obs: th.Tensor, action_masks: Any, noise: th.Tensor | None
               ) -> th.Tensor:
        """(N, U) joint actions: sampled with the given Gumbel ``noise``, or the most
        probable option at each decoder step when ``noise`` is None."""
        with th.no_grad():
            dist = self.get_distribution(obs, action_masks=action_masks)
            return dist.decode(noise=noise)
