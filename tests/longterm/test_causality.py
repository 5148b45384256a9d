"""Causality of the online policies the benchmark ranks (``benchmarks/online/``): the
actions before slot t0 do not change when the trace after t0 is replaced by another
trace's (a splice). Covers ``priced``, ``lyapunov`` and the committed learned policies
(``benchmarks/rl/policies/*-u20.zip``, sampled and decoded greedily)."""

import dataclasses

import numpy as np
import pytest
from conftest import ROOT

import mecopt.longterm as lt
from mecopt.longterm.traces import CELL_FIELDS, FLAG_FIELDS

POLICIES = ROOT / "benchmarks" / "rl" / "policies"
LEARNED = ("ppo", "ppo-lag", "wm-ppo", "bc")
T0 = 6

#: About a minute on a loaded 2-core machine (U = 20 is what the committed policies take).
pytestmark = pytest.mark.slow


def splice(a: lt.Trace, b: lt.Trace, t0: int) -> lt.Trace:
    """``a`` up to slot t0 - 1, ``b`` from slot t0 on (the static fields of ``a``)."""
    cat = {
        f: np.concatenate([getattr(a, f)[:, :t0], getattr(b, f)[:, t0:]], axis=1)
        for f in (*CELL_FIELDS, *FLAG_FIELDS, "gain", "position")
    }
    return dataclasses.replace(a, **cat)


@pytest.fixture(scope="module")
def traces():
    a = lt.trace(n_devices=20, horizon=12, seed=31)
    b = lt.trace(n_devices=20, horizon=12, seed=32)
    return a, splice(a, b, T0)


def check_causal(traces, policy, **options):
    a, spliced = traces
    ra = lt.run(a, policy, seed=7, **options)
    rs = lt.run(spliced, policy, seed=7, **options)
    np.testing.assert_array_equal(ra.records.actions[:T0], rs.records.actions[:T0])
    # The splice changes the future, so a policy that peeks at it would be seen.
    assert not np.array_equal(ra.records.actions[T0:], rs.records.actions[T0:])


@pytest.mark.parametrize("name", ["priced", "lyapunov"])
def test_online_policy_is_causal(traces, name):
    check_causal(traces, name)


@pytest.mark.parametrize("deterministic", [False, True])
@pytest.mark.parametrize("algo", LEARNED)
def test_committed_learned_policy_is_causal(traces, algo, deterministic):
    pytest.importorskip("stable_baselines3")
    path = POLICIES / f"{algo}-u20.zip"
    check_causal(traces, f"{algo}:{path}", deterministic=deterministic)
