"""The long-term policy registry: policies built by name (:func:`make_policy`).

:data:`POLICIES` maps a name to a factory; the policies of other modules are imported on
first use, so a policy whose module is not installed fails with a clear message naming it.
Saved learned policies are named ``KIND:PATH`` (:data:`LEARNED_KINDS`) and loaded by
:mod:`mecopt.rl.saved`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from mecopt.errors import MissingDependencyError, UnknownNameError
from mecopt.longterm.baselines import GreedyPolicy, LocalPolicy, OffloadPolicy, RandomPolicy
from mecopt.longterm.protocol import OfflinePolicy, Policy
from mecopt.registry import Registry

__all__ = ["LEARNED_KINDS", "POLICIES", "available_policies", "make_policy"]

#: Policy factories by name: ``factory(**options) -> Policy | OfflinePolicy``.
POLICIES: Registry[Callable[..., Any]] = Registry("long-term policy")
for _cls in (LocalPolicy, OffloadPolicy, RandomPolicy, GreedyPolicy):
    POLICIES.register(_cls.name, _cls)


def _lazy(module: str, attr: str, name: str, what: str) -> Callable[..., Any]:
    """A factory importing ``module.attr`` on first use, with a clear error if absent."""

    def factory(**options: Any) -> Any:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module.startswith(exc.name):
                raise MissingDependencyError(
                    f"policy {name!r} is not available: {what} ({module}) is not installed "
                    "in this build"
                ) from None
            raise
        return getattr(mod, attr)(**options)

    return factory


POLICIES.register(
    "goa", _lazy("mecopt.longterm.per_slot", "GoaPolicy", "goa", "the per-slot GOA policy")
)
POLICIES.register(
    "myopic-optimal",
    _lazy(
        "mecopt.longterm.per_slot", "MyopicOptimal", "myopic-optimal", "the per-slot exact policy"
    ),
)
POLICIES.register(
    "lyapunov",
    _lazy(
        "mecopt.longterm.lyapunov",
        "LyapunovPolicy",
        "lyapunov",
        "the Lyapunov drift-plus-penalty policy",
    ),
)
POLICIES.register(
    "priced", _lazy("mecopt.longterm.priced", "make_policy", "priced", "the priced per-slot policy")
)
POLICIES.register(
    "hindsight",
    _lazy(
        "mecopt.longterm.hindsight",
        "make_policy",
        "hindsight",
        "the full-horizon hindsight optimum",
    ),
)


#: Prefixes of saved learned policies: ``ppo:PATH``, ``ppo-lag:PATH``, ``wm-ppo:PATH`` and
#: ``bc:PATH`` (behavioural cloning of hindsight plans).
LEARNED_KINDS = ("ppo", "ppo-lag", "wm-ppo", "bc")


def available_policies() -> list[str]:
    """Names of the registered policies."""
    return POLICIES.names()


def make_policy(policy: str | Policy | OfflinePolicy, **options: Any) -> Any:
    """Return a policy: a registered name built with ``options``, or ``policy`` itself.

    Raises
    ------
    UnknownNameError
        For an unknown name (the message lists the valid ones).
    MissingDependencyError
        For a registered policy whose module is not installed.
    TypeError
        For options the policy does not take.
    """
    if not isinstance(policy, str):
        if options:
            raise ValueError("options are given to a policy built by name only")
        return policy
    kind, sep, path = policy.partition(":")
    if sep and kind in LEARNED_KINDS:  # a saved learned policy, loaded by mecopt.rl
        return _lazy("mecopt.rl.saved", "load_policy", kind, "learned policies")(
            path=path, algo=kind, **options
        )
    factory = POLICIES.get(policy)
    try:
        return factory(**options)
    except TypeError as exc:
        raise UnknownNameError(
            f"policy {policy!r}: bad option(s) {sorted(options)} ({exc})"
        ) from None
