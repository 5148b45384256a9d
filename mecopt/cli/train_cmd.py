"""``mecopt train``: train a learned offloading policy (needs the ``rl`` extra).

``mecopt train --algo {ppo,ppo-lag,wm-ppo} --devices 20 --steps 1e6 --seed 0 --out DIR
[--resume]`` writes ``DIR/model.zip`` (use it as the long-term policy ``ALGO:DIR/model.zip``),
checkpoints, TensorBoard logs, the learning curve (CSV, PNG, PDF) and the held-out
evaluation (``eval.json``).
"""

from __future__ import annotations

import argparse
import math

from mecopt.cli.common import nonempty_path, parse_pairs, quiet_numpy

#: train() arguments whose command-line flag has another name.
FLAGS = {"n_devices": "--devices", "n_envs": "--envs", "n_eval": "--eval-traces",
         "eval_horizon": "--eval-horizon", "checkpoint_every": "--checkpoint-every",
         "horizon": "--horizon", "steps": "--steps", "seed": "--seed"}

ALGO_CHOICES = ("ppo", "ppo-lag", "wm-ppo", "wm-ppo-mve", "wm-ppo-imag", "bc")


def _steps(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a number") from None
    if not math.isfinite(value) or value < 1 or value != int(value) or value > 1e12:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number in 1..1e12")
    return int(value)


def register(sub: argparse._SubParsersAction) -> None:
    """Register the ``train`` sub-command."""
    p = sub.add_parser(
        "train", help="train a learned offloading policy (PPO, PPO-Lagrangian, world-model PPO)",
        description="Train a learned policy for the long-term offloading problem on "
                    "training traces; evaluate it on held-out traces. Needs the 'rl' extra.")
    p.add_argument("--algo", choices=ALGO_CHOICES, default="ppo",
                   help="learner (wm-ppo-mve / wm-ppo-imag: world-model ablations)")
    p.add_argument("--devices", type=int, default=20, metavar="U", help="devices (default 20)")
    p.add_argument("--steps", type=_steps, default=200_000, metavar="N",
                   help="environment steps, e.g. 2e5 (default 200000)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="training seed (default 0)")
    p.add_argument("--out", required=True, type=nonempty_path, metavar="DIR",
                   help="output directory")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    p.add_argument("--scenario", default="default", help="long-term scenario (default 'default')")
    p.add_argument("--envs", type=int, default=16, metavar="B",
                   help="parallel episodes in the batched environment (default 16)")
    p.add_argument("--horizon", type=int, default=100, metavar="T",
                   help="slots per training episode (default 100)")
    p.add_argument("--checkpoint-every", type=_steps, default=50_000, metavar="N",
                   help="steps between checkpoints (default 50000)")
    p.add_argument("--eval-traces", type=int, default=8, metavar="K",
                   help="held-out evaluation traces, seeds 0..K-1 (default 8; 0: none)")
    p.add_argument("--eval-horizon", type=int, default=200, metavar="T",
                   help="slots per evaluation trace (default 200)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="learner option, VALUE as JSON (e.g. pid_ki=2.0, wm_horizon=5)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from mecopt.rl._deps import require_rl

    require_rl()
    from mecopt.rl.train import train

    for name in ("devices", "envs", "horizon", "eval_horizon"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} {getattr(args, name)}: must be >= 1")
    for name in ("seed", "eval_traces"):
        if getattr(args, name) < 0:
            raise ValueError(f"--{name.replace('_', '-')} {getattr(args, name)}: must be >= 0")
    options = parse_pairs(args.set, "--set")
    reserved = sorted(set(options) & {"n_devices", "steps", "seed", "out", "resume", "scenario",
                                      "n_envs", "horizon", "checkpoint_every", "n_eval",
                                      "eval_horizon", "progress", "algo"})
    if reserved:
        raise ValueError(f"--set {reserved[0]}=...: a training setting with its own flag "
                         "(see mecopt train --help)")
    try:
        with quiet_numpy():
            result = train(args.algo, n_devices=args.devices, steps=args.steps, seed=args.seed,
                           out=args.out, resume=args.resume, scenario=args.scenario,
                           n_envs=args.envs, horizon=args.horizon,
                           checkpoint_every=args.checkpoint_every, n_eval=args.eval_traces,
                           eval_horizon=args.eval_horizon, progress=not args.no_progress,
                           **options)
    except ValueError as exc:  # name the flag of a setting the API calls otherwise
        name = str(exc).partition(" = ")[0]
        if name in FLAGS:
            raise ValueError(f"{FLAGS[name]}: {exc}") from None
        raise
    ev = result.get("eval")
    line = f"{args.algo}: {result['steps']} steps in {result['wall_clock_s']:.1f} s"
    if ev:
        line += (f"; held-out mean latency {ev['mean_latency'] * 1e3:.2f} ms, feasible on "
                 f"{ev['feasible_share']:.0%} of {len(ev['seeds'])} traces")
    print(line)
    print(f"policy: {args.algo.split('-mve')[0].split('-imag')[0]}:{args.out}/model.zip")
    return 0
