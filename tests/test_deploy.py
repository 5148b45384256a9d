"""Deployment choice: the joint MILP against enumeration with brute force, and the baseline."""

from __future__ import annotations

import numpy as np
import pytest

import mecopt
import mecopt.variants as mv
from mecopt.deploy import deployment_problem, solve_deployment
from mecopt.formulations.deployment import DeploymentProblem, build


def random_problem(seed: int, kind: str) -> DeploymentProblem:
    """N = 4 users, 2 ESs, 2 classes, 3 variants, with the constraint family ``kind``."""
    rng = np.random.default_rng(seed)
    inst = mecopt.scenario("uniform", 4, seed=seed)
    n, v = inst.n_users, 3
    edge = float(np.median(inst.local_delay))
    delay = rng.uniform(0.3, 2.0, size=(n, v)) * edge
    energy = rng.uniform(0.5, 2.0, size=(n, v))
    acc = np.tile(rng.uniform(0.3, 0.9, size=v), (n, 1))
    hall = np.tile(rng.uniform(0.05, 0.4, size=v), (n, 1))
    fits = rng.random((2, v)) < 0.7
    fits[:, 0] |= ~fits.any(axis=1)  # every class can host something
    changes: dict = {"tau": None}
    if kind in ("accuracy", "all"):
        changes["min_accuracy"] = float(np.clip(np.mean(acc) + 0.05, 0, 0.95))
    if kind in ("hallucination", "all", "weighted"):
        changes |= {"hall_local": hall[:, 0], "hall_edge": rng.uniform(0.0, 0.2, n)}
        if kind != "weighted":
            changes["max_hallucination"] = 0.25
    if kind in ("energy", "all"):
        changes |= {"local_energy": energy[:, 0], "energy_budget": rng.uniform(0.8, 2.5, n)}
    if kind == "weighted":
        changes |= {"cost_accuracy": 0.5 * edge, "cost_hallucination": edge,
                    "local_energy": energy[:, 0], "cost_energy": np.full(n, 0.01 * edge)}
    if kind == "no-fit":
        fits[1] = False  # class 1 hosts nothing: its users must offload
    inst = inst.replace(**changes)
    return DeploymentProblem(
        inst, np.arange(n) % 2, delay, energy, acc,
        hall if inst.hall_edge is not None else None, fits, ("a", "b"), ("v0", "v1", "v2"))


@pytest.mark.parametrize("kind", ["plain", "accuracy", "hallucination", "energy", "weighted",
                                  "all", "no-fit"])
@pytest.mark.parametrize("seed", range(4))
def test_milp_matches_bruteforce(seed: int, kind: str) -> None:
    p = random_problem(seed, kind)
    exact = solve_deployment(p, "milp")
    brute = solve_deployment(p, "bruteforce")
    assert exact.status in ("optimal", "infeasible")
    assert brute.status == exact.status
    if exact.status == "optimal":
        assert exact.metrics.feasible
        assert exact.objective == pytest.approx(brute.objective, rel=1e-6, abs=1e-9)
        assert exact.bound == pytest.approx(exact.objective, rel=1e-6, abs=1e-9)
        greedy = solve_deployment(p, "greedy")
        if greedy.status == "feasible":
            assert greedy.objective >= exact.objective - 1e-9
    if kind == "no-fit" and exact.status == "optimal":
        assert exact.choice["b"] is None
        assert np.all(exact.assignment[p.user_class == 1] >= 0)


def test_deployment_from_variants_reports_quality() -> None:
    inst = mecopt.scenario("uniform", 6, seed=2).replace(tau=None)
    inst = inst.replace(local_delay=inst.local_delay * 100)  # slow uplink relative to the edge
    variants = [mv.compress("Llama-3.1-8B", preset=p) for p in ("q8_0", "q4_k_m", "q2_k")]
    variants.append(mv.ecld())
    p = deployment_problem(inst, variants, ["phone", "jetson-orin-nano", "laptop"],
                           output_tokens=8)
    assert p.fits.shape == (3, 4) and not p.fits[0, 0]  # q8_0 does not fit a 12 GB phone
    res = solve_deployment(p, "milp")
    assert res.status == "optimal" and res.metrics.feasible
    d = res.to_dict()
    assert set(d["choice"]) == {"phone", "jetson-orin-nano", "laptop"}
    assert d["solver"] == "highs" and d["accuracy"] is not None


def test_bad_input() -> None:
    inst = mecopt.scenario("uniform", 3, seed=0)
    with pytest.raises(ValueError, match="method"):
        solve_deployment(random_problem(0, "plain"), "magic")
    with pytest.raises(ValueError, match="variants"):
        deployment_problem(inst, [], ["phone"])
    with pytest.raises(ValueError, match="interference"):
        p = random_problem(0, "plain")
        build(DeploymentProblem(p.instance.replace(interference="other-cells"), p.user_class,
                                p.local_delay, p.local_energy, p.acc_local, None, p.fits,
                                p.class_names, p.variant_names))
