"""Every solve runs in a child with a hard wall-clock limit; failures become rows."""

from __future__ import annotations

import dataclasses
import time

import pytest
from bench_helpers import register_test_solvers, tiny_spec

from mecopt.bench import LocalExecutor, ResultStore, parse_spec, run_sweep
from mecopt.bench.guard import _run_subprocess, run_guarded


@pytest.fixture(scope="module", autouse=True)
def _solvers() -> None:
    register_test_solvers()


def _spec(solvers: list, hard_limit: float = 2.0):
    return parse_spec({"sweep": {"name": "guard", "hard_limit": hard_limit},
                       "grid": [{"scenario": "kim2026", "n_users": [6], "seeds": [0],
                                 "solvers": solvers}]})


def test_hanging_solve_is_cut_at_its_limit_and_the_sweep_goes_on() -> None:
    spec = _spec(["test-sleep", "goa", "test-die", "test-fail", "local-all"], hard_limit=1.5)
    store = ResultStore(":memory:")
    t0 = time.perf_counter()
    outcome = run_sweep(spec, store, LocalExecutor(2), progress=False)
    elapsed = time.perf_counter() - t0
    rows = {r["solver"]: r for r in store.rows()}
    assert outcome.ran == 5 and set(rows) == {"test-sleep", "goa", "test-die", "test-fail",
                                              "local-all"}
    sleep = rows["test-sleep"]
    assert sleep["status"] == "timeout"
    assert 1.4 <= sleep["runtime"] < 10 and "hard limit of 1.5 s" in sleep["message"]
    assert sleep["interference"] == "none" and sleep["lower_bound"] > 0  # instance columns kept
    assert elapsed < 20
    assert rows["test-die"]["status"] == "crashed" and "code 3" in rows["test-die"]["message"]
    assert rows["test-fail"]["status"] == "error"
    assert "always fails" in rows["test-fail"]["message"]
    assert rows["goa"]["status"] == "feasible" and rows["goa"]["objective"] > 0
    for r in rows.values():  # provenance on every row, failed or not
        assert r["host"] and r["mecopt_version"] and r["git_commit"] and r["solver_version"]
        assert r["seed"] == 0 and r["threads"] == 1 and r["hard_limit"] == 1.5


def test_run_guarded_in_process() -> None:
    spec = _spec(["test-sleep", "goa"], hard_limit=1.0)
    sleep, goa = spec.tasks
    assert run_guarded(sleep)["status"] == "timeout"
    row = run_guarded(goa)
    assert row["status"] == "feasible" and row["solver"] == "goa"


def test_subprocess_child_used_by_daemonic_workers() -> None:
    task = tiny_spec(solvers=["goa"], sizes=[10], seeds=1).tasks[0]
    row = _run_subprocess(dataclasses.replace(task, hard_limit=120.0))
    assert row["status"] == "feasible" and row["objective"] > 0
    cut = _run_subprocess(dataclasses.replace(task, hard_limit=0.01))
    assert cut["status"] == "timeout"


def test_retry_runs_failed_rows_again() -> None:
    spec = _spec(["test-fail", "goa"])
    store = ResultStore(":memory:")
    run_sweep(spec, store, LocalExecutor(1), progress=False)
    first = {r["solver"]: r["id"] for r in store.rows()}
    again = run_sweep(spec, store, LocalExecutor(1), progress=False, retry=("error",))
    assert (again.ran, again.skipped) == (1, 1)
    ids = {r["solver"]: r["id"] for r in store.rows()}
    assert ids["goa"] == first["goa"] and ids["test-fail"] != first["test-fail"]
    with pytest.raises(ValueError, match="valid"):
        run_sweep(spec, store, LocalExecutor(1), progress=False, retry=("oops",))
