"""The demo's compact-variant part: which variant each device class hosts.

The kim2026 instance's users cycle through the device classes; the candidates are the
catalogue's variants with a known accuracy. :func:`mecopt.deploy.solve_deployment`
chooses each class's variant jointly with the offloading, exactly (``milp``) and by the
greedy baseline (each class hosts its most accurate variant that fits, then GOA). The same
as ``mecopt variants deploy --catalogue CATALOGUE --users N``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mecopt.demo.settings import DemoSettings
from mecopt.deploy import DeploymentResult, deployment_problem, solve_deployment
from mecopt.scenarios import scenario
from mecopt.variants import catalogue

#: Deployment methods shown: the exact MILP and the greedy baseline.
METHODS = ("milp", "greedy")


@dataclass(frozen=True)
class DeploymentDemo:
    """The deployment part of the demo.

    Attributes
    ----------
    problem
        The :class:`~mecopt.formulations.deployment.DeploymentProblem` (per-user modelled
        local latency of every candidate, ``fits`` per class and variant).
    variants
        The candidate :class:`~mecopt.variants.variant.Variant` objects.
    results
        ``method -> DeploymentResult`` for :data:`METHODS`.
    catalogue, n_users, n_servers
        What was solved.
    """

    problem: Any
    variants: list[Any]
    results: dict[str, DeploymentResult]
    catalogue: str
    n_users: int
    n_servers: int

    def title(self) -> str:
        """The setting in words."""
        classes = self.problem.class_names
        return (
            f"{self.catalogue} catalogue, kim2026: N = {self.n_users} users in "
            f"{len(classes)} device classes, M = {self.n_servers} edge servers"
        )

    def per_class(self, method: str) -> list[dict[str, Any]]:
        """Per device class: hosted variant, users, users answering locally, mean delay (ms)."""
        res = self.results[method]
        out = []
        for c, name in enumerate(self.problem.class_names):
            users = self.problem.user_class == c
            row = {
                "class": name,
                "variant": res.choice.get(name),
                "users": int(users.sum()),
                "local": None,
                "delay_ms": None,
            }
            if res.assignment is not None and res.metrics is not None:
                row["local"] = int((res.assignment[users] < 0).sum())
                row["delay_ms"] = 1e3 * float(np.mean(res.metrics.delay[users]))
            out.append(row)
        return out

    def table(self) -> str:
        """A fixed-width text table of both methods."""
        head = (
            f"{'method':<8}{'status':<10}{'device class':<18}{'hosts':<14}"
            f"{'local/users':>12}{'delay ms':>10}"
        )
        lines = [head, "-" * len(head)]
        for method in METHODS:
            res = self.results[method]
            for row in self.per_class(method):
                local = "-" if row["local"] is None else f"{row['local']}/{row['users']}"
                delay = "-" if row["delay_ms"] is None else f"{row['delay_ms']:.3f}"
                lines.append(
                    f"{method:<8}{res.status:<10}{row['class']:<18}"
                    f"{row['variant'] or '-':<14}{local:>12}{delay:>10}"
                )
            if res.objective is not None:
                lines.append(
                    f"{'':<8}mean delay {1e3 * res.objective:.4f} ms, accuracy "
                    f"{res.metrics.accuracy:.4f} ({res.solver} {res.solver_version}, "
                    f"{res.runtime:.2f} s)"
                )
        lines.append(
            "accuracy of the variants measured (held-out bAbI-style questions); "
            "local latency and energy modelled for each device class"
        )
        return "\n".join(lines)


def run_deployment(settings: DemoSettings) -> DeploymentDemo:
    """Solve the deployment of ``settings.catalogue`` over ``settings.device_classes``."""
    variants = [v for v in catalogue(settings.catalogue) if math.isfinite(v.accuracy.value)]
    inst = scenario("kim2026", settings.deploy_users, settings.seed)
    problem = deployment_problem(
        inst, variants, list(settings.device_classes), output_tokens=settings.output_tokens
    )
    results = {
        m: solve_deployment(problem, m, time_limit=settings.time_limit, seed=settings.seed)
        for m in METHODS
    }
    return DeploymentDemo(
        problem, variants, results, settings.catalogue, inst.n_users, inst.n_servers
    )
