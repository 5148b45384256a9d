"""The relative gap an exact solve proves: default 1e-4, ``gap=`` honoured by every backend,
recorded as ``gap_tol``, and ``optimal`` exactly when it is proven."""

import functools

import pytest
from conftest import EXACT_BACKENDS

import mecopt
from mecopt.errors import UnknownNameError
from mecopt.result import DEFAULT_GAP, MIN_GAP, proven
from mecopt.solvers.highs import HighsBackend


@functools.cache
def kim(n, seed=0):
    return mecopt.scenario("kim2026", n, seed=seed)


def test_default_gap_is_the_mip_solvers_default():
    assert DEFAULT_GAP == 1e-4
    res = mecopt.solve(kim(120), "exact")
    assert res.gap_tol == DEFAULT_GAP
    assert res.status == "optimal" and res.stop == "gap" and res.gap <= DEFAULT_GAP


@pytest.mark.parametrize("gap", [0.03, 0.0])
@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_every_backend_proves_the_requested_gap(backend, gap):
    res = mecopt.solve(kim(30), backend, threads=1, gap=gap)
    assert res.gap_tol == max(gap, MIN_GAP)
    assert res.status == "optimal" and res.stop == "gap" and proven(res.gap, res.gap_tol)
    assert res.bound <= res.objective * (1 + 1e-9)


@pytest.mark.parametrize(("gap", "sent"), [(0.03, 0.03), (0.0, MIN_GAP)])
def test_the_driver_hands_the_gap_to_the_backend(monkeypatch, gap, sent):
    seen = []
    solve = HighsBackend.solve

    def recording(self, milp, options):
        seen.append(options.mip_gap)
        return solve(self, milp, options)

    monkeypatch.setattr(HighsBackend, "solve", recording)
    # Lagrangian off: the backend, not the bound, must close this gap.
    mecopt.solve(kim(30), "highs", threads=1, gap=gap, lagrangian="off")
    assert seen == [sent]


def test_bruteforce_takes_gap_and_proves_exactly():
    inst = mecopt.scenario("uniform", 5, seed=1, n_servers=2)
    res = mecopt.solve(inst, "bruteforce", gap=0.01)
    assert res.status == "optimal" and res.gap == 0.0 and res.gap_tol == 0.0


@pytest.mark.parametrize("bad", [-0.1, 1.0, float("nan"), "1e-4", True, None])
@pytest.mark.parametrize("solver", ["exact", "highs", "bruteforce"])
def test_a_bad_gap_is_refused_by_name(solver, bad):
    inst = mecopt.scenario("uniform", 4, seed=0, n_servers=2)
    with pytest.raises(ValueError, match=r"gap = .*: must be a number in \[0, 1\)"):
        mecopt.solve(inst, solver, gap=bad)


def test_heuristics_take_no_gap():
    with pytest.raises(UnknownNameError, match="unknown option.*gap"):
        mecopt.solve(kim(20), "goa", gap=1e-4)


def test_an_unproven_gap_is_feasible_with_the_limit_as_reason():
    # N = 1,000 with 0.3 s: the heuristics' answer and a bound, not a proof of 1e-9.
    res = mecopt.solve(kim(1000), "exact", time_limit=0.3, gap=1e-9, threads=1)
    assert res.gap_tol == MIN_GAP
    assert res.status == "feasible" and res.stop == "time_limit"
    assert res.gap is None or res.gap > res.gap_tol
