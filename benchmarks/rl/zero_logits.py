"""Ablation: a trained policy with its network's logits set to zero.

Writes ``runs/ALGO-u20-s0/model-zero-logits.zip``: the same model (its Lagrange multipliers,
decoder settings, critics) with the actor head's weights and bias at 0, so the slot decoder
acts on its exact marginal scores and the learned multipliers alone. ``compare.toml`` runs it
beside the trained policy: the difference is what PPO's learned logits add.

Usage: ``python benchmarks/rl/zero_logits.py ppo-lag``
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch as th

from mecopt.rl.algos import algo_class

HERE = Path(__file__).resolve().parent


def main(algo: str) -> Path:
    src = HERE / "runs" / f"{algo}-u20-s0" / "model.zip"
    model = algo_class(algo)[0].load(src, device="cpu")
    with th.no_grad():
        model.policy.action_net.linear.weight.zero_()
        model.policy.action_net.linear.bias.zero_()
    out = src.with_name("model-zero-logits.zip")
    model.save(out)
    return out


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "ppo-lag"))
