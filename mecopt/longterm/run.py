"""Score a policy on a trace: :func:`run` (one member), :func:`run_batch` (every member at
once) and :func:`replay` (re-evaluate fixed actions). All go through the one stepper,
:class:`~mecopt.longterm.simulator.Simulator`."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mecopt.longterm.baselines import FixedActions
from mecopt.longterm.policy_registry import available_policies, make_policy
from mecopt.longterm.protocol import EnvInfo, OfflinePolicy
from mecopt.longterm.rollout import Rollout, SlotRecords
from mecopt.longterm.simulator import Simulator, SlotArrays, SlotOutcome
from mecopt.longterm.traces import Trace


def _policy_rng(seed: int) -> np.random.Generator:
    """The policy's own stream: independent of every trace stream (common random numbers)."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EED]))


#: Names :func:`run` itself takes; a policy option of the same name would collide.
RUN_PARAMETERS = ("trace", "policy", "seed", "progress", "validate")


def _real(low: float | None = None, high: float | None = None, *, low_open: bool = False,
          none: bool = False) -> Callable[[str, Any], None]:
    """A check that a value is a finite real number (not a bool or a string) in a range."""

    def check(key: str, value: Any) -> None:
        if value is None and none:
            return
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer |
                                                     np.floating):
            raise ValueError(f"option {key} = {value!r}: must be a number"
                             + (" or null" if none else ""))
        x = float(value)
        bad = (not math.isfinite(x) or (low is not None and (x <= low if low_open else x < low))
               or (high is not None and x > high))
        if bad:
            rng = (f"{'(' if low_open else '['}{low if low is not None else '-inf'}, "
                   f"{high if high is not None else 'inf'}{']' if high is not None else ')'}")
            raise ValueError(f"option {key} = {value!r}: must be a finite number in {rng}")

    return check


def _whole(low: int) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"option {key} = {value!r}: must be a whole number >= {low}")

    return check


def _flag(key: str, value: Any) -> None:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"option {key} = {value!r}: must be true or false")


def _name(key: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"option {key} = {value!r}: must be a non-empty name")


def _incumbents(key: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValueError(f"option {key} = {value!r}: must be a list of policy names, e.g. "
                         '["greedy", "lyapunov"]')
    valid = [n for n in available_policies() if n != "hindsight"]
    for name in value:
        if not isinstance(name, str) or name not in valid:
            raise ValueError(f"option {key}: {name!r} is not an online policy; valid: "
                             + ", ".join(valid))


#: Checks of the policy options whose meaning is shared by every policy taking them (the
#: policies check their own ranges too; these also refuse ``true`` for 1 and ``"0.5"``).
OPTION_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "V": _real(0.0, low_open=True),
    "p_offload": _real(0.0, 1.0),
    "tau": _real(0.0, 1.0, none=True),
    "time_limit": _real(0.0, low_open=True, none=True),
    "threads": _whole(1),
    "gap_tol": _real(0.0),
    "margin": _real(0.0, 1.0, low_open=True),
    "lp_counts": _whole(1),
    "seed": _whole(0),
    "incumbents": _incumbents,
    "solver": _name,
    "verbose": _flag,
    "deterministic": _flag,
}


def check_options(policy: Any, options: dict[str, Any]) -> None:
    """Validate the options of a policy before any work (the message names key and value).

    Raises
    ------
    ValueError
        For an option that collides with a parameter of :func:`run`
        (:data:`RUN_PARAMETERS`), a value of the wrong type or out of range
        (:data:`OPTION_CHECKS`), or options given to a policy object.
    """
    if not isinstance(policy, str):
        online = all(callable(getattr(policy, m, None)) for m in ("reset", "act"))
        if not online and not callable(getattr(policy, "plan", None)):
            raise ValueError(f"policy = {policy!r}: must be a policy name or a policy object "
                             "(reset and act, or plan)")
        if options:
            raise ValueError("options are given to a policy built by name only")
        return
    if not policy:
        raise ValueError("policy: empty name")
    for key, value in options.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"policy option name {key!r}: must be a non-empty string")
        if key in RUN_PARAMETERS:
            raise ValueError(f"option {key} = {value!r} of policy {policy!r} collides with "
                             f"run()'s own {key!r} parameter; give the run's {key} instead")
        check = OPTION_CHECKS.get(key)
        if check is not None:
            check(key, value)


def build_policy(policy: Any, **options: Any) -> Any:
    """:func:`check_options`, then the policy (:func:`make_policy`); unknown options of a
    named policy are a :class:`~mecopt.errors.UnknownNameError` (a ``ValueError``)."""
    check_options(policy, options)
    return make_policy(policy, **options)


