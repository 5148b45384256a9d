"""Energy budgets, the hallucination cap, the weighted objective and the planning estimate.

Every exact backend meets brute force on small random instances with each new constraint,
the weighted objective and their combinations (infeasible ones included); the evaluator is
checked on a hand-computed example; JSON version 1 still loads and version 2 round-trips.
"""

import json

import numpy as np
import pytest
from conftest import (
    DATA,
    ENERGY_SPECS,
    EXACT_BACKENDS,
    brute,
    build_energy,
    energy_id,
    hand_instance,
)

import mecopt
from mecopt import heuristics as h
from mecopt.bench.bounds import per_user_bound
from mecopt.formulations import count_indexed, fixed_count
from mecopt.formulations.bounds import lagrangian
from mecopt.instance import InstanceFormatError

REL = 1e-6


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
@pytest.mark.parametrize("spec", ENERGY_SPECS, ids=energy_id)
def test_backend_equals_bruteforce(backend, spec):
    inst = build_energy(spec)
    ref = brute(inst)
    res = mecopt.solve(inst, backend, threads=1)
    assert res.status == ref.status, res.message
    if ref.status == "infeasible":
        assert res.assignment is None and res.objective is None
        return
    assert ref.status == "optimal"
    assert res.metrics.feasible
    assert mecopt.evaluate(inst, res.assignment).feasible
    assert res.objective == pytest.approx(ref.objective, rel=REL)
    assert res.bound == pytest.approx(ref.objective, rel=REL)


@pytest.mark.parametrize("spec", [s for s in ENERGY_SPECS if s[3] < 2], ids=energy_id)
def test_other_cells_brackets_bruteforce(spec):
    inst = build_energy(spec, "other-cells")
    ref = brute(inst)
    res = mecopt.solve(inst, "highs", threads=1)
    if ref.status == "infeasible":
        # Interference only raises uplink energies: the interference-free model may still
        # find a feasible assignment, but the driver must never return it as feasible.
        assert res.status in ("infeasible", "no_solution")
        return
    if res.status == "no_solution":
        # Known limit: interference raises uplink energies, so the interference-free optimum
        # (and the heuristics) can break an energy budget that some other assignment meets;
        # the driver then finds nothing feasible, and says so rather than claiming anything.
        assert inst.energy_budget is not None and res.assignment is None
        return
    assert res.metrics.feasible
    assert res.bound <= ref.objective + 1e-9 * abs(ref.objective)
    assert res.objective >= ref.objective - 1e-9 * abs(ref.objective)


def test_cases_are_mixed_and_constraints_bind():
    statuses = [brute(build_energy(s)).status for s in ENERGY_SPECS]
    assert statuses.count("infeasible") >= 8
    assert statuses.count("optimal") >= 24
    binding = 0
    for spec in ENERGY_SPECS:
        inst = build_energy(spec)
        ref = brute(inst)
        if ref.status != "optimal":
            continue
        plain = inst.replace(energy_budget=None, max_hallucination=None, min_accuracy=None,
                             cost_energy=None, cost_accuracy=0.0, cost_hallucination=0.0)
        if not np.array_equal(ref.assignment, brute(plain).assignment):
            binding += 1
    assert binding >= 15
    # Among them, the weights alone move the optimum, once below zero.
    weighted = [brute(build_energy(s)) for s in ENERGY_SPECS if s[0] == "weighted"]
    assert min(r.objective for r in weighted) < 0


@pytest.mark.parametrize("spec", [s for s in ENERGY_SPECS if s[3] == 0], ids=energy_id)
def test_lagrangian_paths(spec):
    inst = build_energy(spec)
    ref = brute(inst)
    model = count_indexed.build(inst)
    table = count_indexed.cost_table(inst, inst.n_users)
    if ref.status == "optimal":
        assert per_user_bound(inst) <= ref.objective + 1e-9 * abs(ref.objective)
        if not model.infeasible_reason:
            lag = lagrangian.lagrangian_bound(model, upper=model.milp.constant + 1e3,
                                              time_budget=1.0)
            assert model.to_mean_delay(lag.bound) <= ref.objective + 1e-9 * abs(ref.objective)
    a, value = fixed_count.count_search(inst, [np.zeros(inst.n_servers, dtype=int),
                                               np.ones(inst.n_servers, dtype=int)],
                                        table=table)
    if a is not None:
        m = mecopt.evaluate(inst, a)
        assert m.feasible
        assert value == pytest.approx(m.objective)
        assert value >= ref.objective - 1e-9 * abs(ref.objective)
    res = mecopt.solve(inst, "highs", threads=1, lagrangian="on")
    assert res.status == ref.status
    if ref.status == "optimal":
        assert res.objective == pytest.approx(ref.objective, rel=REL)


