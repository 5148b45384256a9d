"""Regression: a sweep over a saved learned policy checks it in the parent without loading
the network, so its forked workers do not hang in their first torch call."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT

pytest.importorskip("torch")

POLICY = ROOT / "benchmarks" / "rl" / "policies" / "ppo-lag-u20.zip"

SCRIPT = f"""
import json
from mecopt.longterm.policy_comparison import compare
rows = compare(["ppo-lag:{POLICY}"], devices=[20], horizon=3, hard_limit=120)
print(json.dumps([r["status"] for r in rows]))
"""


@pytest.mark.slow
def test_compare_with_a_learned_policy_does_not_hang():
    # a fresh process: the parent must not have started torch's thread pool before forking
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=300, check=True)
    statuses = json.loads(out.stdout.strip().splitlines()[-1])
    assert statuses and all(s in ("feasible", "violates") for s in statuses), out.stderr[-2000:]


def test_check_policy_reads_metadata_only():
    from mecopt.rl.saved import PolicyFileError, check_policy

    meta = check_policy(POLICY, "ppo-lag")
    assert meta["n_devices"] == 20 and meta["algo"] == "ppo-lag"
    with pytest.raises(PolicyFileError, match="load it as"):
        check_policy(POLICY, "ppo")
    with pytest.raises(ValueError, match="unknown option"):
        check_policy(POLICY, "ppo-lag", temperature=2)
