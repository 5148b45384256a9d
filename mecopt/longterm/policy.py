"""The policy protocol, the policy registry and the policies that decide by array operations.

An online policy sees one :class:`~mecopt.longterm.simulator.Observation` per slot and
returns a (B, U) action array (0 local, ``j + 1`` ES j, -1 or anything on devices without a
query). An offline policy (``offline = True``, e.g. ``hindsight``) sees the whole trace and
returns every action at once from :meth:`OfflinePolicy.plan`.

Policies are built by name from :data:`POLICIES` through :func:`make_policy`; each has its
own random generator, seeded by the run (never the trace's streams), so every policy is
scored on the same trace.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from mecopt.errors import MissingDependencyError, UnknownNameError
from mecopt.longterm.scenario import LongtermScenario
from mecopt.longterm.simulator import LOCAL, NO_QUERY, Observation
from mecopt.longterm.traces import Trace
from mecopt.registry import Registry


@dataclasses.dataclass(frozen=True)
class EnvInfo:
    """What a policy learns at reset: the static shape of the problem.

    Attributes
    ----------
    scenario
        The scenario parameters.
    batch, horizon, n_devices, n_servers
        B, T, U and M.
    es_positions
        (M, 2) ES positions, m.
    """

    scenario: LongtermScenario
    batch: int
    horizon: int
    n_devices: int
    n_servers: int
    es_positions: np.ndarray

    @classmethod
    def of(cls, trace: Trace) -> EnvInfo:
        """The info of a trace."""
        return cls(scenario=trace.scenario, batch=trace.batch, horizon=trace.horizon,
                   n_devices=trace.n_devices, n_servers=trace.n_servers,
                   es_positions=trace.scenario.es_positions())


@runtime_checkable
class Policy(Protocol):
    """An online policy: decides each slot from the observation alone."""

    name: str

    def reset(self, info: EnvInfo, rng: np.random.Generator) -> None:
        """Prepare for a run (called once, before slot 0)."""
        ...

    def act(self, obs: Observation) -> np.ndarray:
        """(B, U) actions for the slot of ``obs``."""
        ...


@runtime_checkable
class OfflinePolicy(Protocol):
    """A policy that sees the whole trace (a benchmark, not implementable online)."""

    name: str
    offline: bool

    def plan(self, trace: Trace, rng: np.random.Generator) -> np.ndarray:
        """(B, T, U) actions for every slot."""
        ...


def idle(has_query: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """``actions`` with -1 on devices without a query."""
    return np.where(has_query, actions, NO_QUERY)


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


# ---------------------------------------------------------------------- registry
#: Policy factories by name: ``factory(**options) -> Policy | OfflinePolicy``.
POLICIES: Registry[Callable[..., Any]] = Registry("long-term policy")
for _cls in (LocalPolicy, OffloadPolicy, RandomPolicy, GreedyPolicy):
    POLICIES.register(_cls.name, _cls)


def _lazy(module: str, attr: str, name: str, what: str) -> Callable[..., Any]:
    """A factory importing ``module.attr`` on first use, with a clear error if absent."""

    def factory(**options: Any) -> Any:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module.startswith(exc.name):
                raise MissingDependencyError(
                    f"policy {name!r} is not available: {what} ({module}) is not installed "
                    "in this build"
                ) from None
            raise
        return getattr(mod, attr)(**options)

    return factory


POLICIES.register("goa", _lazy("mecopt.longterm.slot_policies", "GoaPolicy", "goa",
                               "the per-slot GOA policy"))
POLICIES.register("myopic-optimal", _lazy("mecopt.longterm.slot_policies", "MyopicOptimal",
                                          "myopic-optimal", "the per-slot exact policy"))
POLICIES.register("lyapunov", _lazy("mecopt.longterm.lyapunov", "LyapunovPolicy", "lyapunov",
                                    "the Lyapunov drift-plus-penalty policy"))
POLICIES.register("priced", _lazy("mecopt.longterm.priced", "make_policy", "priced",
                                  "the priced per-slot policy"))
POLICIES.register("hindsight", _lazy("mecopt.formulations.hindsight", "make_policy",
                                     "hindsight", "the full-horizon hindsight optimum"))


#: Prefixes of saved learned policies: ``ppo:PATH``, ``ppo-lag:PATH``, ``wm-ppo:PATH`` and
#: ``bc:PATH`` (behavioural cloning of hindsight plans).
LEARNED_KINDS = ("ppo", "ppo-lag", "wm-ppo", "bc")


def available_policies() -> list[str]:
    """Names of the registered policies (``hindsight`` only when its module is installed)."""
    names = []
    for name in POLICIES.names():
        if name == "hindsight":
            try:
                found = importlib.util.find_spec("mecopt.formulations.hindsight") is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                continue
        names.append(name)
    return names


def make_policy(policy: str | Policy | OfflinePolicy, **options: Any) -> Any:
    """Return a policy: a registered name built with ``options``, or ``policy`` itself.

    Raises
    ------
    UnknownNameError
        For an unknown name (the message lists the valid ones).
    MissingDependencyError
        For a registered policy whose module is not installed (``hindsight``).
    TypeError
        For options the policy does not take.
    """
    if not isinstance(policy, str):
        if options:
            raise ValueError("options are given to a policy built by name only")
        return policy
    kind, sep, path = policy.partition(":")
    if sep and kind in LEARNED_KINDS:  # a saved learned policy, loaded by mecopt.rl
        return _lazy("mecopt.rl.saved", "load_policy", kind, "learned policies")(
            path=path, algo=kind, **options)
    factory = POLICIES.get(policy)
    try:
        return factory(**options)
    except TypeError as exc:
        raise UnknownNameError(f"policy {policy!r}: bad option(s) {sorted(options)} ({exc})") \
            from None
