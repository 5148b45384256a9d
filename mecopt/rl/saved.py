"""Saved learned policies as :mod:`mecopt.longterm` policies (``ppo:PATH`` and friends).

:func:`load_policy` reads a model saved by :func:`mecopt.rl.train.train` (one SB3 zip
holding the network and the metadata ``mecopt_meta``: algorithm, U, M, scenario,
observation layout) and wraps it as a :class:`LearnedPolicy`, which the long-term registry
builds for the names ``ppo:PATH``, ``ppo-lag:PATH``, ``wm-ppo:PATH`` and ``bc:PATH``. The
network's slot decoder (:mod:`mecopt.rl.network`) decides the slot's joint assignment
device by device. By default it samples from the trained stochastic policy with the run's
own generator (so a run is reproducible from its seed); ``deterministic=True`` takes the
most probable option at each decoder step instead (greedy decoding), which is not the
policy PPO optimised.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch as th

import mecopt.longterm as lt
from mecopt.errors import MecoptError, UnknownNameError
from mecopt.rl.algos import ALGOS, algo_class
from mecopt.rl.features import OBS_VERSION, Encoder, masks
from mecopt.rl.network import OffloadPolicy


class PolicyFileError(MecoptError, ValueError):
    """A policy file that cannot be used: missing, not a mecopt policy, or built for a
    different problem size."""


def _open_error(path: Path, exc: BaseException) -> PolicyFileError:
    return PolicyFileError(f"{path}: not a readable saved policy ({type(exc).__name__}: "
                           f"{str(exc)[:200]})")


def saved_meta(path: str | Path) -> dict[str, Any]:
    """The ``mecopt_meta`` of a saved policy or checkpoint, read without loading the network.

    Raises
    ------
    PolicyFileError
        For an empty path, a missing file, a file that is not a zip, a zip without SB3's
        ``data`` and ``policy.pth``, unreadable metadata, or a file without (valid)
        ``mecopt_meta``.
    """
    if not str(path).strip():
        raise PolicyFileError("policy file: empty path")
    path = Path(path)
    if not path.is_file():
        raise PolicyFileError(f"policy file not found: {path}")
    try:
        with zipfile.ZipFile(path) as z:
            missing = [n for n in ("data", "policy.pth") if n not in z.namelist()]
            if missing:
                raise PolicyFileError(f"{path}: not a saved policy (the zip holds no "
                                      f"{' and no '.join(missing)})")
            data = json.loads(z.read("data"))
    except PolicyFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError, RecursionError,
            NotImplementedError) as exc:
        raise _open_error(path, exc) from None
    meta = data.get("mecopt_meta") if isinstance(data, dict) else None
    if not isinstance(meta, dict):
        raise PolicyFileError(f"{path}: not a mecopt policy (no mecopt_meta)")
    if meta.get("obs_version") != OBS_VERSION:
        raise PolicyFileError(f"{path}: observation layout version {meta.get('obs_version')!r}, "
                              f"this mecopt reads {OBS_VERSION}")
    if meta.get("algo") not in ALGOS:
        raise PolicyFileError(f"{path}: mecopt_meta algo = {meta.get('algo')!r}, not one of "
                              + ", ".join(ALGOS))
    for key, high in (("n_devices", None), ("n_servers", 9)):
        value = meta.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (
                high is not None and value > high):
            raise PolicyFileError(f"{path}: mecopt_meta {key} = {value!r}: not a valid size")
    if not isinstance(meta.get("scenario"), dict):
        raise PolicyFileError(f"{path}: mecopt_meta scenario = {meta.get('scenario')!r}: not "
                              "a scenario")
    return meta


def _family(algo: str) -> str:
    return {"wm-ppo-mve": "wm-ppo", "wm-ppo-imag": "wm-ppo"}.get(algo, algo)


def _check_family(path: str | Path, meta: dict[str, Any], algo: str) -> None:
    """Refuse a file saved by another algorithm family than the registry prefix ``algo``."""
    if _family(meta["algo"]) != _family(algo):
        raise PolicyFileError(f"{path} holds a {meta['algo']!r} policy; load it as "
                              f"'{_family(meta['algo'])}:{path}'")


def _load(cls: type, path: Path, **kwargs: Any) -> Any:
    """``cls.load`` with every failure of a damaged file as a :class:`PolicyFileError`.

    The network class is given rather than unpickled from the file, which names it by its
    module path at saving time (``mecopt.rl.policies.OffloadPolicy`` in files saved before
    the module became :mod:`mecopt.rl.network`), so saved files load whatever the module
    is called.
    """
    kwargs.setdefault("custom_objects", {}).setdefault("policy_class", OffloadPolicy)
    try:
        return cls.load(path, device="cpu", **kwargs)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - unpickling a damaged file raises anything
        raise _open_error(path, exc) from None


def read_model(path: str | Path, algo: str | None = None) -> Any:
    """Load the SB3 model saved at ``path`` (checking its metadata against ``algo``)."""
    meta = saved_meta(path)
    path = Path(path)
    if algo is not None:
        _check_family(path, meta, algo)
    cls, _ = algo_class(meta["algo"])
    model = _load(cls, path)
    if not isinstance(getattr(model, "mecopt_meta", None), dict):
        raise PolicyFileError(f"{path}: not a mecopt policy (no mecopt_meta)")
    return model


def check_resumable(path: str | Path, *, algo: str, n_devices: int, n_servers: int) -> None:
    """Raise :class:`PolicyFileError` unless the checkpoint at ``path`` was trained by
    ``algo`` for U = ``n_devices`` and M = ``n_servers`` (checked before loading)."""
    meta = saved_meta(path)
    if meta["algo"] != algo:
        raise PolicyFileError(f"--resume: checkpoint {path} was trained by {meta['algo']!r}, "
                              f"not {algo!r}; resume with --algo {meta['algo']} or use "
                              "another --out")
    if (meta["n_devices"], meta["n_servers"]) != (n_devices, n_servers):
        raise PolicyFileError(
            f"--resume: checkpoint {path} was trained for U = {meta['n_devices']} devices and "
            f"M = {meta['n_servers']} servers, not U = {n_devices}, M = {n_servers}; resume "
            f"with --devices {meta['n_devices']} or use another --out")


def load_checkpoint(cls: type, path: str | Path, **kwargs: Any) -> Any:
    """A checkpoint loaded to continue training (a damaged file is a
    :class:`PolicyFileError`)."""
    return _load(cls, Path(path), **kwargs)


class LearnedPolicy:
    """A trained network acting in :mod:`mecopt.longterm` runs.

    Parameters
    ----------
    model
        The SB3 model (with ``mecopt_meta``).
    name
        Name recorded in rollouts.
    deterministic
        Take the most probable option per query instead of sampling (default False).
    """

    def __init__(self, model: Any, name: str = "learned", *, deterministic: bool = False
                 ) -> None:
        self.model = model
        self.meta = dict(model.mecopt_meta)
        self.name = name
        self.deterministic = bool(deterministic)
        try:
            self.scenario = lt.LongtermScenario.from_dict(self.meta["scenario"])
        except (ValueError, TypeError) as exc:
            raise PolicyFileError(f"policy {name!r}: its scenario is not valid ({exc})") from None

    def reset(self, info: lt.EnvInfo, rng: np.random.Generator) -> None:
        u, m = self.meta["n_devices"], self.meta["n_servers"]
        if info.n_devices != u or info.n_servers != m:
            raise PolicyFileError(
                f"policy {self.name!r} was trained for U = {u} devices and M = {m} servers; "
                f"this trace has U = {info.n_devices}, M = {info.n_servers} (train one with "
                f"mecopt train --devices {info.n_devices})")
        self.encoder = Encoder(self.scenario, u)
        self.rng = rng
        # the networks are tiny: one torch thread is fastest and does not oversubscribe
        # the cores when many runs share a machine
        th.set_num_threads(1)

    def act(self, obs: lt.Observation) -> np.ndarray:
        feats = th.as_tensor(self.encoder(obs))
        mask = masks(obs.has_query, self.encoder.n_servers)
        noise = None
        if not self.deterministic:  # Gumbel noise from the run's generator: a sample
            shape = (*obs.has_query.shape, self.encoder.n_servers + 1)
            noise = th.as_tensor(-np.log(-np.log(self.rng.uniform(1e-12, 1.0, size=shape))),
                                 dtype=th.float32)
        a = self.model.policy.decide(feats, mask, noise).cpu().numpy()
        return np.where(obs.has_query, a, lt.NO_QUERY)


#: Options of a learned policy (``--option deterministic=true``).
POLICY_OPTIONS = ("deterministic",)


def check_policy(path: str | Path, algo: str = "ppo", **options: Any) -> dict[str, Any]:
    """Check a saved policy's options and file without loading its network.

    Reads only the zip's metadata, so it runs no torch operation: a sweep can check its
    learned policies in the parent process before forking its workers (a torch thread pool
    started before a fork deadlocks the child's first torch call).

    Returns
    -------
    dict
        The file's ``mecopt_meta``.

    Raises
    ------
    PolicyFileError
        Missing or foreign file, or a file of another algorithm.
    UnknownNameError
        For an option a learned policy does not take.
    ValueError
        For an option value of the wrong type.
    """
    if algo not in ALGOS:
        raise PolicyFileError(f"unknown learned-policy kind {algo!r}; valid: ppo, ppo-lag, "
                              "wm-ppo")
    unknown = sorted(set(options) - set(POLICY_OPTIONS))
    if unknown:
        raise UnknownNameError(f"policy '{algo}:{path}': unknown option(s) {unknown}; valid: "
                               + ", ".join(POLICY_OPTIONS))
    if not isinstance(options.get("deterministic", False), bool):
        raise ValueError(f"option deterministic = {options['deterministic']!r}: must be true "
                         "or false")
    meta = saved_meta(path)
    _check_family(path, meta, algo)
    return meta


def load_policy(path: str | Path, algo: str = "ppo", **options: Any) -> LearnedPolicy:
    """The policy saved at ``path`` (``algo`` is the registry prefix: ppo, ppo-lag, wm-ppo).

    Raises
    ------
    PolicyFileError
        Missing or foreign file, or a file of another algorithm.
    """
    check_policy(path, algo, **options)
    model = read_model(path, algo)
    return LearnedPolicy(model, name=f"{algo}:{path}", **options)
