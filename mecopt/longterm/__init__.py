"""The long-term offloading problem: traces, a batched slot simulator, policies.

Slots ``t = 0..T-1`` of length Delta; U devices issue queries (Bernoulli or Poisson
arrivals), each answered on the device's compact model or offloaded to one of M edge
servers (ES). Minimise the long-term mean latency subject to a per-device energy budget
(mean J per slot), a mean effective-accuracy target A_min and a mean hallucination cap
H_max. The model of a slot is in :mod:`mecopt.longterm.simulator`; the scenario parameters
in :mod:`mecopt.longterm.scenario`.

Quick use::

    import mecopt.longterm as lt
    tr = lt.trace("default", n_devices=20, horizon=500, seed=0)   # common random numbers
    r = lt.run(tr, "lyapunov", V=50.0)
    print(r.summary())            # mean_latency, energy, accuracy, hallucination, feasible
    lt.replay(tr, r.records.actions)  # the same figures, re-evaluated

Stepwise API (for controllers and learned policies)
---------------------------------------------------
``sim = lt.Simulator(trace)`` steps all B members of a trace at once::

    obs = sim.reset()                  # slot 0
    while not sim.done:
        actions = controller(obs)      # (B, U) ints
        out = sim.step(actions)        # SlotOutcome of slot obs.t
        if not sim.done:
            obs = sim.observe()

*Actions* (B, U) integers: ``0`` answers locally, ``j + 1`` offloads to ES ``j``
(``1..M``); on a device without a query (``obs.has_query`` False) the value is ignored,
use ``-1``. (The one-shot :class:`mecopt.Instance` assignment is ``action - 1``.)

*Observation* at the start of slot t (:class:`~mecopt.longterm.simulator.Observation`),
everything a causal controller may know:

- the pending queries, (B, U): ``has_query``, ``alpha``, ``acc_local``, ``acc_edge``,
  ``hall_local``, ``hall_edge`` (probabilities, not outcomes), ``local_delay`` (s),
  ``local_energy`` (J), ``prompt_bits``, ``edge_work`` (FLOP), ``device_wait`` (s);
- the channel of this slot: ``gain`` and ``spectral_eff`` (B, U, M), ``position``;
- the ES state: ``backlog`` (B, M) FLOP and ``backlog_wait`` = backlog / capacity (s);
- virtual queues of the constraints: ``energy_queue`` (B, U) J, ``accuracy_queue`` and
  ``hallucination_queue`` (B,) in queries; running totals ``energy_used``, ``n_queries``,
  ``accuracy_sum``, ``hallucination_sum``, ``latency_sum``;
- static data: ``capacity``, ``per_user_cap``, ``bandwidth``, ``noise`` (B, M),
  ``tx_power``, ``energy_budget`` (B, U), ``slot_s``, ``min_accuracy``,
  ``max_hallucination``, ``horizon``.

Not observable: the realised outcomes (``correct``, ``hallucinated``) and every later slot.

*Outcome* of a slot (:class:`~mecopt.longterm.simulator.SlotOutcome`), (B, U) unless
noted: ``latency`` with its parts ``upload``, ``queue_wait`` (ES backlog),
``processing``, ``device_wait``; ``energy`` per device; ``accuracy``,
``hallucination`` (effective), ``correct``, ``hallucinated`` (realised); ``counts``,
``work``, ``backlog`` (B, M) after the slot; the virtual queues after the slot.

Policies (:data:`~mecopt.longterm.policy_registry.POLICIES`): ``local``, ``offload``
(nearest ES), ``random``, ``greedy`` (myopic delay greedy), ``goa`` (GOA per slot),
``myopic-optimal`` (exact per slot), ``lyapunov`` (drift-plus-penalty, per-slot problem
solved exactly), ``priced`` and ``hindsight`` (the full-horizon optimum,
:mod:`mecopt.longterm.hindsight`). A policy implements
:class:`~mecopt.longterm.protocol.Policy` (``reset(info, rng)``, ``act(obs) -> actions``) or,
seeing the whole trace, :class:`~mecopt.longterm.protocol.OfflinePolicy` (``offline = True``,
``plan(trace, rng) -> (B, T, U) actions``).
"""

from mecopt.longterm.baselines import FixedActions
from mecopt.longterm.devices import BUILTIN_DEVICES, DeviceModel, device_model
from mecopt.longterm.policy_registry import POLICIES, available_policies, make_policy
from mecopt.longterm.protocol import EnvInfo, OfflinePolicy, Policy
from mecopt.longterm.rollout import Rollout, SlotRecords
from mecopt.longterm.run import replay, run, run_batch
from mecopt.longterm.scenario import (
    SCENARIOS,
    InfeasibleScenarioError,
    LongtermScenario,
    make_scenario,
)
from mecopt.longterm.simulator import (
    LOCAL,
    NO_QUERY,
    ActionError,
    Observation,
    Simulator,
    SlotOutcome,
)
from mecopt.longterm.trace_draw import make_trace
from mecopt.longterm.traces import Trace, TraceFormatError

#: ``mecopt.longterm.trace(scenario, n_devices=U, horizon=T, seed=s, **overrides)``.
trace = make_trace

__all__ = [
    "BUILTIN_DEVICES",
    "LOCAL",
    "NO_QUERY",
    "POLICIES",
    "SCENARIOS",
    "ActionError",
    "DeviceModel",
    "EnvInfo",
    "FixedActions",
    "InfeasibleScenarioError",
    "LongtermScenario",
    "Observation",
    "OfflinePolicy",
    "Policy",
    "Rollout",
    "Simulator",
    "SlotOutcome",
    "SlotRecords",
    "Trace",
    "TraceFormatError",
    "available_policies",
    "device_model",
    "make_policy",
    "make_scenario",
    "make_trace",
    "replay",
    "run",
    "run_batch",
    "trace",
]