def run_batch(trace: Trace, policy: Any = "local", *, seed: int = 0,
              progress: Callable[[int], None] | None = None, validate: bool = True,
              **options: Any) -> list[Rollout]:
    """Run a policy on every member of ``trace`` (one batched simulation).

    Parameters
    ----------
    trace
        The trace (B members).
    policy
        A registered name (see :func:`~mecopt.longterm.policy_registry.available_policies`) or a
        policy object.
    seed
        Seed of the policy's own random stream (>= 0).
    progress
        Called with the number of slots done after each slot.
    validate
        Check every action array (see :class:`~mecopt.longterm.simulator.Simulator`).
    **options
        Options of the named policy.

    Returns
    -------
    list of Rollout
        One per member, in order.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed = {seed!r}: must be a whole number >= 0")
    if not isinstance(trace, Trace):
        raise TypeError(f"trace must be a mecopt.longterm.Trace, got {type(trace).__name__}")
    if progress is not None and not callable(progress):
        raise ValueError(f"progress = {progress!r}: must be a callable or None")
    name = policy if isinstance(policy, str) else getattr(policy, "name", type(policy).__name__)
    pol = build_policy(policy, **options)
    rng = _policy_rng(seed)
    sim = Simulator(trace, validate=validate)
    b, t_max, u = trace.batch, trace.horizon, trace.n_devices
    rec = _Recorder(b, t_max, u, trace.n_servers)
    start = time.perf_counter()
    decide = 0.0
    if getattr(pol, "offline", False) and isinstance(pol, OfflinePolicy):
        plan = np.asarray(pol.plan(trace, rng))
        decide = time.perf_counter() - start
        for t in range(t_max):
            rec.add(sim.step(plan[:, t]))
            if progress is not None:
                progress(t + 1)
    else:
        pol.reset(EnvInfo.of(trace), rng)
        obs = sim.reset()
        for t in range(t_max):
            t0 = time.perf_counter()
            actions = pol.act(obs)
            decide += time.perf_counter() - t0
            rec.add(sim.step(actions))
            if progress is not None:
                progress(t + 1)
            if t + 1 < t_max:
                obs = sim.observe()
    info = dict(getattr(pol, "stats", lambda: {})())
    scen = trace.scenario
    out = []
    for k in range(b):
        out.append(Rollout(
            policy=str(name), options=dict(options), seed=int(seed),
            trace_seed=trace.seeds[k], records=rec.records(k),
            energy_budget=np.array(trace.energy_budget[k]),
            min_accuracy=scen.min_accuracy, max_hallucination=scen.max_hallucination,
            slot_s=scen.slot_s, runtime=decide / b, info=info,
        ))
    return out


def run(trace: Trace, policy: Any = "local", *, seed: int = 0,
        progress: Callable[[int], None] | None = None, **options: Any) -> Rollout:
    """Run a policy on a one-member trace and return its :class:`Rollout`.

    Parameters
    ----------
    trace
        A trace with B = 1 (``trace[b]`` picks a member of a batch; :func:`run_batch` runs
        them all at once).
    policy
        A registered name or a policy object.
    seed
        Seed of the policy's own random stream.
    progress
        Called with the number of slots done after each slot.
    **options
        Options of the named policy (``V`` for ``lyapunov``, ``p_offload`` for ``random``,
        ``solver`` and ``time_limit`` for the exact ones, ...).

    Examples
    --------
    >>> import mecopt.longterm as lt
    >>> tr = lt.trace(n_devices=5, horizon=50, seed=0)
    >>> r = lt.run(tr, "local")
    >>> r.offload_share
    0.0
    >>> r.feasible     # always-local misses the accuracy target of the default scenario
    False
    """
    if not isinstance(trace, Trace):
        raise TypeError(f"trace must be a mecopt.longterm.Trace, got {type(trace).__name__}")
    if trace.batch != 1:
        raise ValueError(f"run() scores one trace member, this trace has B = {trace.batch}; "
                         "use run_batch() or trace[b]")
    return run_batch(trace, policy, seed=seed, progress=progress, **options)[0]


def replay(trace: Trace, actions: np.ndarray) -> Rollout:
    """Re-evaluate fixed (T, U) actions on a one-member trace with the simulator."""
    return run(trace, FixedActions(actions))


class _Recorder:
    """Collects the slot outcomes of a batch into (B, T, ...) arrays, one per field of
    :class:`SlotRecords` (the :class:`SlotArrays` of each slot, and ``has_query``)."""

    def __init__(self, b: int, t: int, u: int, m: int) -> None:
        self.horizon = t
        self.arr: dict[str, np.ndarray] = {"has_query": np.zeros((b, t, u), bool),
                                           "backlog": np.zeros((b, t + 1, m))}

    def add(self, out: SlotOutcome) -> None:
        t, a = out.t, self.arr
        for name in _SLOT_ARRAYS:
            value = getattr(out, name)
            if name not in a:
                a[name] = np.zeros((value.shape[0], self.horizon, *value.shape[1:]),
                                   _DTYPES.get(name, value.dtype))
            a[name][:, t] = value
        a["has_query"][:, t] = out.actions >= 0
        a["backlog"][:, t + 1] = out.backlog

    def records(self, k: int) -> SlotRecords:
        return SlotRecords(**{name: arr[k].copy() for name, arr in self.arr.items()})


#: The per-slot arrays recorded slot by slot (the backlog is recorded after each slot).
_SLOT_ARRAYS = tuple(f.name for f in dataclasses.fields(SlotArrays) if f.name != "backlog")
#: Record dtypes that differ from the simulator's arrays (counts are whole numbers).
_DTYPES = {"actions": np.int64, "counts": np.int64}
