"""``mecopt.solve``: argument checks, what a result records, re-evaluation."""

import json

import numpy as np
import pytest
from conftest import EXACT_BACKENDS, HEURISTICS

import mecopt
from mecopt.errors import UnknownNameError

ALL_SOLVERS = EXACT_BACKENDS + ("bruteforce",) + HEURISTICS


@pytest.fixture(scope="module")
def inst():
    return mecopt.scenario("uniform", 6, seed=2, n_servers=2, tau=0.5)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_result_is_reevaluated_and_complete(inst, solver):
    res = mecopt.solve(inst, solver, seed=7, threads=1)
    m = mecopt.evaluate(inst, res.assignment)
    assert res.objective == m.mean_delay
    assert res.metrics.feasible == m.feasible
    assert res.accuracy == m.accuracy and res.n_offloaded == m.n_offloaded
    assert res.solver == solver
    assert res.solver_version
    assert res.seed == 7 and res.runtime >= 0
    assert res.status in ("optimal", "feasible", "violates")
    assert res.stop == ("gap" if res.status == "optimal" else "heuristic")
    doc = json.loads(json.dumps(res.to_dict()))
    assert doc["assignment"] == res.assignment.tolist()
    assert f"status     {res.status}" in res.summary()


@pytest.mark.parametrize("solver", EXACT_BACKENDS)
def test_exact_records_threads_and_bound(inst, solver):
    res = mecopt.solve(inst, solver, threads=1)
    assert res.threads == 1
    assert res.status == "optimal" and res.bound <= res.objective * (1 + 1e-9)


@pytest.mark.parametrize("solver", EXACT_BACKENDS)
def test_exact_without_warm_start_is_still_optimal(inst, solver, bruteforce):
    res = mecopt.solve(inst, solver, threads=1, warm_start=False, gap=0)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(bruteforce(inst).objective, rel=1e-6)


def test_exact_never_worse_than_goa():
    for seed in range(3):
        inst = mecopt.scenario("kim2026", 25, seed=seed, interference="other-cells")
        goa = mecopt.solve(inst, "goa").objective
        assert mecopt.solve(inst, "highs", threads=1).objective <= goa


def test_heuristics_have_no_bound(inst):
    res = mecopt.solve(inst, "goa")
    assert res.bound is None and res.gap is None and res.status == "feasible"


def test_heuristic_answer_breaking_a_constraint_says_violates(hand):
    res = mecopt.solve(hand, "local-all")  # user 0 is forced
    assert res.status == "violates" and not res.success and res.stop == "heuristic"
    assert res.assignment is not None and res.objective is not None
    doc = json.loads(json.dumps(res.to_dict()))
    assert doc["status"] == "violates" and doc["feasible"] is False
    assert any("uncertainty rule" in v for v in doc["violations"])
    assert "violation  uncertainty rule" in res.summary()


# ---------------------------------------------------------------- bad arguments
def test_unknown_solver_lists_valid_names(inst):
    with pytest.raises(UnknownNameError, match=r"unknown solver 'gurobi'; valid names: "
                                               r"'exact', 'highs', .*'goa'"):
        mecopt.solve(inst, "gurobi")


@pytest.mark.parametrize(
    ("solver", "options", "match"),
    [
        ("highs", {"tau": 0.5}, r"unknown option\(s\) for solver 'highs': tau; valid: engine, "
                                r"verbose, warm_start"),
        ("goa", {"warm_start": True}, r"unknown option\(s\) for solver 'goa': warm_start; "
                                      r"valid: tau, engine"),
        ("local-all", {"tau": 1}, r"for solver 'local-all': tau; valid: engine"),
        ("bruteforce", {"verbose": True}, r"valid: max_assignments"),
    ],
)
def test_unknown_option_lists_valid_ones(inst, solver, options, match):
    with pytest.raises(UnknownNameError, match=match):
        mecopt.solve(inst, solver, **options)


@pytest.mark.parametrize(
    ("solver", "match", "error"),
    [
        ("bruteforce:fast", r"solver 'bruteforce' takes no engine \(got 'bruteforce:fast'\)",
         UnknownNameError),
        ("goa:quick", r"engine = 'quick': must be 'fast', 'vectorised' or 'loop'", ValueError),
        ("ortools-mip:gurobi", r"unknown ortools-mip engine 'gurobi'; valid: highs, scip",
         UnknownNameError),
        ("cvxpy:NOSUCH", r"cvxpy solver 'NOSUCH' is not installed; installed: .*HIGHS",
         mecopt.MissingDependencyError),
        ("pyomo:nosuch", r"Pyomo solver 'nosuch' is not available here",
         mecopt.MissingDependencyError),
        (3, r"solver name must be a string, got 3", UnknownNameError),
    ],
)
def test_bad_engine_name(inst, solver, match, error):
    with pytest.raises(error, match=match):
        mecopt.solve(inst, solver, threads=1)


@pytest.mark.parametrize("time_limit", [0, -1.0, float("nan"), float("inf"), "soon", [1]])
def test_bad_time_limit(inst, time_limit):
    with pytest.raises(ValueError, match=r"time_limit = .*: must be a number > 0"):
        mecopt.solve(inst, "goa", time_limit=time_limit)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "1", None])
def test_bad_seed(inst, seed):
    with pytest.raises(ValueError, match=r"seed = .*: must be a whole number >= 0"):
        mecopt.solve(inst, "goa", seed=seed)


@pytest.mark.parametrize("threads", [0, -2, 1.5, True, "2"])
def test_bad_threads(inst, threads):
    with pytest.raises(ValueError, match=r"threads = .*: must be a whole number >= 1"):
        mecopt.solve(inst, "highs", threads=threads)


def test_instance_must_be_an_instance(inst):
    with pytest.raises(TypeError, match=r"instance must be a mecopt.Instance, got dict"):
        mecopt.solve(inst.to_dict(), "goa")


def test_numpy_integers_are_accepted(inst):
    res = mecopt.solve(inst, "random", seed=np.int64(3), threads=np.int32(1))
    assert res.seed == 3 and isinstance(res.seed, int)


@pytest.mark.parametrize("solver", ["cvxpy:SCIPY", "cvxpy:highs", "pyomo:appsi_highs",
                                    "pyomo:highs", "ortools-mip:SCIP", "ortools-mip:highs"])
def test_inner_engines_with_time_limit(inst, solver, bruteforce):
    res = mecopt.solve(inst, solver, threads=1, time_limit=30.0)
    assert res.solver == solver
    assert res.status == "optimal"
    assert res.objective == pytest.approx(bruteforce(inst).objective, rel=1e-6)
