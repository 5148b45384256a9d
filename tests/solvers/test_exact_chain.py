"""The ``auto`` rule of the exact driver: which rows of the chain accept which instance.

The table is read without solving: a row that accepts runs in this order, and the first
outcome that ends the solve ends the chain (``count-indexed`` accepts everything).
"""

import pytest

import mecopt
from mecopt.solvers.exact import chain
from mecopt.solvers.exact.state import Budget, ExactOptions, SolveState
from mecopt.solvers.highs import HighsBackend
from mecopt.solvers.ortools_cpsat import CpSatBackend
from mecopt.solvers.pyomo_backend import PyomoBackend


def accepted(inst, backend=None, time_limit=10.0, **options):
    opts = ExactOptions(backend=backend or HighsBackend(), solver_name="test",
                        time_limit=time_limit, seed=0, threads=1, **options)
    return chain.accepted(SolveState(inst, opts, Budget(time_limit), inner=None))


def kim(n, interference="none", **changes):
    return mecopt.scenario("kim2026", n, 0, interference=interference).replace(**changes)


OC = "other-cells"


@pytest.mark.parametrize(("inst", "backend", "limit", "rows"), [
    (kim(30), None, 10.0, ["count-indexed"]),
    (kim(120), None, 10.0, ["decomposition", "count-indexed"]),
    (kim(30, min_accuracy=0.5), None, 10.0, ["count-indexed"]),
    (kim(60, min_accuracy=0.5), None, 10.0, ["decomposition", "count-indexed"]),
    (kim(7, OC), None, 10.0,
     ["enumeration", "best-response", "count-intervals", "intervals", "count-indexed"]),
    (kim(20, OC), None, 10.0, ["best-response", "count-intervals", "intervals",
                               "count-indexed"]),
    (kim(20, OC), None, None, ["best-response", "count-intervals", "count-indexed"]),
    (kim(12, OC), None, None, ["best-response", "count-intervals", "intervals",
                               "count-indexed"]),
    (kim(34, OC), None, None, ["best-response", "count-indexed"]),
    (kim(20, OC), CpSatBackend(), 10.0, ["best-response", "count-indexed"]),
    (kim(20, OC), PyomoBackend(), 10.0, ["best-response", "intervals", "count-indexed"]),
    (kim(60, OC), None, 10.0, ["best-response", "count-indexed"]),
    (kim(120, OC), None, 10.0, ["best-response", "decomposition", "count-indexed"]),
])
def test_auto_rows(inst, backend, limit, rows):
    assert accepted(inst, backend, limit) == rows


@pytest.mark.parametrize(("formulation", "inst", "rows"), [
    ("big-m", kim(30), ["big-m", "count-indexed"]),
    ("decomposition", kim(30), ["decomposition", "count-indexed"]),
    ("enumeration", kim(7, OC), ["enumeration", "count-indexed"]),
    ("intervals", kim(60, OC), ["best-response", "intervals", "count-indexed"]),
    ("count-intervals", kim(60, OC), ["best-response", "count-intervals", "count-indexed"]),
    ("count-indexed", kim(120), ["count-indexed"]),
])
def test_a_named_formulation_takes_its_own_row(formulation, inst, rows):
    assert accepted(inst, formulation=formulation) == rows


def test_lagrangian_mode_other_than_auto_keeps_the_count_indexed_model():
    assert accepted(kim(7, OC), lagrangian_mode="on") == ["best-response", "count-indexed"]


def test_costs_out_of_range_take_the_guard_row():
    inst = kim(30)
    local_delay = inst.local_delay.copy()
    local_delay[3] = 1e308
    assert accepted(inst.replace(local_delay=local_delay)) == ["out-of-range", "count-indexed"]


def test_every_row_names_a_formulation_or_a_step():
    names = [name for name, _, _ in chain.CHAIN]
    assert names[-1] == "count-indexed"
    assert set(chain.FORMULATIONS) - {"auto"} <= set(names)


def test_units_budget_and_outcome():
    from mecopt.formulations.milp import MS
    from mecopt.solvers.exact.outcome import Outcome, Units

    units = Units.of(kim(30))
    assert units.total(0.02) == pytest.approx(0.02 * MS * 30, rel=1e-15)
    assert units.mean(units.total(0.02)) == pytest.approx(0.02, rel=1e-15)
    assert units.mean(None) is None
    free = Budget(None)
    assert free.left() == float("inf") and free.share(0.5) is None and free.reserve(0.1) is None
    timed = Budget(10.0, start=0.0)
    assert timed.deadline == 10.0 and timed.left() < 0
    assert not Outcome().done and Outcome(message="m").done and Outcome(infeasible="r").done
    assert Outcome(bounds={"a": 1.0, "b": 2.0}).bound == 2.0 and Outcome().bound == -float("inf")
