"""The side-row multiplier search: bounds against brute force and against the LP bound.

Every ``theta(w)`` is a proven bound, so the search's bound must never exceed the
brute-force optimum (accuracy targets and hallucination caps, binding or not), its
"feasible" answers must meet the row, and its bound must reach the LP bound of the
count-indexed model (the Lagrangian dual of the side row is at least as strong).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import with_row
from scipy.optimize import linprog

import mecopt
from mecopt.formulations import count_indexed
from mecopt.solvers.exact import side_multiplier


def inner(instance, limit, gap):
    return mecopt.solve(instance, "exact", time_limit=limit, gap=gap)


@pytest.mark.parametrize("row", ["accuracy", "hallucination"])
@pytest.mark.parametrize("share", [0.3, 0.7, -0.2])
@pytest.mark.parametrize("seed", range(3))
def test_bound_below_bruteforce(row, share, seed):
    inst = with_row(7, seed, row, share)
    ref = mecopt.solve(inst, "bruteforce")
    out = side_multiplier.search(inst, inner, w0=0.05, deadline=None, gap=1e-9)
    assert out.info["side_multiplier_steps"] >= 1
    assert out.bound <= ref.objective + 1e-9 * abs(ref.objective)
    for a in out.assignments.values():
        assert mecopt.evaluate(inst, a).feasible
    if share < 0:  # a row the unconstrained optimum already meets does not bind
        assert out.bound == pytest.approx(ref.objective, rel=1e-6)


def lp_bound(inst):
    """LP relaxation of the count-indexed model, mean objective (s)."""
    model = count_indexed.build(inst)
    m = model.milp
    lo, hi, _ = m.column_bounds()
    eq = m.row_lo == m.row_hi
    up = ~eq & np.isfinite(m.row_hi)
    dn = ~eq & np.isfinite(m.row_lo)
    res = linprog(m.c, A_ub=sp.vstack([m.A[up], -m.A[dn]]),
                  b_ub=np.concatenate([m.row_hi[up], -m.row_lo[dn]]), A_eq=m.A[eq],
                  b_eq=m.row_lo[eq], bounds=np.column_stack([lo, hi]), method="highs")
    assert res.status == 0
    return model.to_mean_delay(res.fun + m.constant)


@pytest.mark.parametrize("seed", range(2))
def test_bound_reaches_lp_bound(seed):
    inst = mecopt.scenario("kim2026", 40, seed)
    lo = mecopt.solve(inst, "exact").metrics.accuracy
    hi = mecopt.solve(inst, "edge-all").accuracy
    inst = inst.replace(min_accuracy=0.5 * (lo + hi))
    out = side_multiplier.search(inst, inner, w0=0.05, deadline=None, gap=1e-9)
    assert out.bound >= lp_bound(inst) - 1e-6 * abs(out.bound)
    assert out.bound <= mecopt.solve(inst, "exact").objective * (1 + 1e-9)


def test_needs_one_side_row():
    inst = mecopt.scenario("kim2026", 5, 0)
    with pytest.raises(ValueError, match="exactly one side row"):
        side_multiplier.search(inst, inner, w0=1.0, deadline=None, gap=1e-6)


def test_time_limit_with_a_binding_target():
    """The multiplier search, its inner solves and the backend on the reduced model (whose
    HiGHS presolve does not check the limit) keep within 1.1 x limit + 1 s."""
    import time

    inst = mecopt.scenario("kim2026", 120, 0)
    lo = mecopt.solve(inst, "lns").accuracy
    hi = mecopt.solve(inst, "edge-all").accuracy
    inst = inst.replace(min_accuracy=0.5 * (lo + hi))
    start = time.perf_counter()
    res = mecopt.solve(inst, "exact", time_limit=3.0)
    assert time.perf_counter() - start <= 1.1 * 3.0 + 1.0
    assert res.metrics.feasible and res.bound is not None and res.bound <= res.objective
