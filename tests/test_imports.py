"""Every backend imports and solves in one process.

OR-Tools 9.15 bundles its own HiGHS next to highspy's; both, Pyomo's appsi and cvxpy's HiGHS
must coexist. A clash can crash the interpreter (a segmentation fault, e.g. OR-Tools' HiGHS
given a solution hint), so each check runs in a fresh subprocess and a crash fails the test
instead of killing the test run.
"""

import json
import subprocess
import sys

import pytest
from conftest import EXACT_BACKENDS

import mecopt

SCRIPT = """
import json, sys
for module in sys.argv[1].split(","):
    __import__(module)
import mecopt
inst = mecopt.scenario("kim2026", 12, seed=3)
out = {}
for threads in (1, 2):
    for name in sys.argv[2].split(","):
        res = mecopt.solve(inst, name, threads=threads)
        out[f"{name}/{threads}"] = [res.status, res.objective, res.solver_version,
                                   res.info.get("backend_status")]
print(json.dumps(out))
"""

MODULES = ["ortools.sat.python.cp_model", "ortools.linear_solver.python.model_builder",
           "highspy", "pyomo.contrib.appsi.solvers", "cvxpy"]


def run(modules, solvers):
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(modules), ",".join(solvers)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("order", ["ortools-first", "highspy-first"])
def test_all_backends_solve_in_one_process(order):
    modules = MODULES if order == "ortools-first" else MODULES[::-1]
    # Each backend twice with different thread counts: HiGHS keeps one thread pool per process.
    out = run(modules, EXACT_BACKENDS)
    assert len(out) == 2 * len(EXACT_BACKENDS)
    objectives = [v[1] for v in out.values()]
    assert all(v[0] == "optimal" for v in out.values()), out
    assert max(objectives) == pytest.approx(min(objectives), rel=1e-6)
    assert all(v[2] for v in out.values())


def test_available_solvers_lists_every_backend():
    names = mecopt.available_solvers()
    for name in ("highs", "ortools-mip", "ortools-cpsat", "pyomo", "cvxpy", "bruteforce",
                 "goa", "local-all", "edge-all", "min-delay", "random"):
        assert name in names


def test_public_api():
    for name in mecopt.__all__:
        assert hasattr(mecopt, name)
    assert mecopt.__version__
