"""Choosing which variant each device class hosts, jointly with offloading.

:func:`deployment_problem` turns an offloading instance, a list of variants and device
classes into a :class:`mecopt.formulations.deployment.DeploymentProblem`: user i of class c
answering with variant v takes ``v.latency_s(device_c, prompt_i, output_tokens)`` seconds and
``v.energy_j(...)`` J (modelled), with the variant's accuracy and hallucination; prompt tokens
are the prompt's bytes / 4 (about 4 bytes per token). :func:`solve_deployment` solves it:

- ``"milp"``: the exact joint MILP (:mod:`mecopt.formulations.deployment`, HiGHS);
- ``"bruteforce"``: every variant choice, each with the brute-force offloading optimum
  (tiny cases only; the check of the MILP);
- ``"greedy"``: the baseline: each class hosts the most accurate variant that fits, then GOA
  offloads.

Every answer is re-evaluated by :func:`mecopt.evaluate` on the deployed instance.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mecopt.evaluate import Metrics, evaluate
from mecopt.formulations.deployment import DeploymentProblem, build, solve_milp
from mecopt.instance import Instance
from mecopt.variants.hardware import Device, device
from mecopt.variants.variant import Variant

__all__ = ["METHODS", "DeploymentResult", "deployment_problem", "solve_deployment"]

METHODS = ("milp", "greedy", "bruteforce")
BYTES_PER_TOKEN = 4.0


@dataclass(frozen=True, eq=False)
class DeploymentResult:
    """A deployment choice and what it achieves.

    Attributes
    ----------
    method
        ``"milp"``, ``"greedy"`` or ``"bruteforce"``.
    status
        ``"optimal"`` (proven), ``"feasible"`` (a heuristic, or a time limit), ``"infeasible"``.
    choice
        Variant name hosted by each device class (``None``: none).
    assignment
        (N,) -1 local, j offloaded to ES j (``None`` when infeasible).
    metrics
        :func:`mecopt.evaluate` of the deployed instance (``None`` when infeasible).
    objective, bound
        Mean weighted cost, s, and the proven lower bound (exact methods).
    solver, solver_version, runtime, seed, threads, time_limit
        What reproduces it.
    """

    method: str
    status: str
    choice: dict[str, str | None]
    assignment: np.ndarray | None
    metrics: Metrics | None
    objective: float | None
    bound: float | None
    solver: str
    solver_version: str
    runtime: float
    seed: int = 0
    threads: int = 1
    time_limit: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary."""
        m = self.metrics
        return {
            "method": self.method, "status": self.status, "choice": self.choice,
            "objective": self.objective, "bound": self.bound,
            "mean_delay": None if m is None else m.mean_delay,
            "accuracy": None if m is None else m.accuracy,
            "mean_energy": None if m is None else m.mean_energy,
            "mean_hallucination": None if m is None else m.mean_hallucination,
            "n_offloaded": None if m is None else m.n_offloaded,
            "feasible": None if m is None else m.feasible,
            "solver": self.solver, "solver_version": self.solver_version,
            "runtime": self.runtime, "seed": self.seed, "threads": self.threads,
            "time_limit": self.time_limit,
        }


