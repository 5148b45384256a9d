"""mecopt: exact and heuristic offloading of LLM queries in mobile edge computing.

The public API:

- :class:`Instance` and :func:`scenario` build problems;
- :func:`evaluate` is the single source of truth for delay, accuracy and feasibility;
- :func:`solve` runs an exact backend or a heuristic and returns a :class:`SolveResult`;
- :func:`available_solvers` lists the solvers that can run here.
"""

from __future__ import annotations

from mecopt._version import __version__
from mecopt.errors import MecoptError, MissingDependencyError, UnknownNameError
from mecopt.evaluate import Metrics, evaluate
from mecopt.instance import Instance
from mecopt.result import SolveResult
from mecopt.scenarios import available_scenarios, scenario
from mecopt.solve import available_solvers, solve

__all__ = [
    "Instance",
    "MecoptError",
    "Metrics",
    "SolveResult",
    "MissingDependencyError",
    "UnknownNameError",
    "__version__",
    "available_scenarios",
    "available_solvers",
    "evaluate",
    "scenario",
    "solve",
]


def _register_gym_env() -> None:
    """Register ``mecopt/Offload-v0`` with gymnasium when the ``rl`` extra is installed, so
    ``gymnasium.make("mecopt/Offload-v0")`` works after ``import mecopt`` (the environment
    module itself is imported only by ``make``)."""
    import importlib.util

    if importlib.util.find_spec("gymnasium") is None:
        return
    try:
        import gymnasium
    except ImportError:  # a broken optional install must not break mecopt
        return
    if "mecopt/Offload-v0" not in gymnasium.registry:
        gymnasium.register(id="mecopt/Offload-v0", entry_point="mecopt.rl.env:OffloadEnv")


_register_gym_env()
