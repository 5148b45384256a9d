"""Other-cells interference: received powers, ranges, breakpoints and interval costs.

With ``"other-cells"`` interference ES j hears every user offloaded to another ES,

    I_j = sum_k P_k g_kj (z_k - z_kj),   z_kj = [user k on ES j],  z_k = sum_j z_kj,

linear in the assignment, and every option cost grows with ``I_j``. The interference
models (:mod:`~mecopt.formulations.interference.intervals`,
:mod:`~mecopt.formulations.interference.count_intervals`), the interference bounds and the
refinement steps of the solvers share what is here.
"""

from __future__ import annotations

import numpy as np

from mecopt.channel import INTERFERENCE
from mecopt.formulations.milp import MS
from mecopt.formulations.option_cost import local_cost, option_cost
from mecopt.instance import Instance

#: A breakpoint for interference I is placed at ``I - BREAK_MARGIN (I + sigma^2)``.
BREAK_MARGIN = 1e-6
#: Focus interval ends (:func:`interval_ends`) lie within this factor of the focus level.
FOCUS_SPAN = 4.0


def received(inst: Instance) -> np.ndarray:
    """(N, M) received power ``P_k g_kj`` (W)."""
    return inst.tx_power[:, None] * inst.gain


def max_interference(inst: Instance) -> np.ndarray:
    """(M,) ``I^max_j``: every user's received power at ES j."""
    return received(inst).sum(axis=0)


def min_interference(inst: Instance) -> np.ndarray:
    """(M, N + 1): ``I_j^min(m)`` for m = 0..N (sum of the m smallest received powers)."""
    rx = np.sort(received(inst), axis=0)  # (N, M) ascending per ES
    return np.vstack([np.zeros((1, inst.n_servers)), np.cumsum(rx, axis=0)]).T


def true_interference(inst: Instance, assignment: np.ndarray) -> np.ndarray:
    """(M,) other-cells interference (W) of ``assignment`` (the evaluator's model)."""
    return INTERFERENCE.get("other-cells").interference(inst, np.asarray(assignment))


def interference_range(inst: Instance, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest other-cells interference (W) at each ES with these counts.

    Parameters
    ----------
    inst
        The instance.
    counts
        (M,) users on each ES.

    Returns
    -------
    lo, hi
        (M,) the sums of the ``T - n_j`` smallest and largest received powers at ES j
        (``T = sum(counts)``).
    """
    rx = np.sort(received(inst), axis=0)
    n_users = inst.n_users
    counts = np.asarray(counts, dtype=np.int64)
    m = int(counts.sum()) - counts
    lo = np.array([rx[:k, j].sum() for j, k in enumerate(m.tolist())])
    hi = np.array([rx[n_users - k:, j].sum() for j, k in enumerate(m.tolist())])
    return lo, hi


def breakpoint_for(inst: Instance, j: int, interference: float) -> float:
    """The breakpoint that puts ``interference`` at ES ``j`` just inside an interval."""
    return max(0.0, float(interference) - BREAK_MARGIN * (float(interference)
                                                          + float(inst.noise[j])))


def interval_costs(inst: Instance, j: int, lo: float, budget: bool = True) -> np.ndarray:
    """(N, L) cost (ms) of user i on ES ``j`` at count n = 1..L, interference ``lo``,
    relative to answering locally (:func:`~mecopt.formulations.option_cost.option_cost`);
    ``inf`` where impossible (``L = count_limit[j]``), and with ``budget``, where the
    uplink energy exceeds the user's budget."""
    top = int(inst.count_limit[j])
    users = np.arange(inst.n_users)[:, None]
    n = np.arange(1, top + 1)[None, :]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = option_cost(inst, users, j, n, lo, budget=budget)
        r = (out - local_cost(inst)[:, None]) * MS
    return np.where(np.isfinite(r), r, np.inf)


def interval_ends(
    inst: Instance,
    total: np.ndarray,
    focus: np.ndarray | None,
    intervals: int,
    focus_intervals: int,
) -> list[np.ndarray]:
    """Per ES, the sorted lower ends of the intervals (the first is 0): ``intervals``
    geometric ends over ``(0, R_j]`` and ``focus_intervals`` within a factor
    ``FOCUS_SPAN`` of ``focus[j]`` (any ends keep the bound a bound).

    Parameters
    ----------
    inst
        The instance.
    total
        (M,) ``R_j``, W.
    focus
        (M,) interference levels to grid finely, or ``None``.
    intervals, focus_intervals
        Numbers of ends.
    """
    out = []
    for j in range(inst.n_servers):
        if total[j] > 0:
            low = max(float(inst.noise[j]) * 1e-2, float(total[j]) * 1e-6)
            ends = np.concatenate([[0.0], np.geomspace(low, total[j], intervals)])
            if focus is not None and focus[j] > 0 and focus_intervals > 1:
                near = np.geomspace(focus[j] / FOCUS_SPAN, focus[j] * FOCUS_SPAN, focus_intervals)
                ends = np.concatenate([ends, near[near < total[j]]])
            out.append(np.unique(ends))
        else:
            out.append(np.zeros(1))
    return out
