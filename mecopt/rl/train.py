"""Train a learned policy: ``mecopt train`` and :func:`train`.

A run writes into its output directory:

- ``model.zip``: the trained policy (a ``mecopt.longterm`` policy as ``ALGO:PATH``);
- ``checkpoints/model-<steps>.zip`` every ``checkpoint_every`` steps (``--resume`` continues
  from the newest one);
- ``tb/``: TensorBoard logs (reward, costs, multipliers, losses);
- ``curve.csv``: per rollout, environment steps, wall-clock seconds, the mean reward per
  slot (``-latency / slot``) and the three mean costs of the rollout, the multipliers;
- ``curve.png`` / ``curve.pdf``: the learning curve;
- ``eval.json``: the held-out evaluation (seeds below the training range) and provenance.

Training traces come from seeds ``TRAIN_SEED_BASE + 1000 * seed + k``
(:mod:`mecopt.rl.pool`); evaluation traces from seeds ``0..n_eval - 1``: they never meet.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

import mecopt.longterm as lt
from mecopt.rl.algos import PPO_DEFAULTS, algo_class
from mecopt.rl.features import COST_NAMES, OBS_VERSION
from mecopt.rl.pool import check_eval_seeds, trace_pool, train_seeds
from mecopt.rl.settings import check_out, check_train

CURVE_FIELDS = ("steps", "wall_s", "reward", *(f"cost_{c}" for c in COST_NAMES),
                *(f"lambda_{c}" for c in COST_NAMES),
                *(f"violation_{c}" for c in COST_NAMES), "feasible_share", "latency_ms")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mecopt" / "rl-pools"


def _callback(out: Path, total: int, checkpoint_every: int, progress: bool) -> Any:
    from stable_baselines3.common.callbacks import BaseCallback
    from tqdm import tqdm

    class Recorder(BaseCallback):
        """Learning curve, progress bar, TensorBoard scalars and checkpoints."""

        def _on_training_start(self) -> None:
            self.t0 = time.perf_counter() - float(getattr(self.model, "mecopt_wall", 0.0))
            self.bar = tqdm(total=total, initial=self.model.num_timesteps, disable=not progress,
                            unit="step", unit_scale=True, dynamic_ncols=True, mininterval=1.0)
            self.next_ckpt = (self.model.num_timesteps // checkpoint_every + 1) * checkpoint_every
            self._clear()

        def _clear(self) -> None:
            self.n = 0

        def _on_step(self) -> bool:
            self.n += self.training_env.num_envs
            self.bar.update(self.training_env.num_envs)
            return True

        def _on_rollout_end(self) -> None:
            rec = getattr(self.model, "_recorder", None)
            if not self.n or rec is None or not rec.rewards:
                return
            wall = time.perf_counter() - self.t0
            self.model.mecopt_wall = wall
            lam = self.model.multipliers()
            reward = float(np.mean(rec.rewards))
            costs = np.concatenate(rec.costs).mean(axis=0)
            viol = np.stack(rec.violations) if rec.violations else np.full((1, 3), np.nan)
            feas = float(np.mean((viol <= 0).all(axis=1)))
            slot_ms = 1000.0 * float(self.model.mecopt_meta["scenario"]["slot_s"])
            row = [self.model.num_timesteps, round(wall, 3), reward, *costs, *lam,
                   *viol.mean(axis=0), feas, -reward * slot_ms]
            with open(out / "curve.csv", "a", newline="") as fh:
                csv.writer(fh).writerow(row)
            self.logger.record("rollout/reward_per_slot", row[2])
            self.logger.record("rollout/feasible_share", feas)
            self.bar.set_postfix(ms=f"{row[-1]:.1f}", feas=f"{feas:.2f}",
                                 la=f"{lam[1]:.2f}", refresh=False)
            self._clear()
            if self.model.num_timesteps >= self.next_ckpt:
                ck = out / "checkpoints"
                ck.mkdir(exist_ok=True)
                self.model.save(ck / f"model-{self.model.num_timesteps}.zip")
                self.next_ckpt += checkpoint_every

        def _on_training_end(self) -> None:
            self.bar.close()

    return Recorder()


def _latest_checkpoint(out: Path) -> Path | None:
    found = []
    for p in (out / "checkpoints").glob("model-*.zip"):
        m = re.fullmatch(r"model-(\d+)\.zip", p.name)
        if m:
            found.append((int(m.group(1)), p))
    return max(found)[1] if found else None


def _trim_curve(out: Path, steps: int) -> None:
    path = out / "curve.csv"
    if not path.is_file():
        return
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    keep = [rows[0]] + [r for r in rows[1:] if int(r[0]) <= steps]
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(keep)


def evaluate(policy: Any, *, n_devices: int, scenario: str | lt.LongtermScenario = "default",
             seeds: list[int] | None = None, horizon: int = 100) -> dict[str, Any]:
    """Score a policy on held-out traces (seeds below the training range).

    Returns
    -------
    dict
        Mean latency (s), the share of feasible members, mean energy per device and slot
        (J), mean accuracy and hallucination, per member latencies, the seeds and T.
    """
    seeds = list(range(8)) if seeds is None else list(seeds)
    check_eval_seeds(seeds)
    tr = lt.trace(scenario, n_devices=n_devices, horizon=horizon, seed=seeds)
    rs = lt.run_batch(tr, policy, seed=0)
    return {
        "mean_latency": float(np.mean([r.mean_latency for r in rs])),
        "feasible_share": float(np.mean([r.feasible for r in rs])),
        "energy": float(np.mean([r.energy.mean() for r in rs])),
        "max_device_energy": float(np.mean([r.energy.max() for r in rs])),
        "accuracy": float(np.mean([r.accuracy for r in rs])),
        "hallucination": float(np.mean([r.hallucination for r in rs])),
        "latency_per_member": [float(r.mean_latency) for r in rs],
        "seeds": seeds, "horizon": horizon,
    }


def train(algo: str = "ppo", *, n_devices: int = 20, steps: int = 200_000, seed: int = 0,
          out: str | Path = "runs/ppo", resume: bool = False,
          scenario: str | lt.LongtermScenario = "default", n_envs: int = 16,
          horizon: int = 100, pool_size: int = 32, pool_length: int = 300,
          checkpoint_every: int = 50_000, n_eval: int = 8, eval_horizon: int = 100,
          progress: bool = True, plot: bool = True, **options: Any) -> dict[str, Any]:
    """Train ``algo`` and write the run directory (see the module docstring).

    Parameters
    ----------
    algo
        ``ppo``, ``ppo-lag``, ``wm-ppo`` (or the ablations ``wm-ppo-mve``, ``wm-ppo-imag``).
    n_devices
        U.
    steps
        Environment steps (slots x parallel episodes).
    seed
        Training seed: network initialisation, episode sampling and the training traces.
    out
        Output directory.
    resume
        Continue from the newest checkpoint in ``out``.
    scenario
        Long-term scenario.
    n_envs, horizon
        Parallel episodes and slots per episode.
    pool_size, pool_length
        Training traces in the pool and their length (slots).
    checkpoint_every
        Steps between checkpoints.
    n_eval, eval_horizon
        Held-out evaluation traces (seeds ``0..n_eval - 1``) and their length (default 100,
        the default training ``horizon``: keep the two equal so that the time feature
        ``t / T`` means the same in training and evaluation).
    progress, plot
        Show the progress bar; write the learning-curve plot.
    **options
        Learner options overriding :data:`~mecopt.rl.algos.PPO_DEFAULTS` and the learner's
        own (``pid_ki``, ``device_credit``, ``wm_horizon``, ...).

    Returns
    -------
    dict
        The content of ``eval.json``.
    """
    import torch as th

    from mecopt._version import __version__
    from mecopt.rl.network import OffloadPolicy
    from mecopt.rl.saved import LearnedPolicy, check_resumable, load_checkpoint
    from mecopt.rl.vec_env import OffloadVecEnv

    check_train(algo, {
        "n_devices": n_devices, "steps": steps, "seed": seed, "n_envs": n_envs,
        "horizon": horizon, "pool_size": pool_size, "pool_length": pool_length,
        "checkpoint_every": checkpoint_every, "n_eval": n_eval, "eval_horizon": eval_horizon,
        "resume": resume, "progress": progress, "plot": plot}, options)
    out = check_out(out)
    n_devices, steps, seed, n_envs, horizon = (int(x) for x in (n_devices, steps, seed, n_envs,
                                                                horizon))
    pool_size, pool_length, checkpoint_every = int(pool_size), int(pool_length), \
        int(checkpoint_every)
    n_eval, eval_horizon = int(n_eval), int(eval_horizon)
    cls, extra = algo_class(algo)
    scen = scenario if isinstance(scenario, lt.LongtermScenario) else lt.make_scenario(scenario)
    ckpt = _latest_checkpoint(out) if resume else None
    if resume and ckpt is None:
        raise FileNotFoundError(f"--resume: no checkpoint in {out / 'checkpoints'}")
    if ckpt is not None:
        check_resumable(ckpt, algo=algo, n_devices=n_devices, n_servers=scen.n_servers)
    th.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    pool = trace_pool(scen, n_devices, train_seeds(seed, pool_size), pool_length, _cache_dir())
    env = OffloadVecEnv(scen, n_devices=n_devices, n_envs=n_envs, horizon=horizon, pool=pool,
                        seed=seed)
    kwargs = {**PPO_DEFAULTS, **extra, **options}
    if ckpt is not None:
        model = load_checkpoint(cls, ckpt, env=env, tensorboard_log=str(out / "tb"))
        _trim_curve(out, model.num_timesteps)
    else:
        model = cls(OffloadPolicy, env, seed=seed, device="cpu", verbose=0,
                    tensorboard_log=str(out / "tb"), **kwargs)
        with open(out / "curve.csv", "w", newline="") as fh:
            csv.writer(fh).writerow(CURVE_FIELDS)
    model.mecopt_meta = {
        "algo": algo, "n_devices": n_devices, "n_servers": scen.n_servers,
        "scenario": scen.to_dict(), "obs_version": OBS_VERSION, "seed": seed,
        "episode_horizon": horizon, "n_envs": n_envs, "pool_seeds": train_seeds(seed, pool_size),
        "pool_length": pool_length, "options": {k: v for k, v in kwargs.items()
                                                if k != "policy_kwargs"},
        "mecopt_version": __version__,
    }
    remaining = max(steps - model.num_timesteps, 0)
    cb = _callback(out, steps, checkpoint_every, progress)
    t0 = time.perf_counter()
    model.learn(remaining, callback=cb, reset_num_timesteps=ckpt is None, tb_log_name="run")
    wall = float(getattr(model, "mecopt_wall", time.perf_counter() - t0))
    model.save(out / "model.zip")
    result = {
        "algo": algo, "n_devices": n_devices, "steps": int(model.num_timesteps), "seed": seed,
        "wall_clock_s": wall, "torch_threads": th.get_num_threads(),
        "load_average": list(os.getloadavg()), "python": platform.python_version(),
        "torch": th.__version__, "mecopt": __version__, "scenario": scen.name,
        "options": model.mecopt_meta["options"],
    }
    if n_eval:
        pol = LearnedPolicy(model, name=f"{algo}:{out / 'model.zip'}")
        result["eval"] = evaluate(pol, n_devices=n_devices, scenario=scen,
                                  seeds=list(range(n_eval)), horizon=eval_horizon)
    (out / "eval.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    if plot:
        from mecopt.rl.plots import plot_run_curve

        plot_run_curve(out / "curve.csv", out / "curve", title=f"{algo}, U = {n_devices}")
    return result
