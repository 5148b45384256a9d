"""The full-horizon (hindsight) MILP of one trace member, in matrix form.

See the section "Hindsight (full-horizon) model" of ``README.md`` in this package and the
docstring of :mod:`mecopt.formulations.hindsight`. Variables, per trace member:

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
respect to the simulator.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from mecopt.longterm.traces import Trace

#: Objective and backlog unit: milliseconds (better scaled than seconds).
MS = 1e3
#: Energy rows in mJ and quality rows in thousandths of a query, so the solver's absolute
#: feasibility tolerance (1e-7) is far below the simulator's relative check (1e-9).
ROW_SCALE = 1e3

ROW_NAMES = ("one_count", "count", "link", "assign", "accuracy", "hallucination", "energy",
             "backlog", "split", "bucket")


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
        return (self.c[keep], a[rows], self.row_lo[rows], self.row_hi[rows],
                self.col_lo[keep], self.col_hi[keep], self.integer[keep], rows)

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
        hit = (self.x_es == want[self.x_cell]) & (self.x_n == counts[t[self.x_cell],
                                                                    self.x_es])
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


class _Rows:
    """Accumulates sparse rows as (row, col, value) triplets."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.kind: list[np.ndarray] = []
        self.n = 0

    def add(self, kind: str, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
            lo: np.ndarray, hi: np.ndarray) -> None:
        """Add ``len(lo)`` rows; ``rows`` index them from 0."""
        k = len(lo)
        self.r.append(np.asarray(rows) + self.n)
        self.c.append(np.asarray(cols))
        self.v.append(np.asarray(vals, dtype=float))
        self.lo.append(np.asarray(lo, dtype=float))
        self.hi.append(np.asarray(hi, dtype=float))
        self.kind.append(np.full(k, ROW_NAMES.index(kind)))
        self.n += k

    def matrix(self, n_cols: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
        cat = np.concatenate
        a = sp.csr_matrix((cat(self.v), (cat(self.r), cat(self.c))), shape=(self.n, n_cols))
        return a, cat(self.lo), cat(self.hi), cat(self.kind)


def offload_terms(trace: Trace, b: int, cell_t: np.ndarray, cell_u: np.ndarray,
                  es: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latency without the backlog wait (s) and energy (J) of offloading cells to ES ``es``
    at count ``n``: the simulator's upload and processing-sharing formulas."""
    snr = trace.tx_power[b, cell_u] * trace.gain[b, cell_t, cell_u, es] / trace.noise[b, es]
    se = np.log2(1.0 + snr)
    upload = trace.prompt_bits[b, cell_t, cell_u] * n / (trace.bandwidth[b, es] * se)
    cap = trace.capacity[b, es]
    share = np.minimum(np.minimum(trace.per_user_cap[b, es], cap), cap / n)
    proc = trace.edge_work[b, cell_t, cell_u] / share
    return upload + proc, trace.tx_power[b, cell_u] * upload


def backlog_wait_bound(trace: Trace, b: int, work: np.ndarray | None = None) -> np.ndarray:
    """(M, T) upper bound of the backlog wait ``Q_j(t) / C_j`` (ms).

    ``work`` (M, T) bounds the work (FLOP) ES j can receive in slot t; by default every
    query of the slot.
    """
    cap = trace.capacity[b]
    slot = trace.scenario.slot_s
    horizon, m = trace.horizon, trace.n_servers
    if work is None:
        work = np.broadcast_to(trace.edge_work[b].sum(axis=1), (m, horizon))
    out = np.zeros((m, horizon))
    for t in range(1, horizon):
        out[:, t] = np.maximum(out[:, t - 1] + MS * (work[:, t - 1] / cap - slot), 0.0)
    return out


def kept_work_bound(model: HindsightModel, trace: Trace, b: int,
                    keep: np.ndarray) -> np.ndarray:
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


def build(trace: Trace, b: int = 0, wbar: np.ndarray | None = None) -> HindsightModel:
    """The full-horizon MILP of trace member ``b``.

    ``wbar`` (M, T) overrides the backlog-wait bounds (ms); it must bound the backlog of
    every solution the model is meant to contain (see :func:`kept_work_bound`).
    """
    scen = trace.scenario
    hq = trace.has_query[b]
    horizon, n_dev = hq.shape
    m = trace.n_servers
    cell_t, cell_u = np.nonzero(hq)
    n_cells = cell_t.size
    qt = np.bincount(cell_t, minlength=horizon)

    # ---- x columns: (cell, j, n), n = 1..q_t.
    per_cell = qt[cell_t] * m
    x_cell = np.repeat(np.arange(n_cells), per_cell)
    start = (np.cumsum(per_cell) - per_cell).astype(np.int64)  # empty with no queries
    k = np.arange(x_cell.size) - np.repeat(start, per_cell)
    q_of = qt[cell_t][x_cell]
    x_es = k // q_of
    x_n = k % q_of + 1
    n_x = x_cell.size

    # ---- y columns: (t, j, n).
    y_index: list[np.ndarray] = []
    col = n_x
    for t in range(horizon):
        y_index.append(col + np.arange(m * qt[t]).reshape(m, qt[t]))
        col += m * qt[t]
    n_y = col - n_x
    # ---- w columns: (j, t), t >= 1.
    w_index = np.full((m, horizon), -1, dtype=np.int64)
    w_index[:, 1:] = col + np.arange(m * (horizon - 1)).reshape(m, horizon - 1)
    col += m * (horizon - 1)
    # ---- v columns: (j, t, n), n = 0..q_t, for t >= 1 with queries.
    v_index: list[np.ndarray | None] = [None]
    for t in range(1, horizon):
        if qt[t] == 0:
            v_index.append(None)
            continue
        v_index.append(col + np.arange(m * (qt[t] + 1)).reshape(m, qt[t] + 1))
        col += m * (qt[t] + 1)
    n_cols = col

    if wbar is None:
        wbar = backlog_wait_bound(trace, b)
    c = np.zeros(n_cols)
    col_lo = np.zeros(n_cols)
    col_hi = np.ones(n_cols)
    integer = np.zeros(n_cols, dtype=bool)
    integer[: n_x + n_y] = True

    t_x, u_x = cell_t[x_cell], cell_u[x_cell]
    lat, e_off = offload_terms(trace, b, t_x, u_x, x_es, x_n.astype(float))
    t_local = trace.local_delay[b, cell_t, cell_u]
    c[:n_x] = MS * (lat - t_local[x_cell])
    constant = MS * float(t_local.sum() + trace.device_wait[b, cell_t, cell_u].sum())

    rows = _Rows()
    # one count per (t, j): sum_n y <= 1
    yj = [y_index[t] for t in range(horizon) if qt[t] > 0]
    if yj:
        ycat = np.concatenate([yi.ravel() for yi in yj])
        rid = np.concatenate([np.repeat(np.arange(m), yi.shape[1]) for yi in yj])
        rid = rid + np.repeat(np.arange(len(yj)) * m, [yi.size for yi in yj])
        rows.add("one_count", rid, ycat, np.ones(ycat.size), np.full(m * len(yj), -np.inf),
                 np.ones(m * len(yj)))
    # count: sum_i x[i, j, n] - n y[j, t, n] = 0, row per y column
    y_of_x = np.empty(n_x, dtype=np.int64)
    for t in range(horizon):
        if qt[t] == 0:
            continue
        sel = t_x == t
        y_of_x[sel] = y_index[t][x_es[sel], x_n[sel] - 1]
    yrow = np.arange(n_y)
    y_n = np.empty(n_y)
    for t in range(horizon):
        if qt[t]:
            y_n[y_index[t] - n_x] = np.arange(1, qt[t] + 1)[None, :]
    rows.add("count", np.concatenate([y_of_x - n_x, yrow]),
             np.concatenate([np.arange(n_x), yrow + n_x]),
             np.concatenate([np.ones(n_x), -y_n]), np.zeros(n_y), np.zeros(n_y))
    # link: x - y <= 0
    xr = np.arange(n_x)
    rows.add("link", np.concatenate([xr, xr]), np.concatenate([xr, y_of_x]),
             np.concatenate([np.ones(n_x), -np.ones(n_x)]), np.full(n_x, -np.inf),
             np.zeros(n_x))
    # assign: sum_{j, n} x[i, j, n] <= 1
    rows.add("assign", x_cell, xr, np.ones(n_x), np.full(n_cells, -np.inf), np.ones(n_cells))
    # quality rows
    if scen.min_accuracy is not None and n_cells:
        acc_l = trace.acc_local[b, cell_t, cell_u]
        acc_e = trace.acc_edge[b, cell_t, cell_u]
        rhs = ROW_SCALE * (scen.min_accuracy * n_cells - acc_l.sum())
        rows.add("accuracy", np.zeros(n_x, dtype=np.int64), xr,
                 ROW_SCALE * (acc_e - acc_l)[x_cell], [rhs], [np.inf])
    if scen.max_hallucination is not None and n_cells:
        h_l = trace.hall_local[b, cell_t, cell_u]
        h_e = trace.hall_edge[b, cell_t, cell_u]
        rhs = ROW_SCALE * (scen.max_hallucination * n_cells - h_l.sum())
        rows.add("hallucination", np.zeros(n_x, dtype=np.int64), xr,
                 ROW_SCALE * (h_e - h_l)[x_cell], [-np.inf], [rhs])
    # energy per device: sum_t e <= T b_u
    e_loc = trace.local_energy[b, cell_t, cell_u]
    e_base = np.bincount(cell_u, weights=e_loc, minlength=n_dev)
    rhs = ROW_SCALE * (horizon * trace.energy_budget[b] - e_base)
    rows.add("energy", u_x, xr, ROW_SCALE * (e_off - e_loc[x_cell]), np.full(n_dev, -np.inf),
             rhs)
    # backlog: w[j, t+1] - w[j, t] - sum MS W/C x >= -MS Delta, t = 0..T-2
    if horizon > 1:
        cap = trace.capacity[b]
        work = trace.edge_work[b, t_x, u_x]
        sel = t_x < horizon - 1
        r_x = x_es[sel] * (horizon - 1) + t_x[sel]
        coef_x = -MS * work[sel] / cap[x_es[sel]]
        jj, tt = np.meshgrid(np.arange(m), np.arange(horizon - 1), indexing="ij")
        r_next = (jj * (horizon - 1) + tt).ravel()
        c_next = w_index[:, 1:].ravel()
        r_prev = (jj[:, 1:] * (horizon - 1) + tt[:, 1:]).ravel()
        c_prev = w_index[:, 1:-1].ravel()
        n_b = m * (horizon - 1)
        rows.add("backlog", np.concatenate([r_x, r_next, r_prev]),
                 np.concatenate([np.flatnonzero(sel), c_next, c_prev]),
                 np.concatenate([coef_x, np.ones(r_next.size), -np.ones(r_prev.size)]),
                 np.full(n_b, -MS * scen.slot_s), np.full(n_b, np.inf))
        col_hi[w_index[:, 1:].ravel()] = wbar[:, 1:].ravel()
    # split w[j, t] = sum_n v[j, t, n]; bucket v[j, t, n] <= wbar y (n >= 1),
    # v[j, t, 0] + wbar sum_n y <= wbar.
    s_r, s_c, s_v, b_r, b_c, b_v, b_hi = [], [], [], [], [], [], []
    n_split = n_bucket = 0
    for t in range(1, horizon):
        vi = v_index[t]
        if vi is None:
            continue
        for j in range(m):
            cols = vi[j]
            s_r.append(np.full(cols.size + 1, n_split))
            s_c.append(np.concatenate([[w_index[j, t]], cols]))
            s_v.append(np.concatenate([[1.0], -np.ones(cols.size)]))
            n_split += 1
            c[cols] = np.arange(cols.size, dtype=float)
            bar = wbar[j, t]
            col_hi[cols] = bar
            yc = y_index[t][j]
            # v[n] - bar y[n] <= 0 for n >= 1
            k_n = yc.size
            b_r.append(np.repeat(np.arange(k_n) + n_bucket, 2))
            b_c.append(np.column_stack([cols[1:], yc]).ravel())
            b_v.append(np.tile([1.0, -bar], k_n))
            b_hi.append(np.zeros(k_n))
            # v[0] + bar sum y <= bar
            b_r.append(np.full(k_n + 1, n_bucket + k_n))
            b_c.append(np.concatenate([[cols[0]], yc]))
            b_v.append(np.concatenate([[1.0], np.full(k_n, bar)]))
            b_hi.append([bar])
            n_bucket += k_n + 1
    if n_split:
        rows.add("split", np.concatenate(s_r), np.concatenate(s_c), np.concatenate(s_v),
                 np.zeros(n_split), np.zeros(n_split))
        hi = np.concatenate(b_hi)
        rows.add("bucket", np.concatenate(b_r), np.concatenate(b_c), np.concatenate(b_v),
                 np.full(hi.size, -np.inf), hi)
    a, row_lo, row_hi, kind = rows.matrix(n_cols)
    return HindsightModel(
        c=c, constant=constant, A=a, row_lo=row_lo, row_hi=row_hi, col_lo=col_lo,
        col_hi=col_hi, integer=integer, row_kind=kind, n_queries=int(n_cells), x_cell=x_cell,
        x_es=x_es, x_n=x_n, cell_t=cell_t, cell_u=cell_u, y_index=y_index, w_index=w_index,
        v_index=v_index, horizon=horizon, n_devices=n_dev, n_servers=m,
    )
