"""Models exact for ``"other-cells"`` interference: one builder, with or without fixed counts.

- :mod:`.geometry`: received powers, interference ranges, breakpoints, interval costs;
- :mod:`.intervals`: the interval model over all counts (formulation ``"intervals"``);
- :mod:`.count_intervals`: the interval model of one fixed count vector (formulation
  ``"count-intervals"``), whose interference rows are per layer.

:func:`build` is the one entry point. Both models price every offload at the lower end of
its interference interval, so each optimum is a lower bound, exact once the solution's
interference sits at the lower ends; the solvers refine the breakpoints at the true
interference of the solutions they find.
"""

from __future__ import annotations

import numpy as np

from mecopt.formulations.interference import count_intervals, intervals
from mecopt.instance import Instance

__all__ = ["build", "count_intervals", "intervals"]


def build(inst: Instance, breaks: list[np.ndarray], counts: np.ndarray | None = None,
          ) -> intervals.IntervalModel | count_intervals.VectorModel:
    """The interference model of ``inst`` over the intervals ``breaks``.

    Parameters
    ----------
    inst
        The instance (read as ``"other-cells"``).
    breaks
        Per ES, interval lower ends (W). Without ``counts``: any values (0 is added, those
        at or above ``I^max_j`` are dropped). With ``counts``: the sorted interval ends of
        :func:`~mecopt.formulations.interference.count_intervals.grid`.
    counts
        (M,) a fixed count vector, or ``None`` for the model over all counts.

    Returns
    -------
    IntervalModel or VectorModel
        :class:`~mecopt.formulations.interference.intervals.IntervalModel` (a
        :class:`~mecopt.formulations.milp.MatrixMILP` every backend solves) without
        counts, :class:`~mecopt.formulations.interference.count_intervals.VectorModel` (a
        HiGHS matrix) with them.
    """
    if counts is None:
        return intervals.build_intervals(inst, breaks)
    return count_intervals.build(inst, counts, breaks)
