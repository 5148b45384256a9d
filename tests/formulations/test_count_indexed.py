"""The count-indexed MILP: its objective is the evaluator's, its reductions are exact."""

import re

import numpy as np
import pytest

import mecopt
from mecopt.formulations.count_indexed import (
    ROW_ACCURACY,
    ROW_ASSIGN,
    ROW_COUNT,
    ROW_LINK,
    ROW_ONE_COUNT,
    build,
    delay_table,
    prune_assignment,
)
from mecopt.solvers.base import BackendOptions
from mecopt.solvers.highs import HighsBackend


def instances():
    out = []
    for queue in ("processor-sharing", "mm1", "md1"):
        for seed in range(3):
            inst = mecopt.scenario("uniform", 8, seed, n_servers=3, tau=0.7)
            if queue != "processor-sharing":
                mu = inst.capacity / inst.edge_work.mean()
                inst = inst.replace(queue=queue, arrival_rate=float(mu.min() / 4.5))
            out.append(pytest.param(inst, id=f"uniform-{queue}-s{seed}"))
    out.append(pytest.param(mecopt.scenario("kim2026", 40, seed=1), id="kim2026-n40"))
    out.append(pytest.param(mecopt.scenario("kim2026", 30, seed=2, min_accuracy=0.5,
                                            max_users=[9, 9, 9, 9]), id="kim2026-n30-limits"))
    return out


def random_assignments(inst, count, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(-1, inst.n_servers, size=inst.n_users) for _ in range(count)]


@pytest.mark.parametrize("inst", instances())
def test_encoded_objective_equals_evaluator(inst):
    model = build(inst)
    table = delay_table(inst, inst.n_users)
    checked = 0
    for a in random_assignments(inst, 60):
        a = prune_assignment(inst, a, table)
        m = mecopt.evaluate(inst, a)
        x = model.encode(a)
        if not np.isfinite(m.mean_delay):
            assert x is None  # an unstable load has no column
            continue
        if m.feasible:
            assert x is not None
        if x is None:
            continue
        checked += 1
        assert model.to_mean_delay(model.milp.objective(x)) == pytest.approx(m.mean_delay,
                                                                            rel=1e-12)
        assert np.array_equal(model.decode(x), a)
        # The encoded point satisfies the rows exactly when the evaluator finds it feasible
        # (the rows hold the rule, the accuracy target and the user limits).
        assert (model.milp.max_violation(x) <= 1e-9) == m.feasible
    assert checked >= 10


@pytest.mark.parametrize("inst", instances())
def test_prune_never_worsens(inst):
    table = delay_table(inst, inst.n_users)
    for a in random_assignments(inst, 40, seed=1):
        before = mecopt.evaluate(inst, a)
        pruned = prune_assignment(inst, a, table)
        after = mecopt.evaluate(inst, pruned)
        assert after.mean_delay <= before.mean_delay
        assert after.feasible or not before.feasible
        # Pruning only sends users home.
        moved = pruned != a
        assert np.all(pruned[moved] == -1)


def test_prune_sends_dominated_offload_home(hand):
    # On ES 0 with two users every user waits 30 ms; user 1 answers locally in 25 ms and
    # is not forced, so it goes home. Forced user 0 stays even though 30 > 15 ms.
    table = delay_table(hand, 3)
    assert prune_assignment(hand, np.array([0, 0, -1]), table).tolist() == [0, -1, -1]


def test_prune_keeps_users_that_carry_the_accuracy_target(hand):
    # With a target, a user whose edge answer is more accurate is not pruned.
    inst = hand.replace(min_accuracy=0.1)
    table = delay_table(inst, 3)
    assert prune_assignment(inst, np.array([0, 0, -1]), table).tolist() == [0, 0, -1]


def test_delay_table_matches_evaluator(hand):
    table = delay_table(hand, 3)
    assert table[0, 0] == pytest.approx([0.020, 0.030, 0.045], rel=1e-12)
    assert table[2, 1] == pytest.approx([0.0325, 0.065, 0.0975], rel=1e-12)


def test_model_shape_and_row_families():
    inst = mecopt.scenario("kim2026", 20, seed=0, min_accuracy=0.5)
    model = build(inst)
    milp = model.milp
    assert milp.A.shape == (milp.n_rows, milp.n_vars) == (len(milp.row_lo), len(milp.c))
    assert model.n_x + len(model.y_es) == milp.n_vars
    assert set(np.unique(milp.row_kind)) == {ROW_ONE_COUNT, ROW_COUNT, ROW_LINK, ROW_ASSIGN,
                                             ROW_ACCURACY}
    assert np.all(milp.row_lo <= milp.row_hi)
    # Every x column is a (user, ES, count) with a finite delay within the limits.
    table = delay_table(inst, inst.n_users)
    assert np.isfinite(table[model.x_user, model.x_es, model.x_n - 1]).all()
    assert np.all(model.x_n <= inst.count_limit[model.x_es])


def test_link_rows_do_not_change_the_optimum():
    inst = mecopt.scenario("uniform", 7, seed=5, n_servers=2)
    opts = BackendOptions(deadline=None, threads=1, seed=0)
    tight = HighsBackend().solve(build(inst).milp, opts)
    loose = HighsBackend().solve(build(inst, link_rows=False).milp, opts)
    assert tight.objective == pytest.approx(loose.objective, rel=1e-9)
    ref = mecopt.solve(inst, "bruteforce").objective
    assert build(inst).to_mean_delay(tight.objective) == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"tau": 0.0, "max_users": [0, 0]}, r"user \d+ must be offloaded .* no ES can serve it"),
        ({"min_accuracy": 1.0}, r"min_accuracy 1 cannot be reached: at most 0\.\d+"),
    ],
)
def test_reductions_prove_obvious_infeasibility(changes, match):
    inst = mecopt.scenario("uniform", 5, seed=3, n_servers=2).replace(**changes)
    assert re.search(match, build(inst).infeasible_reason)
    res = mecopt.solve(inst, "highs")
    assert res.status == "infeasible"
    assert re.search(match, res.message)


def test_feasible_instance_has_no_infeasible_reason():
    assert build(mecopt.scenario("kim2026", 20, seed=0)).infeasible_reason == ""


def test_interference_is_ignored_by_the_model():
    inst = mecopt.scenario("kim2026", 15, seed=0)
    a = build(inst).milp
    b = build(inst.replace(interference="other-cells")).milp
    assert np.array_equal(a.c, b.c) and (a.A != b.A).nnz == 0
