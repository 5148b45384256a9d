"""The generic big-M formulation (``formulation="big-m"``) against brute force.

Small random cases of ``conftest.py`` (three queue models, the uncertainty rule, accuracy
targets, ES user limits, infeasible ones) and of ``test_energy_hallucination.py`` (energy
budgets, the hallucination cap, the weighted objective, whose costs may be negative) on HiGHS;
a few cases on every backend that takes continuous columns.
"""

import numpy as np
import pytest
from conftest import ENERGY_SPECS, SMALL_SPECS, brute, build_case, build_energy

import mecopt
from mecopt.errors import MecoptError
from mecopt.formulations import big_m

REL = 1e-6
CONTINUOUS_BACKENDS = ("ortools-mip", "pyomo", "cvxpy")


def _check(inst, backend="highs"):
    ref = brute(inst)
    res = mecopt.solve(inst, backend, threads=1, formulation="big-m", gap=0)
    assert res.info["formulation"] == "big-m"
    assert res.status == ref.status, res.message
    if ref.status == "infeasible":
        assert res.assignment is None and res.objective is None
        return
    assert mecopt.evaluate(inst, res.assignment).feasible
    assert res.objective == pytest.approx(ref.objective, rel=REL)
    assert res.bound == pytest.approx(ref.objective, rel=REL)


@pytest.mark.parametrize("spec", SMALL_SPECS, ids=lambda s: "-".join(map(str, s)))
def test_big_m_equals_bruteforce(spec):
    _check(build_case(spec))


@pytest.mark.parametrize("spec", ENERGY_SPECS, ids=lambda s: "-".join(map(str, s)))
def test_big_m_with_energy_hallucination_weights_equals_bruteforce(spec):
    _check(build_energy(spec))


@pytest.mark.parametrize("backend", CONTINUOUS_BACKENDS)
@pytest.mark.parametrize("k", range(4))
def test_big_m_on_other_backends(backend, k):
    _check(build_case(SMALL_SPECS[7 * k]), backend)


def test_encoded_optimum_is_feasible_with_its_objective():
    inst = mecopt.scenario("kim2026", 6, seed=3)
    ref = brute(inst)
    model = big_m.build(inst)
    x = model.encode(ref.assignment)
    assert model.milp.max_violation(x) <= 1e-9
    assert model.to_mean_delay(model.milp.objective(x)) == pytest.approx(ref.objective, rel=1e-9)
    np.testing.assert_array_equal(model.decode(x), ref.assignment)


def test_cpsat_and_interference_are_refused_clearly():
    inst = mecopt.scenario("uniform", 4, seed=0, n_servers=2)
    with pytest.raises(MecoptError, match="continuous columns"):
        mecopt.solve(inst, "ortools-cpsat", formulation="big-m")
    with pytest.raises(MecoptError, match="interference"):
        mecopt.solve(inst.replace(interference="other-cells"), "highs", formulation="big-m")
