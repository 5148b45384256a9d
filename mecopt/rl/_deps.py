"""The one guarded import of the ``rl`` extra."""

from __future__ import annotations

import importlib.util

from mecopt.errors import MissingDependencyError

#: Modules of the ``rl`` extra (import name -> distribution).
RL_MODULES = {"gymnasium": "gymnasium", "stable_baselines3": "stable-baselines3",
              "sb3_contrib": "sb3-contrib", "torch": "torch"}


def require_rl() -> None:
    """Raise :class:`~mecopt.errors.MissingDependencyError` unless the ``rl`` extra is here.

    Raises
    ------
    MissingDependencyError
        One line naming the extra and the missing package.
    """
    for module, dist in RL_MODULES.items():
        if importlib.util.find_spec(module) is None:
            raise MissingDependencyError(
                f"learned policies need the 'rl' extra ({dist} is missing): "
                "pip install 'mecopt[rl]'"
            )
