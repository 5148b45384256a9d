"""All exact backends agree with each other on medium instances and on degenerate ones."""

import functools

import numpy as np
import pytest
from conftest import EXACT_BACKENDS, stable_rate

import mecopt

REL = 1e-6


@functools.cache
def medium(key):
    n, seed, variant = key
    inst = mecopt.scenario("kim2026", n, seed)
    if variant == "mm1+accuracy":
        lo, hi = inst.acc_local.mean(), np.maximum(inst.acc_local, inst.acc_edge).mean()
        inst = inst.replace(queue="mm1", arrival_rate=stable_rate(inst, 12),
                            min_accuracy=float(lo + 0.7 * (hi - lo)))
    return inst


MEDIUM = [(30, 0, "plain"), (35, 1, "plain"), (40, 2, "plain"), (30, 3, "mm1+accuracy")]


@functools.cache
def reference(key):
    return mecopt.solve(medium(key), "highs", threads=2)


@pytest.mark.parametrize("key", MEDIUM, ids=lambda k: f"kim2026-n{k[0]}-s{k[1]}-{k[2]}")
@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_backends_agree_on_medium_instances(backend, key):
    ref = reference(key)
    assert ref.status == "optimal"
    res = mecopt.solve(medium(key), backend, threads=2)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(ref.objective, rel=REL)
    assert res.bound == pytest.approx(ref.bound, rel=REL)


def test_medium_exact_optimum_beats_goa_somewhere():
    # Otherwise the agreement above could come from the shared heuristic warm start alone.
    gains = [mecopt.solve(medium(k), "goa").objective - reference(k).objective for k in MEDIUM]
    assert min(gains) >= -1e-12
    assert max(gains) > 0


def _degenerate():
    base = mecopt.scenario("uniform", 5, seed=3, n_servers=2)
    rate = float((base.capacity / base.edge_work.mean()).max() * 1.5)
    return {
        # Offloading never pays: every column is pruned and the MILP has no variables.
        "nothing-worth-offloading": base.replace(local_delay=np.full(5, 1e-6)),
        "every-load-unstable": base.replace(queue="mm1", arrival_rate=rate),
        "zero-gain": base.replace(gain=np.zeros((5, 2))),
        "one-user": mecopt.scenario("uniform", 1, seed=0, n_servers=2),
        "one-es": mecopt.scenario("uniform", 6, seed=0, n_servers=1),
        "forced-but-unreachable": base.replace(gain=np.zeros((5, 2)), tau=0.0),
        "forced-but-no-room": base.replace(tau=0.0, max_users=[0, 0]),
        "accuracy-out-of-reach": base.replace(min_accuracy=1.0),
    }


DEGENERATE = _degenerate()


@pytest.mark.parametrize("name", list(DEGENERATE))
@pytest.mark.parametrize("backend", EXACT_BACKENDS)
def test_backends_handle_degenerate_instances(backend, name, bruteforce):
    inst = DEGENERATE[name]
    ref = bruteforce(inst)
    res = mecopt.solve(inst, backend, threads=1)
    assert res.status == ref.status
    if ref.status == "optimal":
        assert res.objective == pytest.approx(ref.objective, rel=REL)
    else:
        assert res.assignment is None


@pytest.mark.parametrize("name", ["nothing-worth-offloading", "every-load-unstable", "zero-gain"])
def test_nothing_offloadable_gives_all_local(name):
    res = mecopt.solve(DEGENERATE[name], "highs", threads=1)
    assert res.status == "optimal"
    assert res.n_offloaded == 0
