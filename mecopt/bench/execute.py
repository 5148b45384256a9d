"""One task, run where it will be solved: build the instance, solve, turn it into a row.

These functions run inside the child process that the executors start (and kill at the
hard limit). They never raise: a failure becomes a row with status ``"error"``.
"""

from __future__ import annotations

import datetime
import json
import os
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from mecopt.bench.bounds import lower_bound
from mecopt.bench.provenance import environment
from mecopt.bench.spec import Task

#: Statuses a row can carry beyond :data:`mecopt.result.STATUSES`.
BENCH_STATUSES = ("timeout", "error", "crashed")

Message = tuple[str, dict[str, Any]]


def now() -> str:
    """UTC time stamp, ISO 8601."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def base_row(task: Task) -> dict[str, Any]:
    """The columns known before the solve: the task, the environment, the solver's version."""
    from mecopt.bench.kinds import ONESHOT, task_kind
    from mecopt.solve import get_solver

    kind = getattr(task, "kind", ONESHOT)
    try:
        if kind == ONESHOT:
            impl, _ = get_solver(task.solver)
            solver_kind = getattr(impl, "kind", "")
            version = str(impl.version())
        else:
            solver_kind = kind
            version = task_kind(kind).solver_version(task.solver)
    except Exception as exc:  # noqa: BLE001 - a missing package must not stop the sweep
        version = f"unavailable ({type(exc).__name__})"
    return {
        "sweep": task.sweep,
        "instance_key": task.instance_key,
        "scenario": task.scenario,
        "n_users": task.n_users,
        "seed": task.seed,
        "overrides": json.dumps(dict(sorted(task.overrides.items()))),
        "solver": task.label,
        "solver_name": task.solver,
        "solver_options": json.dumps(dict(sorted(task.solver_options.items()))),
        "kind": solver_kind,
        "task_kind": kind,
        "horizon": getattr(task, "horizon", None),
        "time_limit": task.time_limit,
        "hard_limit": task.hard_limit,
        "threads": task.threads,
        "solver_version": version,
        **environment(),
    }


def prepare(tasks: Iterable[Task]) -> None:
    """Import, in this process, every module the tasks' solves will need.

    Children forked afterwards then share one snapshot of the code (files edited while a
    sweep runs cannot give a solve a mix of old and new modules) and start faster.
    """
    import importlib
    import pkgutil

    from mecopt.bench.kinds import ONESHOT, task_kind
    from mecopt.solve import get_solver

    environment()  # cached here, so every row records the code the children run
    tasks = list(tasks)
    for kind in sorted({t.kind for t in tasks} - {ONESHOT}):
        task_kind(kind).prepare([t for t in tasks if t.kind == kind])
    tasks = [t for t in tasks if t.kind == ONESHOT]
    exact = False
    for name in sorted({t.solver for t in tasks}):
        impl, _ = get_solver(name)
        exact = exact or getattr(impl, "kind", "") == "exact"
        try:
            impl.available()
        except Exception:  # noqa: BLE001 - the solve itself will record the failure
            continue
    if exact:
        for package in ("mecopt.formulations", "mecopt.solvers"):
            pkg = importlib.import_module(package)
            for info in pkgutil.iter_modules(pkg.__path__):
                try:
                    importlib.import_module(f"{package}.{info.name}")
                except ImportError:  # an optional backend that is not installed
                    continue


def instance_columns(task: Task) -> dict[str, Any]:
    """Build the instance; return its describing columns and its proven lower bound."""
    import mecopt

    inst = mecopt.scenario(task.scenario, task.n_users, task.seed, **task.overrides)
    return {
        "interference": inst.interference,
        "queue": inst.queue,
        "tau": inst.tau,
        "min_accuracy": inst.min_accuracy,
        "lower_bound": lower_bound(inst),
    }


def progress_logger(task: Task) -> Callable[[dict[str, Any]], None]:
    """A ``progress`` callback logging an exact solve's incumbent, bound and gap (INFO on
    the ``mecopt.bench`` logger)."""
    import logging

    log = logging.getLogger("mecopt.bench")

    def log_event(event: dict[str, Any]) -> None:
        log.info("%s N=%d seed=%d %.2f s %s: incumbent %s bound %s gap %s", task.solver,
                 task.n_users, task.seed, event["time"], event["source"], event["incumbent"],
                 event["bound"], event["gap"])

    return log_event


def solve_task(task: Task, send: Callable[[Message], None]) -> None:
    """Run ``task`` and report through ``send``.

    Sends ``("instance", columns)`` once the instance is built, then ``("result", row)``.
    """
    import mecopt
    from mecopt.bench.kinds import ONESHOT, task_kind
    from mecopt.solve import get_solver

    started = now()
    t0 = time.perf_counter()
    row = base_row(task)
    row["started_at"] = started
    row["load_avg"] = load_average()
    try:
        if task.kind != ONESHOT:
            send(("instance", dict(row)))
            row.update(task_kind(task.kind).run(task))
        else:
            row.update(instance_columns(task))
            send(("instance", dict(row)))
            inst = mecopt.scenario(task.scenario, task.n_users, task.seed, **task.overrides)
            options = dict(task.solver_options)
            if "progress" in get_solver(task.solver)[0].options:
                options.setdefault("progress", progress_logger(task))
            # The peak from here on is the solve's (the instance already built; the per-user
            # bound above, which can take more memory than a heuristic, excluded).
            row["start_rss_mb"] = start_memory()
            cpu = time.process_time()
            res = mecopt.solve(inst, task.solver, time_limit=task.time_limit, seed=task.seed,
                               threads=task.threads, **options)
            row["cpu_time"] = time.process_time() - cpu
            row.update({
                "status": res.status,
                "stop": res.stop,
                "gap_tol": res.gap_tol,
                "objective": res.objective,
                "bound": res.bound,
                "gap": res.gap,
                "accuracy": res.accuracy,
                "n_offloaded": res.n_offloaded,
                "mean_comm_delay": None if res.metrics is None else
                float(res.metrics.comm_delay.mean()),
                "mean_edge_delay": None if res.metrics is None else
                float(res.metrics.edge_delay.mean()),
                "runtime": res.runtime,
                "solver_version": res.solver_version,
                "threads": res.threads,
                "message": res.message[:500],
            })
    except Exception as exc:  # noqa: BLE001 - recorded, the sweep goes on
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        row.update({"status": "error", "message": tb[:500]})
    row["wall_time"] = time.perf_counter() - t0
    row["finished_at"] = now()
    if row.get("start_rss_mb") is not None:
        row["peak_rss_mb"] = _status_mb("VmHWM")
    send(("result", row))


def load_average() -> float | None:
    """The 1-minute load average (``None`` where the system has none)."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def _status_mb(field: str) -> float | None:
    """A memory field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MB (Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        return None
    return None


def start_memory() -> float | None:
    """Reset this process's peak resident memory to its current size (Linux: ``5`` to
    ``/proc/self/clear_refs``; a forked child otherwise inherits its parent's peak) and
    return that size in MB, so that ``VmHWM`` at the end is the solve's own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return None
    return _status_mb("VmRSS")
