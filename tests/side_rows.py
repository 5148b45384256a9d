"""Instances with one side row, shared by the side-row tests."""

import numpy as np

import mecopt


def with_row(n, seed, row, share, n_servers=2):
    """kim2026 (no tau rule) with an accuracy target or a hallucination cap ``share`` of the
    way from the unconstrained optimum to all-edge."""
    inst = mecopt.scenario("kim2026", n, seed, tau=None, n_servers=n_servers)
    if row == "hallucination":
        rng = np.random.default_rng(seed)
        inst = inst.replace(hall_local=rng.uniform(0.1, 0.4, n), hall_edge=rng.uniform(0, 0.1, n))
    free = mecopt.solve(inst, "exact")
    edge = mecopt.evaluate(inst, np.arange(n) % inst.n_servers)
    if row == "accuracy":
        lo, hi = free.metrics.accuracy, edge.accuracy
        return inst.replace(min_accuracy=lo + share * (hi - lo))
    lo, hi = free.metrics.mean_hallucination, edge.mean_hallucination
    return inst.replace(max_hallucination=lo + share * (hi - lo))
