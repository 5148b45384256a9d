"""The full-horizon (hindsight) MILP of one trace member, in matrix form.

See the section "Hindsight (full-horizon) model" of ``README.md`` in this package and the
docstring of :mod:`mecopt.longterm.hindsight` (the solver and the policy). Variables, per
trace member:

- ``x[i, j, n]`` (binary): query cell i (slot t, device u) is offloaded to ES j, which
  holds exactly n queries in slot t (n = 1..q_t, q_t the queries of slot t);
- ``y[j, t, n]`` (binary): ES j holds exactly n queries in slot t;
- ``w[j, t]`` (continuous, ms): the backlog wait ``Q_j(t) / C_j`` at the start of slot t,
  t = 1..T-1 (``w[j, 0] = 0``);
- ``v[j, t, n]`` (continuous, ms), n = 0..q_t: the share of ``w[j, t]`` carried while ES j
  holds n queries (``v <= wbar y``), so the wait ``n w[j, t]`` every offloaded query pays
  is the linear ``sum_n n v[j, t, n]`` (the disaggregated, exact product of a count and a
  backlog).

Every latency, energy, accuracy and hallucination figure is taken from the trace with the
simulator's own formulas (:mod:`mecopt.longterm.simulator`), so the model is exact with
respect to the simulator. The model reads the trace's arrays only (:class:`TraceArrays`,
which :class:`mecopt.longterm.Trace` satisfies); this module does not import
:mod:`mecopt.longterm` (a higher layer).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from mecopt.formulations.hindsight_rows import (
    MS,
    ROW_NAMES,
    ROW_SCALE,
    RowBuffer,
    ScenarioLevels,
    TraceArrays,
    backlog_rows,
    column_layout,
    count_rows,
    longterm_rows,
    wait_rows,
)

__all__ = [
    "MS",
    "ROW_NAMES",
    "ROW_SCALE",
    "HindsightModel",
    "ScenarioLevels",
    "TraceArrays",
    "backlog_wait_bound",
    "build",
    "kept_work_bound",
    "offload_terms",
]


@dataclasses.dataclass(frozen=True, eq=False)
class HindsightModel:
    """The MILP ``min c x + constant``, ``row_lo <= A x <= row_hi``, ``lo <= x <= hi``.

    Attributes
    ----------
    c, constant, A, row_lo, row_hi, col_lo, col_hi, integer
        The matrix form; ``integer`` marks the binary columns. The objective is the total
        latency of the horizon in ms.
    row_kind
        (R,) index into :data:`ROW_NAMES`.
    n_queries
        Queries of the member (the mean latency is ``objective / MS / n_queries``).
    x_cell, x_es, x_n
        (K,) query cell (index into ``cell_t``/``cell_u``), ES and count of each x column
        (x columns come first).
    cell_t, cell_u
        (C,) slot and device of each query cell.
    y_start, w_start, v_start
        First column of the y, w and v blocks.
    y_index
        ``y_index[t]`` is the (M, q_t) array of y columns of slot t.
    w_index
        (M, T) column of ``w[j, t]`` (-1 for t = 0, fixed at 0).
    v_index
        ``v_index[t]`` is the (M, q_t + 1) array of v columns of slot t (None for t = 0).
    horizon, n_devices, n_servers
        T, U and M.
    """

    c: np.ndarray
    constant: float
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    row_kind: np.ndarray
    n_queries: int
    x_cell: np.ndarray
    x_es: np.ndarray
    x_n: np.ndarray
    cell_t: np.ndarray
    cell_u: np.ndarray
    y_index: list[np.ndarray]
    w_index: np.ndarray
    v_index: list[np.ndarray | None]
    horizon: int
    n_devices: int
    n_servers: int

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.A.shape[0])

    def column_count(self) -> np.ndarray:
        """(n_cols,) the count n of every x and y column, 0 for the continuous ones."""
        out = np.zeros(self.n_cols, dtype=np.int64)
        out[: self.x_n.size] = self.x_n
        for yi in self.y_index:
            out[yi] = np.arange(1, yi.shape[1] + 1)[None, :]
        return out

    def restrict(self, keep: np.ndarray) -> tuple[np.ndarray, ...]:
        """The model on the columns ``keep`` (the others fixed at 0), rows left empty
        dropped: ``(c, A, row_lo, row_hi, col_lo, col_hi, integer, rows)``."""
        keep = np.asarray(keep, dtype=bool) | ~self.integer
        a = self.A[:, keep].tocsr()
        rows = np.flatnonzero(np.diff(a.indptr) > 0)
        empty = np.setdiff1d(np.arange(self.n_rows), rows)
        if np.any(self.row_lo[empty] > 0) or np.any(self.row_hi[empty] < 0):
            rows = np.arange(self.n_rows)  # an empty row that fails at 0: keep it visible
        return (
            self.c[keep],
            a[rows],
            self.row_lo[rows],
            self.row_hi[rows],
            self.col_lo[keep],
            self.col_hi[keep],
            self.integer[keep],
            rows,
        )

    def decode(self, sol: np.ndarray) -> np.ndarray:
        """(T, U) actions of a solution vector (0 local, j + 1 ES j, -1 without query)."""
        actions = np.full((self.horizon, self.n_devices), -1, dtype=np.int64)
        actions[self.cell_t, self.cell_u] = 0
        on = np.flatnonzero(sol[: self.x_cell.size] > 0.5)
        cell = self.x_cell[on]
        actions[self.cell_t[cell], self.cell_u[cell]] = self.x_es[on] + 1
        return actions

    def encode(self, actions: np.ndarray, backlog_wait_ms: np.ndarray) -> np.ndarray:
        """The solution vector of (T, U) actions, with the backlog waits (M, T) in ms.

        ``v`` carries the whole wait in the bucket of the realised count, so the vector's
        objective is the simulator's total latency of the actions.
        """
        sol = np.zeros(self.n_cols)
        t, u = self.cell_t, self.cell_u
        a = np.asarray(actions)[t, u]
        m = self.n_servers
        counts = np.zeros((self.horizon, m), dtype=np.int64)
        off = a > 0
        np.add.at(counts, (t[off], a[off] - 1), 1)
        # x: the column of (cell, j, n = count of j in its slot).
        want = np.full(t.size, -1)
        want[off] = a[off] - 1
        hit = (self.x_es == want[self.x_cell]) & (self.x_n == counts[t[self.x_cell], self.x_es])
        sol[np.flatnonzero(hit)] = 1.0
        for tt in range(self.horizon):
            yi = self.y_index[tt]
            for j in range(m):
                n = counts[tt, j]
                if n > 0:
                    sol[yi[j, n - 1]] = 1.0
                if tt > 0:
                    sol[self.w_index[j, tt]] = backlog_wait_ms[j, tt]
                    vi = self.v_index[tt]
                    if vi is not None:
                        sol[vi[j, n]] = backlog_wait_ms[j, tt]
        return sol


def offload_terms(
    trace: TraceArrays,
    b: int,
    cell_t: np.ndarray,
    cell_u: np.ndarray,
    es: np.ndarray,
    n: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Latency without the backlog wait (s) and energy (J) of offloading cells to ES ``es``
    at count ``n``: the simulator's upload and processing-sharing formulas."""
    snr = trace.tx_power[b, cell_u] * trace.gain[b, cell_t, cell_u, es] / trace.noise[b, es]
    se = np.log2(1.0 + snr)
    upload = trace.prompt_bits[b, cell_t, cell_u] * n / (trace.bandwidth[b, es] * se)
    cap = trace.capacity[b, es]
    share = np.minimum(np.minimum(trace.per_user_cap[b, es], cap), cap / n)
    proc = trace.edge_work[b, cell_t, cell_u] / share
    return upload + proc, trace.tx_power[b, cell_u] * upload


