"""Shared helpers of the bench tests: tiny specs and test-only solvers."""

from __future__ import annotations

import os
import time

import numpy as np

from mecopt.bench import parse_spec
from mecopt.bench.spec import SweepSpec
from mecopt.instance import Instance
from mecopt.solve import SOLVERS, HeuristicSolver


def _sleep_forever(inst: Instance, rng: np.random.Generator) -> np.ndarray:
    time.sleep(3600)
    raise AssertionError("not reached")


def _die(inst: Instance, rng: np.random.Generator) -> np.ndarray:
    os._exit(3)


def _fail(inst: Instance, rng: np.random.Generator) -> np.ndarray:
    raise RuntimeError("this test solver always fails")


TEST_SOLVERS = {"test-sleep": _sleep_forever, "test-die": _die, "test-fail": _fail}


def register_test_solvers() -> None:
    """Register solvers that hang, crash the process, or raise (once per session)."""
    for name, policy in TEST_SOLVERS.items():
        if name not in SOLVERS.names():
            SOLVERS.register(name, HeuristicSolver(name, policy))


def tiny_spec(name: str = "tiny", solvers: list | None = None, sizes: list | None = None,
              seeds: int = 2, **options: object) -> SweepSpec:
    """A small sweep of kim2026 instances."""
    grid = {"scenario": "kim2026", "n_users": sizes or [8, 12], "seeds": {"count": seeds},
            "solvers": solvers or ["goa", "local-all", "min-delay",
                                   {"name": "highs", "time_limit": 30}],
            "options": {"tau": [0.6, 1.0], **options}}
    return parse_spec({"sweep": {"name": name, "threads": 1}, "grid": [grid]})
