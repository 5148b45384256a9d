"""Solver-side defects found by the fuzz run and by timing solves against their limits.

Each failed before the exact solvers were fixed (measured: highs ran 7.9 s for a 1 s limit on
kim2026 N = 60 with min_accuracy = 0.55, returned no_solution on N = 200 although Edge all was
feasible, and raised "cost matrix is infeasible" with local_delay = 1e308).
"""

from __future__ import annotations

import time
import warnings

import mecopt


def test_highs_honours_its_time_limit():
    inst = mecopt.scenario("kim2026", 60, seed=0, min_accuracy=0.55)
    start = time.perf_counter()
    res = mecopt.solve(inst, "highs", time_limit=1.0)
    wall = time.perf_counter() - start
    assert wall <= 1.0 * 1.1 + 1.0, f"{wall:.2f} s for a 1 s limit"
    assert res.bound is not None and res.status in ("optimal", "feasible")


def test_limited_exact_solve_never_returns_no_solution_when_a_heuristic_is_feasible():
    inst = mecopt.scenario("kim2026", 200, seed=0, min_accuracy=0.55)
    assert mecopt.solve(inst, "edge-all").status == "feasible"
    res = mecopt.solve(inst, "highs", time_limit=3.0)
    assert res.status in ("optimal", "feasible")
    res.summary()


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
