"""The bench's lower bounds: the per-user bound and ``lower_bound`` are valid (also with
interference) and tight at N = 1,000; the bench logs the exact progress."""

from __future__ import annotations

import pytest
from conftest import kim

import mecopt
from mecopt.bench.bounds import per_user_bound


@pytest.mark.parametrize("overrides", [
    {},
    {"tau": 1.0},
    {"interference": "other-cells"},
    {"queue": "mm1", "arrival_rate": 2.0},
    {"max_users": [2, 2, 2, 2], "tau": 0.8},
], ids=str)
def test_bound_below_optimum(overrides: dict) -> None:
    for seed in range(3):
        inst = mecopt.scenario("kim2026", 6, seed=seed, **overrides)
        exact = mecopt.solve(inst, "bruteforce")
        bound = per_user_bound(inst)
        assert 0 < bound <= exact.objective * (1 + 1e-12)


def test_bound_tight_for_a_single_user() -> None:
    inst = mecopt.scenario("kim2026", 1, seed=4, tau=1.0)
    assert per_user_bound(inst) == pytest.approx(mecopt.solve(inst, "bruteforce").objective)


def test_bench_lower_bound_is_valid_with_interference(other_cells_case, bruteforce):
    from mecopt.bench.bounds import lower_bound

    ref = bruteforce(other_cells_case)
    bound = lower_bound(other_cells_case, time_budget=0.3)
    if ref.status == "optimal":
        assert bound <= ref.objective * (1 + 1e-9)


def test_bench_lower_bound_tight_at_n1000():
    from mecopt.bench.bounds import lower_bound, per_user_bound

    inst = kim(1000, 2)
    lns_obj = mecopt.solve(inst, "lns", time_limit=2.0).objective
    bound = lower_bound(inst, time_budget=3.0)
    assert bound > per_user_bound(inst)
    assert (lns_obj - bound) / lns_obj < 0.01  # the per-user bound gives about 0.9


def test_bench_logs_exact_progress(caplog):
    import logging

    from mecopt.bench.execute import progress_logger
    from mecopt.bench.spec import Task

    task = Task(sweep="t", scenario="kim2026", n_users=20, seed=0, overrides={},
                solver="exact", label="exact", solver_options={}, time_limit=None, threads=1,
                hard_limit=60.0)
    with caplog.at_level(logging.INFO, logger="mecopt.bench"):
        mecopt.solve(kim(20, 0), "exact", progress=progress_logger(task))
    assert any("final" in r.getMessage() and "gap" in r.getMessage() for r in caplog.records)
