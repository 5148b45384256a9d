"""The fixed-count assignment: optimal for the optimum's own counts (against brute force)."""



import mecopt
from mecopt.formulations.fixed_count import fixed_count_assignment
from mecopt.formulations.option_cost import LayerCosts


def test_fixed_count_assignment_is_optimal_for_its_counts(small_case, bruteforce):
    ref = bruteforce(small_case)
    if ref.status != "optimal" or small_case.min_accuracy is not None:
        return
    if small_case.interference != "none":
        return
    costs = LayerCosts.of(small_case)
    a = fixed_count_assignment(costs, ref.metrics.users_per_es)
    assert a is not None
    m = mecopt.evaluate(small_case, a)
    assert m.objective <= ref.objective * (1 + 1e-9)
