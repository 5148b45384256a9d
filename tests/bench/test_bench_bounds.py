"""The per-user bound is a valid lower bound on the optimal mean delay."""

from __future__ import annotations

import pytest

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
