"""The exact driver: time limits with model building, extreme inputs, a failing backend,
progress reports, and exactness with interference against brute force."""

import functools
import time

import numpy as np
import pytest
from conftest import EXACT_BACKENDS, kim

import mecopt


# ---------------------------------------------------------------- time limits and defects
@pytest.mark.parametrize("solver", ["exact", *EXACT_BACKENDS])
def test_time_limit_honoured_with_model_building(solver):
    inst = kim(400, 0)
    limit = 2.0
    mecopt.solve(kim(4, 0), solver, threads=1)  # import the solver's package first
    t0 = time.perf_counter()
    res = mecopt.solve(inst, solver, time_limit=limit, threads=1)
    wall = time.perf_counter() - t0
    assert wall <= 1.1 * limit + 1.0, (solver, wall, res.runtime, res.message)
    assert res.status in ("feasible", "optimal")
    assert res.bound is not None and res.gap is not None
    assert res.bound <= res.objective * (1 + 1e-9)
    res.summary()


def test_exact_never_no_solution_when_a_target_is_reachable():
    inst = kim(120, 0)
    lo = mecopt.solve(inst, "local-all").accuracy
    hi = mecopt.solve(inst, "edge-all").accuracy
    target = inst.replace(min_accuracy=lo + 0.97 * (hi - lo))
    for solver in ("exact", "highs"):
        res = mecopt.solve(target, solver, time_limit=0.5, threads=1)
        assert res.status in ("feasible", "optimal"), res.message
        assert res.metrics.feasible
        assert "gap" in res.summary()


def test_local_delay_1e308_does_not_raise():
    inst = kim(30, 0)
    ld = inst.local_delay.copy()
    ld[3] = 1e308
    extreme = inst.replace(local_delay=ld)
    for formulation in ("count-indexed", "decomposition"):
        res = mecopt.solve(extreme, "exact", formulation=formulation, lagrangian="on",
                           time_limit=10)
        assert res.status in ("feasible", "optimal")
        assert res.assignment[3] >= 0
    from mecopt.formulations import fixed_count, option_cost

    a = fixed_count.assign_for_counts(extreme, np.array([5, 5, 5, 5]),
                                      option_cost.cost_table(extreme, 5))
    assert a is None or a[3] >= 0


def test_huge_prompt_of_a_forced_user_is_served_alone():
    inst = kim(30, 0)
    forced = np.flatnonzero(inst.forced)
    pb = inst.prompt_bits.copy()
    pb[forced[0]] = 1e308
    extreme = inst.replace(prompt_bits=pb)
    for solver in ("exact", "lns"):
        res = mecopt.solve(extreme, solver, time_limit=10)
        assert res.status in ("feasible", "optimal"), res.message
        j = res.assignment[forced[0]]
        assert j >= 0 and np.count_nonzero(res.assignment == j) == 1


class FailingBackend:
    """A backend that always fails (as HiGHS does on some extreme inputs)."""

    name = "failing"
    package = "none"
    build_seconds_per_nonzero = 0.0

    def available(self):
        return True

    def version(self):
        return "0"

    def solve(self, milp, options):
        from mecopt.solvers.base import BackendResult

        return BackendResult(status="error", x=None, objective=None, bound=None,
                             raw_status="failed")


def test_optimal_never_says_backend_failed():
    from mecopt.solvers.exact import solve_exact

    # One user: the trivial bound is the optimum, so the driver proves optimality without
    # the backend; the message must say what proved it.
    inst = kim(1, 0, tau=1.0)
    res = solve_exact(inst, FailingBackend(), solver_name="failing", time_limit=None, seed=0,
                      threads=1, lagrangian_mode="off", formulation="count-indexed")
    assert res.status == "optimal"
    assert "best other answer returned" not in res.message
    assert "proven by the trivial bound" in res.message
    res = solve_exact(kim(30, 0), FailingBackend(), solver_name="failing", time_limit=None,
                      seed=0, threads=1, lagrangian_mode="off", formulation="count-indexed")
    assert res.status == "feasible" and "backend failed" in res.message


def test_progress_reports_improving_bound_and_final_gap():
    events = []
    res = mecopt.solve(kim(400, 1), "exact", time_limit=3.0, threads=1,
                       progress=events.append)
    assert events and events[-1]["source"] == "final"
    assert events[-1]["gap"] == pytest.approx(res.gap)
    bounds = [e["bound"] for e in events if e["bound"] is not None]
    assert bounds == sorted(bounds)
    incumbents = [e["incumbent"] for e in events if e["incumbent"] is not None]
    assert incumbents == sorted(incumbents, reverse=True)


def test_cli_prints_progress_unless_quiet(capsys):
    from mecopt.cli import main

    assert main(["solve", "--scenario", "kim2026", "--users", "20"]) == 0
    err = capsys.readouterr().err
    assert "incumbent" in err and "final" in err
    assert main(["solve", "--scenario", "kim2026", "--users", "20", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


@functools.cache
def other_cells(n, seed):
    return mecopt.scenario("kim2026", n, seed, interference="other-cells")


@pytest.mark.parametrize("n", [6, 8])
def test_exact_with_interference_equals_bruteforce(n):
    for seed in range(2):
        inst = other_cells(n, seed)
        ref = mecopt.solve(inst, "bruteforce")
        res = mecopt.solve(inst, "exact")
        assert res.status == "optimal"
        assert res.objective == pytest.approx(ref.objective, rel=1e-12)


def test_interference_bound_is_valid_and_beats_the_free_bound():
    from mecopt.formulations.bounds.interference import interference_bound

    for seed in range(3):
        inst = other_cells(7, seed)
        ref = mecopt.solve(inst, "bruteforce")
        assert interference_bound(inst) <= ref.objective * (1 + 1e-12)
    res = mecopt.solve(other_cells(60, 0), "exact", time_limit=20)
    assert res.info["bound_source"] in ("interference", "interference-dual")
    assert res.bound <= res.objective