def backlog_wait_bound(trace: TraceArrays, b: int, work: np.ndarray | None = None) -> np.ndarray:
    """(M, T) upper bound of the backlog wait ``Q_j(t) / C_j`` (ms).

    ``work`` (M, T) bounds the work (FLOP) ES j can receive in slot t; by default every
    query of the slot.
    """
    cap = trace.capacity[b]
    slot = trace.scenario.slot_s
    horizon, m = trace.has_query.shape[1], trace.capacity.shape[1]
    if work is None:
        work = np.broadcast_to(trace.edge_work[b].sum(axis=1), (m, horizon))
    out = np.zeros((m, horizon))
    for t in range(1, horizon):
        out[:, t] = np.maximum(out[:, t - 1] + MS * (work[:, t - 1] / cap - slot), 0.0)
    return out


def kept_work_bound(
    model: HindsightModel, trace: TraceArrays, b: int, keep: np.ndarray
) -> np.ndarray:
    """(M, T) most work (FLOP) ES j can receive in slot t using only the ``keep`` columns:
    the largest kept count's worth of the heaviest queries that have a kept column there."""
    m, horizon = model.n_servers, model.horizon
    out = np.zeros((m, horizon))
    nx = model.x_cell.size
    kx = np.flatnonzero(keep[:nx])
    work = trace.edge_work[b, model.cell_t, model.cell_u]
    t_of = model.cell_t[model.x_cell[kx]]
    for j in range(m):
        on = model.x_es[kx] == j
        for t in np.unique(t_of[on]):
            sel = kx[on & (t_of == t)]
            cells = np.unique(model.x_cell[sel])
            n_max = int(model.x_n[sel].max())
            out[j, t] = np.sort(work[cells])[::-1][:n_max].sum()
    return out