def test_zero_weights_keep_the_mean_delay():
    inst = mecopt.scenario("uniform", 6, 3, n_servers=2)
    zero = inst.replace(cost_energy=np.zeros(6), local_energy=np.ones(6))
    for a in ([-1] * 6, [0, 1, -1, 0, 1, -1]):
        m = mecopt.evaluate(zero, a)
        assert m.objective == m.mean_delay == mecopt.evaluate(inst, a).mean_delay
    model, plain = count_indexed.build(zero), count_indexed.build(inst)
    assert np.array_equal(model.milp.c, plain.milp.c)
    assert model.milp.constant == plain.milp.constant


# ---------------------------------------------------------------- the evaluator by hand
def test_evaluator_hand_example():
    """hand_instance: user 0 and 1 share ES 0 (2 users: uplink 20 ms, edge 10 ms), user 2
    answers locally (40 ms); P = 1 W, so each uplink costs 0.02 J."""
    inst = hand_instance().replace(
        local_energy=[0.05, 0.01, 0.03], energy_budget=[0.1, 0.015, 0.1],
        hall_local=[0.2, 0.1, 0.3], hall_edge=[0.05, 0.05, 0.1], max_hallucination=0.1,
        cost_energy=[1.0, 2.0, 0.0], cost_accuracy=0.01, cost_hallucination=0.02)
    m = mecopt.evaluate(inst, [0, 0, -1])
    assert m.delay == pytest.approx([0.03, 0.03, 0.04])
    assert m.energy == pytest.approx([0.02, 0.02, 0.03])
    assert m.mean_energy == pytest.approx(0.07 / 3)
    assert m.hallucination == pytest.approx([0.05, 0.05, 0.3])
    assert m.mean_hallucination == pytest.approx(0.4 / 3)
    assert m.mean_delay == pytest.approx(0.1 / 3)
    # Costs: 0.03 + 1 * 0.02 - 0.01 * 0.7 + 0.02 * 0.05 = 0.044, then 0.0635 and 0.038.
    assert m.objective == pytest.approx((0.044 + 0.0635 + 0.038) / 3)
    assert not m.feasible
    text = " | ".join(m.violations)
    assert "mean hallucination 0.133333 is above max_hallucination 0.100000" in text
    assert "energy_budget exceeded: user 1 (ES 0: 0.02 J > 0.015 J)" in text
    ok = mecopt.evaluate(inst.replace(max_hallucination=0.2), [0, -1, -1])
    assert ok.feasible and ok.energy == pytest.approx([0.01, 0.01, 0.03])
    local = mecopt.evaluate(inst.replace(tau=None, energy_budget=[0.04, 1, 1]), [-1, -1, -1])
    assert any("user 0 (local: 0.05 J > 0.04 J)" in v for v in local.violations)


def test_metrics_without_new_fields():
    m = mecopt.evaluate(hand_instance(), [0, 1, -1])
    assert m.hallucination is None and m.mean_hallucination is None
    assert m.energy == pytest.approx([0.01, 0.02, 0.0])
    assert m.objective == m.mean_delay


def test_infeasible_energy_is_reported_with_a_reason():
    inst = build_energy(("infeasible-energy", 4, 2, 0, "processor-sharing"))
    res = mecopt.solve(inst, "highs")
    assert res.status == "infeasible"
    assert "user 0 must be offloaded (local energy" in res.message


# ---------------------------------------------------------------- JSON and validation
def test_version_1_file_loads_and_writes_version_2(tmp_path):
    assert json.loads((DATA / "hand_n3_m2.json").read_text())["version"] == 1
    inst = mecopt.Instance.from_json(DATA / "hand_n3_m2.json")
    assert inst.local_energy is None and inst.cost_accuracy == 0.0
    doc = inst.to_dict()
    assert doc["version"] == 2
    assert "local_energy" not in doc["instance"] and "cost_accuracy" not in doc["instance"]


def test_version_1_rejects_new_fields():
    doc = hand_instance().to_dict()
    doc["version"] = 1
    doc["instance"]["energy_budget"] = [1.0, 1.0, 1.0]
    with pytest.raises(InstanceFormatError, match="version 1 cannot hold field.*energy_budget"):
        mecopt.Instance.from_dict(doc)


@pytest.mark.parametrize("version", [0, 3, "2", True])
def test_unknown_versions_are_rejected(version):
    doc = hand_instance().to_dict()
    doc["version"] = version
    with pytest.raises(InstanceFormatError, match="reads versions 1, 2"):
        mecopt.Instance.from_dict(doc)


