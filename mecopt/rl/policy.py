"""Saved learned policies as :mod:`mecopt.longterm` policies (``ppo:PATH`` and friends).

:func:`load_policy` reads a model saved by :func:`mecopt.rl.train.train` (one SB3 zip
holding the network and the metadata ``mecopt_meta``: algorithm, U, M, scenario,
observation layout) and wraps it as a :class:`LearnedPolicy`, which the long-term registry
builds for the names ``ppo:PATH``, ``ppo-lag:PATH`` and ``wm-ppo:PATH``. By default it
samples from the trained stochastic policy with the run's own generator (so a run is
reproducible from its seed); ``deterministic=True`` takes the most probable option per
query instead, which is not the policy PPO optimised (a query split 40/15/15/15/15 between
local and four ESs would always stay local).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch as th

import mecopt.longterm as lt
from mecopt.errors import MecoptError
from mecopt.rl.algos import ALGOS, algo_class
from mecopt.rl.features import OBS_VERSION, Encoder, masks


class PolicyFileError(MecoptError, ValueError):
    """A policy file that cannot be used: missing, not a mecopt policy, or built for a
    different problem size."""


def read_model(path: str | Path, algo: str | None = None) -> Any:
    """Load the SB3 model saved at ``path`` (checking its metadata against ``algo``)."""
    path = Path(path)
    if not path.is_file():
        raise PolicyFileError(f"policy file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise PolicyFileError(f"{path}: not a saved policy (not a zip file)")
    cls, _ = algo_class(algo or "ppo")
    model = cls.load(path, device="cpu")
    meta = getattr(model, "mecopt_meta", None)
    if not isinstance(meta, dict):
        raise PolicyFileError(f"{path}: not a mecopt policy (no mecopt_meta)")
    if meta.get("obs_version") != OBS_VERSION:
        raise PolicyFileError(f"{path}: observation layout version {meta.get('obs_version')}, "
                              f"this mecopt reads {OBS_VERSION}")
    family = {"wm-ppo-mve": "wm-ppo", "wm-ppo-imag": "wm-ppo"}
    if algo is not None and family.get(meta["algo"], meta["algo"]) != family.get(algo, algo):
        raise PolicyFileError(f"{path} holds a {meta['algo']!r} policy; load it as "
                              f"'{family.get(meta['algo'], meta['algo'])}:{path}'")
    return model


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
        self.scenario = lt.LongtermScenario.from_dict(self.meta["scenario"])

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
        with th.no_grad():
            dist = self.model.policy.get_distribution(feats, action_masks=mask)
            logp = dist.logits.cpu().numpy()
        if self.deterministic:
            a = logp.argmax(axis=-1)
        else:
            g = -np.log(-np.log(self.rng.uniform(1e-12, 1.0, size=logp.shape)))
            a = (logp + g).argmax(axis=-1)
        return np.where(obs.has_query, a, lt.NO_QUERY)


def load_policy(path: str | Path, algo: str = "ppo", **options: Any) -> LearnedPolicy:
    """The policy saved at ``path`` (``algo`` is the registry prefix: ppo, ppo-lag, wm-ppo).

    Raises
    ------
    PolicyFileError
        Missing or foreign file, or a file of another algorithm.
    """
    if algo not in ALGOS:
        raise PolicyFileError(f"unknown learned-policy kind {algo!r}; valid: ppo, ppo-lag, "
                              "wm-ppo")
    model = read_model(path, algo)
    return LearnedPolicy(model, name=f"{algo}:{path}", **options)
