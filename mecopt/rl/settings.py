"""Validation of training settings, before any trace, network or directory is made.

:func:`check_train` checks the arguments of :func:`mecopt.rl.train.train` and the learner
options (PPO's and the learners' own), naming the field and the value, so that ``mecopt
train``, the ``train`` bench kind and the API all refuse nonsense the same way: a
``batch_size`` of 0 (which made the first update loop forever), ``n_steps = 0``, a
discount above 1, a negative clip range, a non-finite entropy coefficient, a world model
of zero width, an episode longer than the training traces... This module imports no
torch; only an option name it does not know is looked up in the learner's signature.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mecopt.errors import UnknownNameError
from mecopt.longterm.trace_draw import check_trace_size

Check = Callable[[str, Any], None]


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and \
        math.isfinite(float(value))


def real(low: float | None = None, high: float | None = None, *, low_open: bool = False,
         none: bool = False) -> Check:
    """A check: a finite number (not a bool or a string) in ``[low, high]`` (``(low, ...``
    when ``low_open``), or ``None`` when ``none``."""

    def check(key: str, value: Any) -> None:
        if value is None and none:
            return
        ok = _number(value) and not (
            (low is not None and (value <= low if low_open else value < low))
            or (high is not None and value > high))
        if not ok:
            lo = "-inf" if low is None else f"{low:g}"
            hi = "inf)" if high is None else f"{high:g}]"
            raise ValueError(f"{key} = {value!r}: must be a finite number in "
                             f"{'(' if low_open else '['}{lo}, {hi}"
                             + (" or null" if none else ""))

    return check


def whole(low: int, high: int | None = None, *, floats: bool = False) -> Check:
    """A check: a whole number in ``[low, high]`` (with ``floats``, an integral float such
    as ``2e5`` too)."""

    def check(key: str, value: Any) -> None:
        ok = _number(value) and (floats or isinstance(value, int)) and \
            float(value) == int(value) and int(value) >= low and (
            high is None or int(value) <= high)
        if not ok:
            limit = f" and <= {high:,}" if high is not None else ""
            raise ValueError(f"{key} = {value!r}: must be a whole number >= {low}{limit}")

    return check


def flag(key: str, value: Any) -> None:
    """A check: ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ValueError(f"{key} = {value!r}: must be true or false")


def _net_arch(key: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise ValueError(f"{key} = {value!r}: must be a table (e.g. {{\"net_arch\": [64, 64]}})")
    arch = value.get("net_arch")
    if arch is not None and (not isinstance(arch, list) or not arch or not all(
            isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= 65_536 for w in arch)):
        raise ValueError(f"{key}.net_arch = {arch!r}: must be a non-empty list of layer "
                         "widths in 1..65536")


#: Largest coefficient a learner option may take: the networks compute in float32, whose
#: largest value is 3.4e38, and 1e300 overflowed inside the update.
BIG = 1e6

#: Learner options (PPO's, in SB3 names, and the learners' own) and their checks.
LEARNER_CHECKS: dict[str, Check] = {
    "learning_rate": real(0.0, 1.0, low_open=True),
    "n_steps": whole(1, 1_000_000),
    "batch_size": whole(2, 10_000_000),  # SB3 normalises advantages per mini-batch
    "n_epochs": whole(1, 10_000),
    "gamma": real(0.0, 1.0, low_open=True),
    "gae_lambda": real(0.0, 1.0),
    "clip_range": real(0.0, 10.0, low_open=True),
    "clip_range_vf": real(0.0, 10.0, low_open=True, none=True),
    "normalize_advantage": flag,
    "ent_coef": real(0.0, BIG),
    "vf_coef": real(0.0, BIG),
    "max_grad_norm": real(0.0, BIG, low_open=True),
    "target_kl": real(0.0, BIG, low_open=True, none=True),
    "stats_window_size": whole(1, 1_000_000),
    "policy_kwargs": _net_arch,
    "pid_kp": real(0.0, BIG),
    "pid_ki": real(0.0, BIG),
    "pid_kd": real(0.0, BIG),
    "pid_ema": real(0.0, 0.999999),
    "cost_quantile": real(0.0, 1.0, low_open=True),
    "device_credit": real(0.0, 1.0),
    "normalize_reward": flag,
    "bc_traces": whole(1, 100_000),
    "bc_epochs": whole(1, 100_000),
    "bc_time_limit": real(0.0, BIG, low_open=True),
    "bc_max_gap": real(0.0, BIG),
    "wm_hidden": whole(1, 65_536),
    "wm_lr": real(0.0, 1.0, low_open=True),
    "wm_updates": whole(1, 100_000),
    "wm_memory": whole(1, 10_000),
    "value_expansion": flag,
    "wm_horizon": whole(1, 10_000),
    "value_mix": real(0.0, 1.0),
    "imagination": flag,
    "imag_horizon": whole(1, 10_000),
    "imag_starts": whole(1, 10_000_000),
    "imag_weight": real(0.0, BIG),
}

#: Constructor arguments :func:`~mecopt.rl.train.train` sets itself.
RESERVED = ("policy", "env", "seed", "device", "verbose", "tensorboard_log",
            "_init_setup_model")


def learner_option_names(algo: str) -> set[str]:
    """Every keyword the learner of ``algo`` takes (its signature and its bases'), less
    :data:`RESERVED` (imports the learner)."""
    from mecopt.rl.algos import algo_class

    cls, _extra = algo_class(algo)
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            continue
        names |= {p.name for p in params
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names - set(RESERVED) - {"self"}


def learner_defaults(algo: str) -> dict[str, Any]:
    """The default of every keyword of the learner of ``algo`` (its signature and its
    bases'), with the registry's extra options applied (imports the learner)."""
    from mecopt.rl.algos import algo_class

    cls, extra = algo_class(algo)
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        try:
            params = inspect.signature(init).parameters.values() if init else ()
        except (TypeError, ValueError):
            continue
        out.update({p.name: p.default for p in params if p.default is not p.empty})
    return {**out, **extra}


def check_learner_options(algo: str, options: Mapping[str, Any], *, n_envs: int = 1) -> None:
    """Validate learner options (see :data:`LEARNER_CHECKS`).

    Raises
    ------
    ValueError
        For a bad value, a reserved name or an option the learner does not take (the
        message lists the valid ones).
    """
    from mecopt.rl.algos import ALGOS

    if algo not in ALGOS:
        raise UnknownNameError(f"unknown algorithm {algo!r}; valid: {', '.join(ALGOS)}")
    for key, value in options.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"learner option name {key!r}: must be a non-empty string")
        if key in RESERVED:
            raise ValueError(f"{key} = {value!r}: set by the training run itself, not an option")
    if options:
        valid = learner_option_names(algo)
        bad = sorted(k for k in options if k not in valid)
        if bad:
            raise ValueError(f"unknown option(s) for learner {algo!r}: {', '.join(bad)}; "
                             f"valid: {', '.join(sorted(valid))}")
    for key, value in options.items():
        check = LEARNER_CHECKS.get(key)
        if check is not None:
            check(key, value)
    n_steps = int(options.get("n_steps", 64))
    if n_steps * int(n_envs) < 2:
        raise ValueError(f"n_steps = {n_steps} x n_envs = {n_envs}: a rollout needs at least "
                         "2 samples")
    if algo.startswith("wm-ppo"):  # model rollouts run inside one rollout of n_steps slots
        settings = {**learner_defaults(algo), **options}
        for key, on in (("imag_horizon", "imagination"), ("wm_horizon", "value_expansion")):
            ahead = settings.get(key)
            if settings.get(on, True) and isinstance(ahead, int) and n_steps <= ahead:
                raise ValueError(f"n_steps = {n_steps}: the world-model learner looks "
                                 f"{key} = {ahead} slots ahead inside a rollout, so n_steps "
                                 f"must be > {ahead}")


#: Arguments of :func:`~mecopt.rl.train.train` and their checks.
TRAIN_CHECKS: dict[str, Check] = {
    "n_devices": whole(1, 100_000),
    "steps": whole(1, 10**12, floats=True),
    "seed": whole(0, 10**9),
    "n_envs": whole(1, 4096),
    "horizon": whole(1, 1_000_000),
    "pool_size": whole(1, 100_000),
    "pool_length": whole(1, 1_000_000),
    "checkpoint_every": whole(1, 10**12, floats=True),
    "n_eval": whole(0, 100_000),
    "eval_horizon": whole(1, 1_000_000),
    "resume": flag,
    "progress": flag,
    "plot": flag,
}


def check_out(out: Any) -> Path:
    """The output directory: a non-empty path that is not a file (nor under one)."""
    if not isinstance(out, str | Path) or not str(out).strip():
        raise ValueError(f"out = {out!r}: must be a non-empty directory path")
    path = Path(out)
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise ValueError(f"out = {str(out)!r}: {str(p)!r} is a file, not a directory")
    return path


def check_train(algo: str, settings: Mapping[str, Any], options: Mapping[str, Any]) -> None:
    """Validate the arguments of a training run before any work.

    Parameters
    ----------
    algo
        Learner name.
    settings
        Arguments of :func:`~mecopt.rl.train.train` (any subset of :data:`TRAIN_CHECKS`).
    options
        Learner options.

    Raises
    ------
    ValueError
        Naming the field and the value.
    """
    for key, value in settings.items():
        check = TRAIN_CHECKS.get(key)
        if check is None:
            raise ValueError(f"unknown training setting {key!r}; valid: "
                             + ", ".join(TRAIN_CHECKS))
        check(key, value)
    s = {"n_envs": 16, "horizon": 100, "pool_size": 32, "pool_length": 300, "n_eval": 8,
         "eval_horizon": 200, "n_devices": 20, **settings}
    if int(s["horizon"]) > int(s["pool_length"]):
        raise ValueError(f"horizon = {s['horizon']}: a training episode is cut from training "
                         f"traces of pool_length = {s['pool_length']} slots; use a horizon <= "
                         f"{s['pool_length']} or a larger pool_length")
    u = int(s["n_devices"])
    check_trace_size(u, int(s["pool_length"]), int(s["pool_size"]))
    check_trace_size(u, int(s["eval_horizon"]), max(int(s["n_eval"]), 1))
    check_trace_size(u, int(s["horizon"]), int(s["n_envs"]))
    check_learner_options(algo, options, n_envs=int(s["n_envs"]))