def test_version_2_round_trip(tmp_path):
    inst = build_energy(("all", 5, 2, 1, "processor-sharing")).replace(
        edge_work_plan=np.linspace(1e12, 5e12, 5))
    path = tmp_path / "inst.json"
    inst.to_json(path)
    back = mecopt.Instance.from_json(path)
    for name in ("local_energy", "energy_budget", "hall_local", "hall_edge", "cost_energy",
                 "edge_work_plan"):
        assert np.array_equal(getattr(back, name), getattr(inst, name))
    for name in ("max_hallucination", "cost_accuracy", "cost_hallucination", "tau"):
        assert getattr(back, name) == getattr(inst, name)
    a = [0, -1, 1, 0, -1]
    assert mecopt.evaluate(back, a).objective == mecopt.evaluate(inst, a).objective


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"local_energy": [0.1, -1.0, 0.1]}, r"Instance.local_energy\[1\] = -1.0: must be >= 0"),
        ({"energy_budget": [0.1, 0.1]}, r"energy_budget must have shape \(3,\)"),
        ({"energy_budget": [0.1, np.nan, 0.1]}, r"energy_budget\[1\] = nan: must be finite"),
        ({"hall_local": [0.1, 0.2, 1.5], "hall_edge": [0, 0, 0]},
         r"hall_local\[2\] = 1.5: must lie in \[0, 1\]"),
        ({"hall_local": [0.1, 0.2, 0.3]}, r"hall_local is set but Instance.hall_edge is None"),
        ({"max_hallucination": 0.2}, r"max_hallucination = 0.2 needs hall_local and hall_edge"),
        ({"hall_local": [0.1] * 3, "hall_edge": [0.1] * 3, "max_hallucination": 1.2},
         r"max_hallucination = 1.2: must lie in \[0, 1\]"),
        ({"cost_energy": [1.0, -2.0, 0.0]}, r"cost_energy\[1\] = -2.0: must be >= 0"),
        ({"cost_accuracy": -0.1}, r"cost_accuracy = -0.1: must be >= 0"),
        ({"cost_hallucination": 0.1}, r"cost_hallucination = 0.1 needs hall_local"),
        ({"cost_accuracy": "x"}, r"cost_accuracy = 'x': must be a number"),
        ({"edge_work_plan": [1e10, 0.0, 1e10]}, r"edge_work_plan\[1\] = 0.0: must be > 0"),
    ],
)
def test_validation_names_field_index_and_value(changes, match):
    with pytest.raises(ValueError, match=match):
        hand_instance().replace(**changes)


# ---------------------------------------------------------------- planning estimate
def planning_case(interference="none"):
    inst = mecopt.scenario("kim2026", 30, 4, tau=0.6, interference=interference)
    # The plan believes the edge work is 6x the truth for the even users.
    plan = inst.edge_work * np.where(np.arange(30) % 2 == 0, 6.0, 1.0)
    return inst.replace(edge_work_plan=plan)


@pytest.mark.parametrize("interference", ["none", "other-cells"])
def test_heuristics_plan_with_the_estimate_and_report_the_truth(interference):
    inst = planning_case(interference)
    truth = inst.replace(edge_work_plan=None)
    res = mecopt.solve(inst, "goa")
    assert not np.array_equal(res.assignment, mecopt.solve(truth, "goa").assignment)
    assert np.array_equal(res.assignment, h.goa(inst.planning_view(), None))
    true_metrics = mecopt.evaluate(truth, res.assignment)
    assert res.objective == true_metrics.objective == res.metrics.mean_delay
    assert res.objective != mecopt.evaluate(inst.planning_view(), res.assignment).mean_delay


@pytest.mark.parametrize("interference", ["none", "other-cells"])
@pytest.mark.parametrize("policy", [h.goa, h.edge_all, h.min_delay, h.random_offload])
def test_three_engines_agree_with_a_plan(policy, interference):
    inst = planning_case(interference)
    ref = policy(inst, np.random.default_rng(5), engine=h.greedy_loop)
    for engine in (h.greedy_vectorised, h.greedy_fast):
        assert np.array_equal(policy(inst, np.random.default_rng(5), engine=engine), ref)


def test_exact_solvers_optimise_the_truth():
    inst = mecopt.scenario("uniform", 6, 2, n_servers=2)
    planned = inst.replace(edge_work_plan=inst.edge_work * 10.0)
    a, b = mecopt.solve(planned, "highs"), mecopt.solve(inst, "highs")
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, rel=1e-9)
    assert planned.planning_view().edge_work_plan is None
    assert inst.planning_view() is inst
