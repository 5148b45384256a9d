"""Scenario generators: named families of instances, reproducible from a seed.

>>> import mecopt
>>> inst = mecopt.scenario("kim2026", 60, seed=0)
>>> inst.n_users, inst.n_servers
(60, 4)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from mecopt.instance import Instance
from mecopt.registry import Registry
from mecopt.scenarios import kim2026, kim2026_published, uniform

#: Scenario builders by name: ``builder(n_users, streams, **params) -> dict of fields``.
SCENARIOS: Registry[Callable[..., Instance]] = Registry("scenario")
SCENARIOS.register("kim2026", kim2026.build)
SCENARIOS.register("uniform", uniform.build)
SCENARIOS.register("kim2026-published", kim2026_published.build)

#: Instance options any scenario accepts as overrides.
_INSTANCE_OPTIONS = ("interference", "queue", "arrival_rate", "tau", "min_accuracy", "max_users")


def available_scenarios() -> list[str]:
    """Names accepted by :func:`scenario`."""
    return SCENARIOS.names()


def scenario_parameters(name: str) -> dict[str, Any]:
    """The overridable parameters of scenario ``name`` with their defaults."""
    builder = SCENARIOS.get(name)
    params = {
        p.name: p.default
        for p in inspect.signature(builder).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    return params


def scenario(name: str, n_users: int, seed: int, **overrides: Any) -> Instance:
    """Generate an instance of a named scenario.

    Parameters
    ----------
    name
        ``"kim2026"`` (the published setting) or ``"uniform"`` (a small random family for
        tests); see :func:`available_scenarios`.
    n_users
        N, the number of users (>= 1).
    seed
        Seed of the instance's random streams. Positions, fading, compute draws and query
        data use independent child streams, so changing one part (say the accuracy curve)
        leaves the others unchanged.
    **overrides
        Scenario parameters (see :func:`scenario_parameters`) and instance options
        (``interference``, ``queue``, ``arrival_rate``, ``tau``, ``min_accuracy``,
        ``max_users``).

    Returns
    -------
    Instance
        With ``meta`` recording scenario, N, seed and overrides.

    Raises
    ------
    ValueError
        For an unknown scenario or override name, or a bad value.
    """
    builder = SCENARIOS.get(name)
    if isinstance(n_users, bool) or not isinstance(n_users, int | np.integer) or n_users < 1:
        raise ValueError(f"n_users = {n_users!r}: must be a whole number >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed = {seed!r}: must be a whole number >= 0")
    params = scenario_parameters(name)
    unknown = sorted(set(overrides) - set(params) - set(_INSTANCE_OPTIONS))
    if unknown:
        valid = ", ".join(sorted(set(params) | set(_INSTANCE_OPTIONS)))
        raise ValueError(
            f"unknown override(s) for scenario {name!r}: {', '.join(unknown)}; valid: {valid}"
        )
    scenario_kw = {k: v for k, v in overrides.items() if k in params}
    options = {k: v for k, v in overrides.items() if k not in params}
    streams = dict(
        zip(
            ("place", "fading", "compute", "query", "curve"),
            (np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(5)),
            strict=True,
        )
    )
    fields, defaults = builder(int(n_users), streams, **scenario_kw)
    meta = {
        "scenario": name,
        "n_users": int(n_users),
        "seed": int(seed),
        "overrides": {k: _jsonable(v) for k, v in overrides.items()},
        **fields.pop("meta", {}),
    }
    return Instance(**fields, **{**defaults, **options}, meta=meta)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
