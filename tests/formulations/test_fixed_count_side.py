"""The fixed-count step of ``lns`` with a side row (accuracy target).

With a side row the transportation LP has fractional vertices; the users it splits are
re-assigned exactly. The answer must respect the counts and the side row, and cost no less
than the exact fixed-count optimum (a MILP over the same columns) and little more.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

import mecopt
from mecopt.formulations.fixed_count import fixed_count_assignment
from mecopt.formulations.option_cost import LayerCosts


def layer_cost(costs: LayerCosts, counts: np.ndarray, a: np.ndarray) -> float:
    """Total cost of ``a`` with every user of ES j costed at ``counts[j]``."""
    total = float(costs.local[a < 0].sum())
    for j, n in enumerate(counts):
        if (a == j).any():
            total += float(costs.offload(j, int(n))[a == j].sum())
    return total


def exact_fixed(costs: LayerCosts, counts: np.ndarray) -> float:
    """Optimum of the fixed-count problem with its side rows, as a MILP."""
    n_users, n_es = costs.inst.n_users, costs.inst.n_servers
    cols = [costs.offload(j, int(counts[j])) if counts[j] >= 1 else np.full(n_users, np.inf)
            for j in range(n_es)]
    c = np.column_stack(cols + [np.where(costs.forced, np.inf, costs.local)])
    ui, ki = np.nonzero(np.isfinite(c))
    n_var = ui.size
    es = ki < n_es
    cons = [LinearConstraint(sp.csr_matrix((np.ones(n_var), (ui, np.arange(n_var))),
                                           shape=(n_users, n_var)), 1, 1),
            LinearConstraint(sp.csr_matrix((np.ones(int(es.sum())),
                                            (ki[es], np.flatnonzero(es))),
                                           shape=(n_es, n_var)), 0, counts)]
    for s in costs.side:
        cons.append(LinearConstraint(np.where(es, s.gain[ui], 0.0)[None, :], s.need, np.inf))
    res = milp(c[ui, ki], integrality=np.ones(n_var), bounds=Bounds(0, 1), constraints=cons,
               options={"mip_rel_gap": 1e-9})
    assert res.x is not None
    return float(res.fun)


def binding_case(seed: int) -> tuple[LayerCosts, np.ndarray]:
    """kim2026 N = 40 with an accuracy target halfway from ``lns``'s accuracy to all-edge,
    and the counts of ``lns``'s answer to it."""
    inst = mecopt.scenario("kim2026", 40, seed)
    lo = mecopt.solve(inst, "lns").accuracy
    hi = mecopt.solve(inst, "edge-all").accuracy
    inst = inst.replace(min_accuracy=lo + 0.5 * (hi - lo))
    a0 = mecopt.solve(inst, "lns").assignment
    return LayerCosts.of(inst), np.bincount(a0[a0 >= 0], minlength=inst.n_servers)


def check_feasible(costs: LayerCosts, counts: np.ndarray, a: np.ndarray | None) -> None:
    assert a is not None
    assert np.all(np.bincount(a[a >= 0], minlength=costs.inst.n_servers) <= counts)
    assert float(costs.side[0].gain[a >= 0].sum()) >= costs.side[0].need - 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_side_row_answer_is_integral_feasible_and_near_best(seed):
    costs, counts = binding_case(seed)
    a = fixed_count_assignment(costs, counts)
    check_feasible(costs, counts, a)
    best = exact_fixed(costs, counts)
    value = layer_cost(costs, counts, a)
    assert value >= best - 1e-6 * abs(best)
    assert value <= best + 0.01 * abs(best)


@pytest.mark.parametrize("seed", range(6))
def test_exact_side_answer_is_the_fixed_count_optimum(seed):
    costs, counts = binding_case(seed)
    fast = fixed_count_assignment(costs, counts)
    a = fixed_count_assignment(costs, counts, exact=True)
    check_feasible(costs, counts, a)
    value = layer_cost(costs, counts, a)
    assert value == pytest.approx(exact_fixed(costs, counts), rel=1e-7)
    assert value <= layer_cost(costs, counts, fast) * (1 + 1e-12)
