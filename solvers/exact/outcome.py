"""The one record every method of the exact driver returns, and the one unit conversion.

Methods work in their models' units (total cost in ms, the MILP's objective) or in the
result's (mean cost per user in s); :class:`Units` converts between them, nowhere else.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from mecopt.formulations.milp import MS
from mecopt.instance import Instance


@dataclasses.dataclass
class Outcome:
    """What one method found.

    Attributes
    ----------
    assignments
        Named assignments (the driver scores every one with the evaluator).
    bounds
        Proven lower bounds by source (mean objective per user, s).
    infeasible
        The reason when the method proved the instance infeasible, else ``None``.
    info
        Figures to record in :attr:`mecopt.SolveResult.info` (method-specific).
    message
        Set when the method ends the solve: what the result's message says.
    started
        False when the method did not start (out of its reach): nothing else is set.
    complete
        The method finished its search: its bound holds for the whole instance.
    """

    assignments: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    bounds: dict[str, float] = dataclasses.field(default_factory=dict)
    infeasible: str | None = None
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    message: str | None = None
    started: bool = True
    complete: bool = False

    @property
    def bound(self) -> float:
        """The best of :attr:`bounds` (``-inf`` when there is none)."""
        return max(self.bounds.values(), default=-np.inf)

    @property
    def done(self) -> bool:
        """True when the solve ends with this outcome."""
        return self.message is not None or self.infeasible is not None


@dataclasses.dataclass(frozen=True)
class Units:
    """Total cost in ms (the models' objective) and mean cost per user in s."""

    n_users: int

    @classmethod
    def of(cls, inst: Instance) -> Units:
        """The units of ``inst``."""
        return cls(inst.n_users)

    @property
    def scale(self) -> float:
        """Total ms per mean s."""
        return MS * self.n_users

    def mean(self, total: float | None) -> float | None:
        """Total ms to mean s (``None`` stays ``None``)."""
        return None if total is None else total / self.scale

    def total(self, mean: float | None) -> float | None:
        """Mean s to total ms (``None`` stays ``None``)."""
        return None if mean is None else mean * self.scale
