"""The generic big-M MILP: the textbook model, kept as the reference the others are timed against.

What a user would write first, with no problem structure used:

- ``x_ij`` binary: user i offloads to ES j (``sum_j x_ij <= 1``, ``= 1`` for a user that
  may not stay local); the user stays local otherwise;
- ``y_jn`` binary, n = 0..n_max(j): ES j serves exactly n users
  (``sum_n y_jn = 1``, ``sum_n n y_jn = sum_i x_ij``);
- ``d_i >= 0`` continuous: user i's cost, with
  ``d_i >= c_ijn - BigM_i (2 - x_ij - y_jn)`` for every ES j and count n, and
  ``d_i >= c_i^L (1 - sum_j x_ij)`` for staying local;
- objective ``sum_i d_i`` (reported as the mean); ``d_i`` is measured from the user's
  cheapest option, so that ``d_i >= 0`` holds with weighted (possibly negative) costs.

``c_ijn`` is :func:`~mecopt.formulations.option_cost.cost_table` (the delay, or the weighted
cost when the instance sets weights), ``c_i^L`` the local cost and ``BigM_i`` the largest finite
``c_ijn`` of user i (valid since ``d_i >= 0``). A pair (j, n) where user i cannot be served
(load beyond the ES's capacity or the energy budget) gets ``x_ij + y_jn <= 1`` instead; the
accuracy and hallucination targets are the same single rows as in the count-indexed model.
The model is interference-free; instances with interference are refused.

Its relaxation is weak (``d_i`` can be 0 as soon as ``x`` and ``y`` are fractional), which is
what the count-indexed and decomposition models avoid; ``benchmarks/exact_scale/`` measures the
difference side by side.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mecopt.errors import MecoptError
from mecopt.formulations.milp import (
    MS,
    ROW_ACCURACY,
    ROW_ASSIGN,
    ROW_COUNT,
    ROW_HALLUCINATION,
    ROW_ONE_COUNT,
    MatrixMILP,
    RowBlocks,
)
from mecopt.formulations.option_cost import cost_table, local_cost, must_offload
from mecopt.instance import Instance

#: Row families of the big-M model besides the count-indexed ones it shares.
ROW_BIG_M, ROW_LOCAL, ROW_FORBID = 10, 11, 12


@dataclasses.dataclass(frozen=True, eq=False)
class BigMModel:
    """The big-M MILP of an instance and the maps between it and assignments.

    Attributes
    ----------
    instance
        The instance it models.
    milp
        The matrix form: ``x`` (N x M, row-major), then ``y`` (M x (n_max + 1)), then ``d``.
    n_max
        Largest count per ES.
    floor
        (N,) each user's cheapest cost (ms); ``d_i`` is measured from it.
    infeasible_reason
        Non-empty when a forced user can reach no ES at any count.
    """

    instance: Instance
    milp: MatrixMILP
    n_max: int
    floor: np.ndarray
    infeasible_reason: str = ""

    @property
    def n_x(self) -> int:
        """Number of ``x`` columns."""
        return self.instance.n_users * self.instance.n_servers

    def to_mean_delay(self, objective: float) -> float:
        """Convert a MILP objective value (total ms) to the mean objective (s)."""
        return objective / (MS * self.instance.n_users)

    def decode(self, x: np.ndarray) -> np.ndarray:
        """Assignment (-1 local, j >= 0 ES) from a solution vector."""
        n, m = self.instance.n_users, self.instance.n_servers
        on = np.asarray(x[: self.n_x]).reshape(n, m) > 0.5
        return np.where(on.any(axis=1), on.argmax(axis=1), -1).astype(np.int64)

    def encode(self, assignment: np.ndarray) -> np.ndarray | None:
        """Solution vector of an assignment (``d`` at its cost), or ``None`` if not feasible."""
        inst = self.instance
        n, m = inst.n_users, inst.n_servers
        a = np.asarray(assignment)
        counts = np.bincount(a[a >= 0], minlength=m)
        if np.any(counts > self.n_max):
            return None
        x = np.zeros((n, m))
        off = np.flatnonzero(a >= 0)
        x[off, a[off]] = 1.0
        y = np.zeros((m, self.n_max + 1))
        y[np.arange(m), counts] = 1.0
        d = local_cost(inst) * MS
        if off.size:
            table = cost_table(inst, max(self.n_max, 1))
            d[off] = table[off, a[off], counts[a[off]] - 1] * MS
        if not np.all(np.isfinite(d)):
            return None
        return np.concatenate([x.ravel(), y.ravel(), d - self.floor])


def build(inst: Instance) -> BigMModel:
    """Build the big-M MILP of ``inst`` (see the module docstring).

    Raises
    ------
    MecoptError
        For an instance with interference (the model has no interference terms).
    """
    if inst.interference != "none":
        raise MecoptError(f"formulation 'big-m': interference = {inst.interference!r} is not "
                          "modelled; use formulation 'auto'")
    n, m = inst.n_users, inst.n_servers
    limit = np.minimum(inst.count_limit, n).astype(np.int64)
    n_max = int(limit.max(initial=0))
    table = cost_table(inst, max(n_max, 1))[:, :, :n_max] * MS  # (N, M, n_max), ms
    home = local_cost(inst) * MS
    finite = np.isfinite(table) & (np.arange(1, n_max + 1)[None, None, :] <= limit[None, :, None])
    n_y = m * (n_max + 1)
    ix = np.arange(n * m).reshape(n, m)
    iy = n * m + np.arange(n_y).reshape(m, n_max + 1)
    idd = n * m + n_y + np.arange(n)
    n_cols = n * m + n_y + n

    # d_i is measured from the user's cheapest option f_i (weighted costs may be negative),
    # so d_i >= 0 and BigM_i = max finite c_ijn - f_i is valid.
    floor = np.minimum(home, np.where(finite, table, np.inf).min(axis=(1, 2), initial=np.inf))
    floor = np.where(np.isfinite(floor), floor, 0.0)
    table = table - floor[:, None, None]
    home = home - floor
    big = np.where(finite, table, -np.inf).max(axis=(1, 2), initial=0.0)  # BigM_i, ms
    blocks = RowBlocks()

    def add(n_new: int, r: np.ndarray, cc: np.ndarray, v: np.ndarray, rlo: np.ndarray | float,
            rhi: np.ndarray | float, k: int) -> None:
        blocks.add(r, cc, v, rlo, rhi, k, n_new=n_new)

    counts = np.arange(n_max + 1, dtype=float)
    # One count per ES: sum_n y_jn = 1.
    add(m, np.repeat(np.arange(m), n_max + 1), iy.ravel(), np.ones(n_y), 1.0, 1.0, ROW_ONE_COUNT)
    # Count: sum_n n y_jn - sum_i x_ij = 0.
    add(m, np.concatenate([np.repeat(np.arange(m), n_max + 1), np.tile(np.arange(m), n)]),
        np.concatenate([iy.ravel(), ix.ravel()]),
        np.concatenate([np.tile(counts, m), -np.ones(n * m)]), 0.0, 0.0, ROW_COUNT)
    # Assignment: sum_j x_ij <= 1 (= 1 for users that may not stay local).
    forced = must_offload(inst)
    add(n, np.repeat(np.arange(n), m), ix.ravel(), np.ones(n * m),
        np.where(forced, 1.0, -np.inf), 1.0, ROW_ASSIGN)
    # Big-M rows: d_i - BigM_i x_ij - BigM_i y_jn >= c_ijn - 2 BigM_i, for finite c_ijn.
    fi, fj, fn0 = np.nonzero(finite)
    k = fi.size
    add(k, np.repeat(np.arange(k), 3),
        np.column_stack([idd[fi], ix[fi, fj], iy[fj, fn0 + 1]]).ravel(),
        np.column_stack([np.ones(k), -big[fi], -big[fi]]).ravel(),
        table[fi, fj, fn0] - 2.0 * big[fi], np.inf, ROW_BIG_M)
    # Pairs (j, n) that cannot serve user i: x_ij + y_jn <= 1.
    bi, bj, bn0 = np.nonzero(~finite & (np.arange(1, n_max + 1)[None, None, :]
                                        <= limit[None, :, None]))
    k = bi.size
    add(k, np.repeat(np.arange(k), 2), np.column_stack([ix[bi, bj], iy[bj, bn0 + 1]]).ravel(),
        np.ones(2 * k), -np.inf, 1.0, ROW_FORBID)
    # Local: d_i + c_i^L sum_j x_ij >= c_i^L (only where staying local is allowed).
    stay = np.flatnonzero(~forced)
    add(stay.size, np.concatenate([np.arange(stay.size), np.repeat(np.arange(stay.size), m)]),
        np.concatenate([idd[stay], ix[stay].ravel()]),
        np.concatenate([np.ones(stay.size), np.repeat(home[stay], m)]), home[stay], np.inf,
        ROW_LOCAL)
    if inst.min_accuracy is not None:
        gain = np.repeat(inst.acc_edge - inst.acc_local, m)
        add(1, np.zeros(n * m, dtype=np.int64), ix.ravel(), gain,
            n * inst.min_accuracy - float(inst.acc_local.sum()), np.inf, ROW_ACCURACY)
    if inst.max_hallucination is not None:
        change = np.repeat(inst.hall_edge - inst.hall_local, m)
        add(1, np.zeros(n * m, dtype=np.int64), ix.ravel(), change, -np.inf,
            n * inst.max_hallucination - float(inst.hall_local.sum()), ROW_HALLUCINATION)

    col_hi = np.ones(n_cols)
    col_hi[idd] = np.inf
    # x_ij is 0 where ES j can serve user i at no count; y_jn is 0 above the ES's limit.
    col_hi[ix.ravel()] = finite.any(axis=2).ravel().astype(float)
    col_hi[iy[:, 1:].ravel()] = (counts[None, 1:] <= limit[:, None]).ravel().astype(float)
    continuous = np.zeros(n_cols, dtype=bool)
    continuous[idd] = True
    c = np.zeros(n_cols)
    c[idd] = 1.0
    milp = blocks.milp(c, float(floor.sum()), col_hi=col_hi, continuous=continuous)
    stranded = np.flatnonzero(forced & ~finite.any(axis=(1, 2)))
    reason = (f"user {stranded[0]} must be offloaded but no ES can serve it"
              if stranded.size else "")
    return BigMModel(instance=inst, milp=milp, n_max=n_max, floor=floor,
                     infeasible_reason=reason)