def build(trace: TraceArrays, b: int = 0, wbar: np.ndarray | None = None) -> HindsightModel:
    """The full-horizon MILP of trace member ``b``.

    ``wbar`` (M, T) overrides the backlog-wait bounds (ms); it must bound the backlog of
    every solution the model is meant to contain (see :func:`kept_work_bound`).
    """
    hq = trace.has_query[b]
    horizon, n_dev = hq.shape
    m = trace.capacity.shape[1]
    lay = column_layout(hq, m)
    n_x, n_cols = lay.n_x, lay.n_cols
    cell_t, cell_u = lay.cell_t, lay.cell_u
    if wbar is None:
        wbar = backlog_wait_bound(trace, b)
    c = np.zeros(n_cols)
    col_lo = np.zeros(n_cols)
    col_hi = np.ones(n_cols)
    integer = np.zeros(n_cols, dtype=bool)
    integer[: n_x + sum(yi.size for yi in lay.y_index)] = True

    t_x, u_x = cell_t[lay.x_cell], cell_u[lay.x_cell]
    lat, e_off = offload_terms(trace, b, t_x, u_x, lay.x_es, lay.x_n.astype(float))
    t_local = trace.local_delay[b, cell_t, cell_u]
    c[:n_x] = MS * (lat - t_local[lay.x_cell])
    constant = MS * float(t_local.sum() + trace.device_wait[b, cell_t, cell_u].sum())

    rows = RowBuffer()
    count_rows(rows, lay, m)
    longterm_rows(rows, lay, trace, b, e_off)
    backlog_rows(rows, lay, trace, b, col_hi, wbar)
    wait_rows(rows, lay, c, col_hi, wbar)
    a, row_lo, row_hi, kind = rows.matrix(n_cols)
    return HindsightModel(
        c=c,
        constant=constant,
        A=a,
        row_lo=row_lo,
        row_hi=row_hi,
        col_lo=col_lo,
        col_hi=col_hi,
        integer=integer,
        row_kind=kind,
        n_queries=int(cell_t.size),
        x_cell=lay.x_cell,
        x_es=lay.x_es,
        x_n=lay.x_n,
        cell_t=cell_t,
        cell_u=cell_u,
        y_index=lay.y_index,
        w_index=lay.w_index,
        v_index=lay.v_index,
        horizon=horizon,
        n_devices=n_dev,
        n_servers=m,
    )
