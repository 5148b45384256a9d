"""The ``train`` task kind of :mod:`mecopt.bench`: one training run per task.

A grid with ``kind = "train"`` sweeps training runs: ``scenario`` is a long-term scenario,
``n_users`` the number of devices U, ``horizon`` the slots per training episode, ``seeds``
the training seeds, ``solvers`` the learners (``ppo``, ``ppo-lag``, ``wm-ppo``,
``wm-ppo-mve``, ``wm-ppo-imag``) and their ``options``: ``steps``, ``out_root`` (the run
directory is ``out_root/<label>-u<U>-s<seed>``, relative to the working directory;
default ``runs``) and any option of :func:`mecopt.rl.train.train` or of the learner::

    [[grid]]
    kind = "train"
    scenario = "default"
    n_users = 20
    horizon = 100
    seeds = { start = 0, count = 5 }
    solvers = [{ name = "ppo", options = { steps = 100000, out_root = "runs" } }]

The row: ``objective`` = mean latency (s) on the held-out evaluation traces, ``accuracy``
their mean effective accuracy, ``runtime`` = training wall-clock (s), ``status``
``"feasible"`` when the policy met every constraint on every evaluation trace and
``"violates"`` otherwise; ``metrics`` holds ``eval.json`` (with the run directory).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mecopt._version import __version__
from mecopt.errors import UnknownNameError

#: Arguments of :func:`mecopt.rl.train.train` a task sets from its grid.
TASK_SET = ("n_devices", "seed", "out", "scenario", "horizon", "progress", "resume", "algo")


class TrainKind:
    """The plug-in object (see :class:`mecopt.bench.kinds.TaskKind`)."""

    name = "train"

    def check_scenario(self, scenario: str) -> None:
        from mecopt.longterm.scenario import SCENARIOS

        SCENARIOS.get(scenario)

    def scenario_options(self, scenario: str) -> set[str]:
        import dataclasses

        from mecopt.longterm.scenario import LongtermScenario

        return {f.name for f in dataclasses.fields(LongtermScenario)} - {"name"}

    def check_solver(self, where: str, name: str, options: Mapping[str, Any]) -> None:
        from mecopt.rl.algos import ALGOS

        if name not in ALGOS:
            raise UnknownNameError(f"{where}: unknown learner {name!r}; valid: "
                                   + ", ".join(repr(n) for n in ALGOS))
        reserved = sorted(set(options) & set(TASK_SET))
        if reserved:
            raise ValueError(f"{where}.options: {', '.join(reserved)} set by the grid itself "
                             "(n_users, seeds, scenario, horizon), not an option")
        out_root = options.get("out_root", "runs")
        if not isinstance(out_root, str) or not out_root.strip():
            raise ValueError(f"{where}.options.out_root = {out_root!r}: must be a non-empty "
                             "folder path")

    def check_grid(self, where: str, *, scenario: str, overrides: Mapping[str, Any],
                   sizes: list[int], horizon: int | None, solvers: list[Any]) -> None:
        """Scenario values and every learner's settings, before any task runs."""
        from mecopt.longterm.scenario import make_scenario
        from mecopt.rl.settings import TRAIN_CHECKS, check_train

        try:
            make_scenario(scenario, **dict(overrides))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}.options {dict(overrides)}: {exc}") from None
        for k, s in enumerate(solvers):
            opts = {key: v for key, v in s.options.items() if key != "out_root"}
            settings = {key: opts.pop(key) for key in list(opts) if key in TRAIN_CHECKS}
            try:
                check_train(s.name, {**settings, "n_devices": max(sizes),
                                     "horizon": int(horizon or 1)}, opts)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{where}.solvers[{k}] ({s.label}): {exc}") from None

    def solver_version(self, name: str) -> str:
        import sb3_contrib
        import stable_baselines3

        return (f"mecopt {__version__}, stable-baselines3 {stable_baselines3.__version__}, "
                f"sb3-contrib {sb3_contrib.__version__}")

    def prepare(self, tasks: Iterable[Any]) -> None:
        import mecopt.rl.train  # noqa: F401 - import torch and SB3 once, before the fork
        import mecopt.rl.wm_ppo  # noqa: F401

    def run(self, task: Any) -> dict[str, Any]:
        import torch as th

        from mecopt.longterm.scenario import make_scenario
        from mecopt.rl.train import train

        opts = dict(task.solver_options)
        out = Path(opts.pop("out_root", "runs")) / f"{task.label}-u{task.n_users}-s{task.seed}"
        th.set_num_threads(max(int(task.threads), 1))
        scen = make_scenario(task.scenario, **dict(task.overrides))
        res = train(task.solver, n_devices=task.n_users, seed=task.seed, out=out,
                    scenario=scen, horizon=task.horizon, progress=False,
                    resume=(out / "checkpoints").is_dir(), **opts)
        ev = res.get("eval") or {}
        res["run_dir"] = str(out)
        return {
            "status": "feasible" if ev.get("feasible_share") == 1.0 else "violates",
            "objective": ev.get("mean_latency"),
            "accuracy": ev.get("accuracy"),
            "runtime": res["wall_clock_s"],
            "message": f"run directory {out}",
            "metrics": json.dumps(res, default=str),
        }


#: The plug-in instance named in :data:`mecopt.bench.kinds.TASK_KINDS`.
TRAIN = TrainKind()
