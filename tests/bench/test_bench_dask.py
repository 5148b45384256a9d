"""The Dask executor: a two-worker local cluster on loopback runs a tiny sweep."""

from __future__ import annotations

import sys

import pytest
from bench_helpers import tiny_spec

from mecopt.bench import DaskExecutor, ResultStore, run_sweep
from mecopt.errors import MissingDependencyError

pytest.importorskip("dask.distributed")


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_two_worker_local_cluster_runs_a_tiny_sweep(processes: bool) -> None:
    spec = tiny_spec(solvers=["goa", "min-delay", "edge-all"], sizes=[10], seeds=2)
    executor = DaskExecutor(workers=2, processes=processes, host="127.0.0.1")
    try:
        info = executor.client.scheduler_info()
        assert len(info["workers"]) == 2
        assert info["address"].startswith("tcp://127.0.0.1:")
        assert all(addr.startswith("tcp://127.0.0.1:") for addr in info["workers"])
        store = ResultStore(":memory:")
        outcome = run_sweep(spec, store, executor, progress=False)
    finally:
        executor.close()
    rows = store.rows()
    assert outcome.ran == len(spec) == len(rows) == 12
    assert all(r["status"] == "feasible" and r["objective"] > 0 for r in rows)
    assert {r["solver"] for r in rows} == {"goa", "min-delay", "edge-all"}


def test_missing_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'mecopt\[dask\]'"):
        DaskExecutor()
