"""Time limits: the incumbent is kept, a bound is never overstated, "optimal" needs a proof
within the recorded tolerance, and ``stop`` says why a run ended."""

import functools

import numpy as np
import pytest
from conftest import EXACT_BACKENDS

import mecopt
from mecopt.result import DEFAULT_GAP, SolveResult, proven


@functools.cache
def large(n):
    return mecopt.scenario("kim2026", n, seed=0)


@functools.cache
def goa_objective(n):
    return mecopt.solve(large(n), "goa").objective


def check_limited(res, n, time_limit):
    assert res.time_limit == time_limit
    assert res.status in ("optimal", "feasible", "no_solution")
    if res.status == "no_solution":
        assert res.assignment is None and res.objective is None
        return
    # Never worse than GOA: the heuristics' answers are candidates of every exact solve.
    assert res.objective <= goa_objective(n) * (1 + 1e-12)
    assert res.objective == mecopt.evaluate(large(n), res.assignment).mean_delay
    if res.bound is not None:
        # A proven lower bound cannot exceed a feasible objective.
        assert res.bound <= res.objective * (1 + 1e-9)
        assert res.gap == pytest.approx((res.objective - res.bound) / res.objective, abs=1e-12)
    assert res.gap_tol == DEFAULT_GAP
    if res.status == "optimal":
        assert res.stop == "gap" and proven(res.gap, res.gap_tol)
    else:
        # Stopped by the limit before the proof: never "optimal", the gap says how far.
        assert res.stop == "time_limit"
        assert res.gap is None or res.gap > res.gap_tol


@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_tiny_time_limit_on_large_instance(backend):
    res = mecopt.solve(large(120), backend, time_limit=0.05, threads=1)
    check_limited(res, 120, 0.05)


@pytest.mark.parametrize("time_limit", [0.1, 0.5])
def test_time_limit_n200(time_limit):
    res = mecopt.solve(large(200), "highs", time_limit=time_limit, threads=2)
    check_limited(res, 200, time_limit)


def test_time_limit_on_easy_instance_still_proves_optimality():
    inst = mecopt.scenario("kim2026", 15, seed=0)
    res = mecopt.solve(inst, "highs", time_limit=30.0)
    assert res.status == "optimal" and res.stop == "gap"
    assert res.gap <= res.gap_tol == DEFAULT_GAP


def test_bruteforce_stopped_early_is_not_optimal():
    inst = mecopt.scenario("uniform", 9, seed=0, n_servers=3)  # 4^9 = 262,144 assignments
    res = mecopt.solve(inst, "bruteforce", time_limit=1e-6)
    assert res.info["stopped_early"]
    assert res.status in ("feasible", "no_solution")
    assert res.bound is None and res.gap is None and res.stop == "time_limit"


def test_bruteforce_refuses_too_many_assignments():
    inst = mecopt.scenario("uniform", 9, seed=0, n_servers=3)
    with pytest.raises(ValueError, match=r"\(M\+1\)\^N = 4\^9 = 262144 assignments exceeds "
                                         r"max_assignments = 1000"):
        mecopt.solve(inst, "bruteforce", max_assignments=1000)


# ---------------------------------------------------------------- SolveResult guards
def _result(hand, **changes):
    a = np.array([0, -1, 0])
    m = mecopt.evaluate(hand, a)
    kw = dict(assignment=a, status="optimal", objective=m.mean_delay, bound=m.mean_delay,
              gap=0.0, runtime=0.0, solver="test", solver_version="0", seed=0, threads=1,
              time_limit=None, metrics=m, gap_tol=1e-4)
    kw.update(changes)
    return SolveResult(**kw)


def test_solve_result_accepts_a_closed_gap(hand):
    assert _result(hand).success


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"gap": None, "bound": None}, r"status 'optimal' needs a proven gap within gap_tol"),
        ({"gap": 0.01}, r"status 'optimal' needs a proven gap within gap_tol"),
        ({"gap": 2e-4}, r"gap 0.0002, gap_tol 0.0001"),
        ({"gap_tol": None}, r"status 'optimal' needs a proven gap within gap_tol"),
        ({"status": "solved"}, r"status 'solved' is not one of"),
        ({"status": "feasible", "assignment": None, "stop": "time_limit"},
         r"status 'feasible' needs a feasible"),
        ({"status": "feasible"}, r"stop None is not one of"),
        ({"status": "feasible", "stop": "gap"}, r"stop 'gap' goes with status 'optimal'"),
        ({"stop": "time_limit"}, r"stop 'gap' goes with status 'optimal'"),
        ({"status": "violates", "stop": "heuristic"}, r"status 'violates' needs an assignment "
                                                      r"that breaks a constraint"),
        ({"status": "no_solution", "stop": "time_limit"}, r"'no_solution' carries no assignment"),
        ({"status": "feasible", "stop": "finished"}, r"stop 'finished' is not one of"),
    ],
)
def test_solve_result_refuses_unproven_claims(hand, changes, match):
    with pytest.raises(ValueError, match=match):
        _result(hand, **changes)


def test_solve_result_refuses_infeasible_assignment_as_feasible(hand):
    a = np.array([-1, -1, 0])  # breaks the rule
    m = mecopt.evaluate(hand, a)
    with pytest.raises(ValueError, match=r"status 'feasible' needs a feasible assignment"):
        _result(hand, status="feasible", assignment=a, metrics=m, gap=None, bound=None,
                stop="heuristic")
    res = _result(hand, status="violates", assignment=a, metrics=m, gap=None, bound=None,
                  stop="heuristic")
    assert not res.success and res.to_dict()["violations"] == list(m.violations)


def test_decomposition_stopped_before_its_first_bound_says_so():
    # Regression: at N = 100,000 on a busy machine the heuristic seeds took the whole time
    # limit and the message read "closed by the Lagrangian bound" with no bound at all.
    res = mecopt.solve(large(20000), "exact", time_limit=0.5, threads=1)
    assert res.status == "feasible" and res.stop == "time_limit"
    assert res.bound is None and "closed" not in res.message
    assert res.message.startswith("decomposition: stopped before the first Lagrangian bound")
