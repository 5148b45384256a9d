"""Task kinds beyond the one-shot solve, as plug-ins loaded by name.

A grid of a sweep spec solves one-shot instances by default (``kind = "oneshot"``). Another
kind (``kind = "longterm"``: a policy scored on a long-term trace) is a plug-in object
living in a higher layer; it is imported only when a spec names it, so :mod:`mecopt.bench`
does not depend on it. A plug-in implements :class:`TaskKind`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from mecopt.errors import UnknownNameError

#: The built-in kind, run by :func:`mecopt.bench.execute.solve_task` itself.
ONESHOT = "oneshot"

#: Plug-in kinds: name -> ``"module:attribute"`` of the :class:`TaskKind` object.
TASK_KINDS: dict[str, str] = {
    "longterm": "mecopt.longterm.bench_kind:LONGTERM",
    "train": "mecopt.rl.bench_kind:TRAIN",
}


class TaskKind(Protocol):
    """What a sweep needs from a task kind."""

    name: str

    def check_scenario(self, scenario: str) -> None:
        """Raise for an unknown scenario name (listing the valid ones)."""
        ...

    def scenario_options(self, scenario: str) -> set[str]:
        """The option (override) names a grid may set for ``scenario``."""
        ...

    def check_solver(self, where: str, name: str, options: Mapping[str, Any]) -> None:
        """Raise for an unknown solver (policy) name or option."""
        ...

    def check_grid(self, where: str, *, scenario: str, overrides: Mapping[str, Any],
                   sizes: list[int], horizon: int | None, solvers: list[Any]) -> None:
        """Raise for a bad value of one scenario and option combination of a grid, too
        large a size, or a bad solver option (before any task runs; optional)."""
        ...

    def solver_version(self, name: str) -> str:
        """Version recorded with the rows of solver ``name``."""
        ...

    def prepare(self, tasks: Iterable[Any]) -> None:
        """Import and cache, in the parent process, what the tasks will need."""
        ...

    def run(self, task: Any) -> dict[str, Any]:
        """Run one task; return the result columns of its row."""
        ...


def kind_names() -> list[str]:
    """Every task kind a grid may name."""
    return [ONESHOT, *TASK_KINDS]


def task_kind(name: str) -> TaskKind:
    """The plug-in object of a non-built-in kind.

    Raises
    ------
    UnknownNameError
        For an unknown kind (the message lists the valid ones).
    """
    if name not in TASK_KINDS:
        raise UnknownNameError(f"unknown task kind {name!r}; valid: "
                               + ", ".join(repr(k) for k in kind_names()))
    module, _, attr = TASK_KINDS[name].partition(":")
    return getattr(importlib.import_module(module), attr)
