"""mecopt: exact and heuristic offloading of LLM queries in mobile edge computing.

The public API:

- :class:`Instance` and :func:`scenario` build problems;
- :func:`evaluate` is the single source of truth for delay, accuracy and feasibility;
- :func:`solve` runs an exact backend or a heuristic and returns a :class:`SolveResult`;
- :func:`available_solvers` lists the solvers that can run here.
"""

from __future__ import annotations

__version__ = "0.1.0"

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
