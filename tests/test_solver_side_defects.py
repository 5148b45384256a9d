"""Solver-side defects found by the fuzz run and by timing solves against their limits.

They belong to the exact solvers (``solvers/``, ``formulations/``, ``mecopt/solve.py``) and are
marked ``xfail(strict=True)``: each test passes once its defect is fixed, and must then lose
its marker.
"""

from __future__ import annotations

import time
import warnings

import pytest

import mecopt


@pytest.mark.xfail(strict=True, reason="highs overruns its time limit with an accuracy target "
                   "(kim2026 N = 60, min_accuracy = 0.55: 7.9 s for a 1 s limit, 51.9 s for a "
                   "3 s limit): limits must hold within 10 % + 1 s")
def test_highs_honours_its_time_limit():
    inst = mecopt.scenario("kim2026", 60, seed=0, min_accuracy=0.55)
    start = time.perf_counter()
    res = mecopt.solve(inst, "highs", time_limit=1.0)
    wall = time.perf_counter() - start
    assert wall <= 1.0 * 1.1 + 1.0, f"{wall:.2f} s for a 1 s limit"
    assert res.bound is not None and res.status in ("optimal", "feasible")


@pytest.mark.xfail(strict=True, reason="highs returns no_solution at its time limit although "
                   "the heuristics' all-offload answer is feasible (kim2026 N = 200, "
                   "min_accuracy = 0.55)")
def test_limited_exact_solve_never_returns_no_solution_when_a_heuristic_is_feasible():
    inst = mecopt.scenario("kim2026", 200, seed=0, min_accuracy=0.55)
    assert mecopt.solve(inst, "edge-all").status == "feasible"
    res = mecopt.solve(inst, "highs", time_limit=3.0)
    assert res.status in ("optimal", "feasible")
    res.summary()


@pytest.mark.xfail(strict=True, reason="local_delay = 1e308 makes highs raise 'cost matrix is "
                   "infeasible' (formulations/lagrangian.py) although GOA's answer is feasible")
def test_extreme_local_delay_is_solved():
    inst = mecopt.scenario("kim2026", 8, seed=0)
    delay = inst.local_delay.copy()
    delay[0] = 1e308
    inst = inst.replace(local_delay=delay)
    assert mecopt.solve(inst, "goa").status == "feasible"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = mecopt.solve(inst, "highs", time_limit=5.0)
    assert res.status in ("optimal", "feasible")
