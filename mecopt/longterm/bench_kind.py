"""The ``longterm`` task kind of :mod:`mecopt.bench`: one policy scored on one trace.

A task's ``scenario`` is a long-term scenario name, ``n_users`` the number of devices,
``horizon`` the number of slots, ``overrides`` scenario parameters, ``solver`` the policy
name with ``solver_options`` its options and ``seed`` both the trace seed and the policy's
own stream (separate streams: common random numbers across policies).

The row: ``objective`` = mean latency (s), ``accuracy`` = mean effective accuracy,
``n_offloaded`` = queries offloaded, ``runtime`` = the policy's decision time, ``status``
``"feasible"`` when every long-term constraint holds on the trace and ``"violates"``
otherwise (``message`` lists the violations); ``bound`` carries a proven lower bound when
the policy reports one (``hindsight``). ``metrics`` holds the rollout summary as JSON
(energy, hallucination, realised outcomes, offload share, backlog wait, violations).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from mecopt._version import __version__
from mecopt.errors import UnknownNameError
from mecopt.longterm.policy_registry import LEARNED_KINDS, POLICIES, _lazy
from mecopt.longterm.scenario import SCENARIOS, LongtermScenario, make_scenario
from mecopt.longterm.trace_draw import check_trace_size


class LongtermKind:
    """The plug-in object (see :class:`mecopt.bench.kinds.TaskKind`)."""

    name = "longterm"

    def check_scenario(self, scenario: str) -> None:
        SCENARIOS.get(scenario)

    def scenario_options(self, scenario: str) -> set[str]:
        return {f.name for f in dataclasses.fields(LongtermScenario)} - {"name"}

    def check_solver(self, where: str, name: str, options: Mapping[str, Any]) -> None:
        from mecopt.longterm.run import build_policy, check_options

        if name not in POLICIES and name.partition(":")[0] not in LEARNED_KINDS:
            raise UnknownNameError(f"{where}: unknown long-term policy {name!r}; valid names: "
                                   + ", ".join(repr(n) for n in POLICIES.names()))
        if "seed" in options:
            raise ValueError(f"{where}.options.seed: a task's policy seed is its trace seed "
                             "(the grid's seeds), not an option")
        kind, sep, path = name.partition(":")
        try:  # option names, types and ranges; a learned policy's file is read
            if sep and kind in LEARNED_KINDS:
                # metadata only: a network loaded here would start torch's thread pool in
                # the parent, and the forked workers would hang in their first torch call
                check_options(name, dict(options))
                _check_learned(kind, path, dict(options))
            else:
                build_policy(name, **dict(options))
        except (ValueError, TypeError, FileNotFoundError) as exc:
            raise ValueError(f"{where}: {exc}") from None

    def check_grid(self, where: str, *, scenario: str, overrides: Mapping[str, Any],
                   sizes: list[int], horizon: int | None, solvers: list[Any]) -> None:
        """Every scenario value and the largest trace, before any task runs."""
        try:
            make_scenario(scenario, **dict(overrides))
            check_trace_size(max(sizes), int(horizon or 1))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}.options {dict(overrides)}: {exc}") from None

    def solver_version(self, name: str) -> str:
        return f"mecopt {__version__}"

    def prepare(self, tasks: Iterable[Any]) -> None:
        # Load the profiles (and their fitted curves) once, before the children fork.
        for scen, overrides in {(t.scenario, json.dumps(dict(t.overrides), sort_keys=True))
                                for t in tasks}:
            try:
                make_scenario(scen, **json.loads(overrides))
            except ValueError:
                continue  # the task itself records the error

    def run(self, task: Any) -> dict[str, Any]:
        from mecopt.longterm.run import run
        from mecopt.longterm.trace_draw import make_trace

        tr = make_trace(task.scenario, n_devices=task.n_users, horizon=task.horizon,
                        seed=task.seed, **dict(task.overrides))
        r = run(tr, task.solver, seed=task.seed, **dict(task.solver_options))
        summary = r.summary_dict()
        bound = _first(r.info.get("bound"))
        bound = float(bound) if bound is not None else None
        status = _first(r.info.get("status")) or ("feasible" if r.feasible else "violates")
        return {
            "status": status,
            "objective": r.mean_latency,
            "bound": bound,
            "gap": (max(r.mean_latency - bound, 0.0) / r.mean_latency
                    if bound is not None and math.isfinite(bound) and r.mean_latency > 0
                    else None),
            "accuracy": r.accuracy,
            "n_offloaded": int((r.records.actions > 0).sum()),
            "runtime": r.runtime,
            "message": "; ".join(r.violations)[:500],
            "metrics": json.dumps(summary, default=str),
        }


def _check_learned(kind: str, path: str, options: dict[str, Any]) -> None:
    """A saved learned policy's file and options, checked by :mod:`mecopt.rl` without
    loading the network (imported lazily: ``longterm`` sits below ``rl``)."""
    _lazy("mecopt.rl.saved", "check_policy", kind, "learned policies")(
        path=path, algo=kind, **options)


def _first(value: Any) -> Any:
    """A per-member list's only entry (bench runs one member), or the value itself."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


#: The plug-in instance named in :data:`mecopt.bench.kinds.TASK_KINDS`.
LONGTERM = LongtermKind()
