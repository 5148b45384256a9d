"""What a long-term policy is: the :class:`Policy` and :class:`OfflinePolicy` protocols.

An online policy sees one :class:`~mecopt.longterm.simulator.Observation` per slot and
returns a (B, U) action array (0 local, ``j + 1`` ES j, -1 or anything on devices without a
query). An offline policy (``offline = True``, e.g. ``hindsight``) sees the whole trace and
returns every action at once from :meth:`OfflinePolicy.plan`. At reset a policy learns the
static shape of the problem (:class:`EnvInfo`) and gets its own random generator, seeded by
the run (never the trace's streams), so every policy is scored on the same trace.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol, runtime_checkable

import numpy as np

from mecopt.longterm.scenario import LongtermScenario
from mecopt.longterm.simulator import NO_QUERY, Observation
from mecopt.longterm.traces import Trace

__all__ = ["EnvInfo", "OfflinePolicy", "Policy", "idle"]


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
        return cls(
            scenario=trace.scenario,
            batch=trace.batch,
            horizon=trace.horizon,
            n_devices=trace.n_devices,
            n_servers=trace.n_servers,
            es_positions=trace.scenario.es_positions(),
        )


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