def deployment_problem(
    inst: Instance,
    variants: Sequence[Variant],
    classes: Sequence[Device | str],
    user_class: np.ndarray | None = None,
    *,
    output_tokens: int = 128,
    context_tokens: int = 4096,
) -> DeploymentProblem:
    """Build the deployment problem of ``inst`` over ``variants`` and device ``classes``.

    Parameters
    ----------
    inst
        Offloading instance (interference ``"none"`` for the exact MILP).
    variants
        Candidate variants (at least one).
    classes
        Device classes.
    user_class
        (N,) class index of each user; default: users cycle through the classes.
    output_tokens, context_tokens
        Answer length and the context used for the memory check.

    Raises
    ------
    ValueError
        For no variants or classes, or a bad ``user_class``.
    """
    if not variants:
        raise ValueError("variants: need at least one variant")
    if not classes:
        raise ValueError("classes: need at least one device class")
    devs = [device(c) for c in classes]
    n = inst.n_users
    uc = np.arange(n) % len(devs) if user_class is None else np.asarray(user_class)
    prompt = np.maximum(1, np.rint(inst.prompt_bits / 8.0 / BYTES_PER_TOKEN)).astype(int)
    n_var = len(variants)
    delay = np.empty((n, n_var))
    energy = np.empty((n, n_var))
    acc = np.empty((n, n_var))
    hall = np.empty((n, n_var))
    for v, var in enumerate(variants):
        if not np.isfinite(var.accuracy.value):
            raise ValueError(f"variant {var.name}: accuracy unknown (no published score)")
        for c, d in enumerate(devs):
            sel = uc == c
            delay[sel, v] = [var.latency_s(d, int(t), output_tokens) for t in prompt[sel]]
            energy[sel, v] = d.power_w * delay[sel, v]
        acc[:, v] = var.accuracy.value
        hall[:, v] = var.hallucination.value
    fits = np.array([[var.fits(d, context_tokens) for var in variants] for d in devs])
    return DeploymentProblem(
        instance=inst, user_class=uc.astype(np.int64), local_delay=delay, local_energy=energy,
        acc_local=acc, hall_local=hall if inst.hall_edge is not None else None, fits=fits,
        class_names=tuple(d.name for d in devs), variant_names=tuple(v.name for v in variants),
    )


def _names(problem: DeploymentProblem, choice: Sequence[int]) -> dict[str, str | None]:
    return {problem.class_names[c]: (problem.variant_names[v] if v >= 0 else None)
            for c, v in enumerate(choice)}


def solve_deployment(
    problem: DeploymentProblem,
    method: str = "milp",
    *,
    time_limit: float | None = None,
    seed: int = 0,
    threads: int = 1,
) -> DeploymentResult:
    """Choose each class's variant and the offloading (see the module docstring).

    Raises
    ------
    ValueError
        For an unknown method.
    """
    if method not in METHODS:
        raise ValueError(f"method = {method!r}: valid methods: {', '.join(METHODS)}")
    start = time.perf_counter()
    common = {"seed": seed, "threads": threads, "time_limit": time_limit}
    if method == "milp":
        out = solve_milp(build(problem), time_limit=time_limit, threads=threads, seed=seed)
        if out["assignment"] is None:
            return DeploymentResult("milp", str(out["status"]), {}, None, None, None,
                                    out["bound"], str(out["solver"]), str(out["solver_version"]),
                                    time.perf_counter() - start, **common)
        choice = np.asarray(out["choice"])
        metrics = evaluate(problem.deployed(choice), out["assignment"])
        return DeploymentResult("milp", str(out["status"]), _names(problem, choice),
                                np.asarray(out["assignment"]), metrics, metrics.objective,
                                out["bound"], str(out["solver"]), str(out["solver_version"]),
                                time.perf_counter() - start, **common)
    from mecopt.solve import solve

    if method == "greedy":
        choice = []
        for c, opts in enumerate(problem.choices()):
            if opts == [-1]:
                choice.append(-1)
                continue
            users = problem.user_class == c
            best = max(opts, key=lambda v: (problem.acc_local[users, v].mean(),
                                            -problem.local_delay[users, v].mean()))
            choice.append(best)
        res = solve(problem.deployed(choice), "goa", seed=seed)
        ok = res.assignment is not None and res.metrics.feasible
        return DeploymentResult(
            "greedy", "feasible" if ok else "infeasible", _names(problem, choice),
            res.assignment, res.metrics if ok else None, res.objective if ok else None, None,
            "greedy+goa", res.solver_version, time.perf_counter() - start, **common)
    best_res, best_choice = None, None
    for choice in itertools.product(*problem.choices()):
        res = solve(problem.deployed(list(choice)), "bruteforce", seed=seed)
        if res.assignment is None or not res.metrics.feasible:
            continue
        if best_res is None or res.objective < best_res.objective - 1e-12:
            best_res, best_choice = res, list(choice)
    runtime = time.perf_counter() - start
    if best_res is None:
        return DeploymentResult("bruteforce", "infeasible", {}, None, None, None, None,
                                "bruteforce", "", runtime, **common)
    return DeploymentResult("bruteforce", "optimal", _names(problem, best_choice),
                            best_res.assignment, best_res.metrics, best_res.objective,
                            best_res.objective, "bruteforce", best_res.solver_version, runtime,
                            **common)
