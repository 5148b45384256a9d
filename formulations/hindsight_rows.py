"""Column layout and row blocks of the hindsight MILP (:mod:`mecopt.formulations.hindsight_model`).

Units, row names and the arrays of a trace the model reads (:class:`TraceArrays`, which
:class:`mecopt.longterm.Trace` satisfies; no import of :mod:`mecopt.longterm`, a higher layer).
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import numpy as np
import scipy.sparse as sp

#: Objective and backlog unit: milliseconds (better scaled than seconds).
MS = 1e3
#: Energy rows in mJ and quality rows in thousandths of a query, so the solver's absolute
#: feasibility tolerance (1e-7) is far below the simulator's relative check (1e-9).
ROW_SCALE = 1e3

ROW_NAMES = (
    "one_count",
    "count",
    "link",
    "assign",
    "accuracy",
    "hallucination",
    "energy",
    "backlog",
    "split",
    "bucket",
)


class ScenarioLevels(Protocol):
    """The scenario figures the model reads: slot length (s) and the long-term levels."""

    slot_s: float
    min_accuracy: float | None
    max_hallucination: float | None


class TraceArrays(Protocol):
    """What the model reads of a trace (:class:`mecopt.longterm.Trace` has all of it).

    Arrays are batched: ``(B, T, U)`` per query cell, ``(B, T, U, M)`` gains, ``(B, U)`` per
    device, ``(B, M)`` per ES (see :mod:`mecopt.longterm.traces`).
    """

    scenario: ScenarioLevels
    has_query: np.ndarray
    local_delay: np.ndarray
    local_energy: np.ndarray
    device_wait: np.ndarray
    acc_local: np.ndarray
    acc_edge: np.ndarray
    hall_local: np.ndarray
    hall_edge: np.ndarray
    prompt_bits: np.ndarray
    edge_work: np.ndarray
    gain: np.ndarray
    tx_power: np.ndarray
    energy_budget: np.ndarray
    capacity: np.ndarray
    per_user_cap: np.ndarray
    bandwidth: np.ndarray
    noise: np.ndarray


class RowBuffer:
    """Accumulates sparse rows as (row, col, value) triplets."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.kind: list[np.ndarray] = []
        self.n = 0

    def add(
        self,
        kind: str,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
    ) -> None:
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


@dataclasses.dataclass
class Layout:
    """Column layout of one member's model (see :class:`HindsightModel`)."""

    qt: np.ndarray
    cell_t: np.ndarray
    cell_u: np.ndarray
    x_cell: np.ndarray
    x_es: np.ndarray
    x_n: np.ndarray
    y_index: list[np.ndarray]
    w_index: np.ndarray
    v_index: list[np.ndarray | None]
    n_cols: int

    @property
    def n_x(self) -> int:
        return int(self.x_cell.size)


def column_layout(hq: np.ndarray, m: int) -> Layout:
    """The x, y, w and v columns of a (T, U) query mask and M ESs."""
    horizon = hq.shape[0]
    cell_t, cell_u = np.nonzero(hq)
    qt = np.bincount(cell_t, minlength=horizon)
    # x columns: (cell, j, n), n = 1..q_t.
    per_cell = qt[cell_t] * m
    x_cell = np.repeat(np.arange(cell_t.size), per_cell)
    start = (np.cumsum(per_cell) - per_cell).astype(np.int64)  # empty with no queries
    k = np.arange(x_cell.size) - np.repeat(start, per_cell)
    q_of = qt[cell_t][x_cell]
    col = x_cell.size
    # y columns: (t, j, n).
    y_index: list[np.ndarray] = []
    for t in range(horizon):
        y_index.append(col + np.arange(m * qt[t]).reshape(m, qt[t]))
        col += m * qt[t]
    # w columns: (j, t), t >= 1.
    w_index = np.full((m, horizon), -1, dtype=np.int64)
    w_index[:, 1:] = col + np.arange(m * (horizon - 1)).reshape(m, horizon - 1)
    col += m * (horizon - 1)
    # v columns: (j, t, n), n = 0..q_t, for t >= 1 with queries.
    v_index: list[np.ndarray | None] = [None]
    for t in range(1, horizon):
        if qt[t] == 0:
            v_index.append(None)
            continue
        v_index.append(col + np.arange(m * (qt[t] + 1)).reshape(m, qt[t] + 1))
        col += m * (qt[t] + 1)
    return Layout(
        qt=qt,
        cell_t=cell_t,
        cell_u=cell_u,
        x_cell=x_cell,
        x_es=k // q_of,
        x_n=k % q_of + 1,
        y_index=y_index,
        w_index=w_index,
        v_index=v_index,
        n_cols=int(col),
    )


def count_rows(rows: RowBuffer, lay: Layout, m: int) -> np.ndarray:
    """One count per (t, j), the count rows and the link rows; returns the y column of
    every x column."""
    qt, n_x, y_index = lay.qt, lay.n_x, lay.y_index
    yj = [y_index[t] for t in range(qt.size) if qt[t] > 0]
    if yj:  # sum_n y <= 1
        ycat = np.concatenate([yi.ravel() for yi in yj])
        rid = np.concatenate([np.repeat(np.arange(m), yi.shape[1]) for yi in yj])
        rid = rid + np.repeat(np.arange(len(yj)) * m, [yi.size for yi in yj])
        rows.add(
            "one_count",
            rid,
            ycat,
            np.ones(ycat.size),
            np.full(m * len(yj), -np.inf),
            np.ones(m * len(yj)),
        )
    # count: sum_i x[i, j, n] - n y[j, t, n] = 0, row per y column
    t_x = lay.cell_t[lay.x_cell]
    y_of_x = np.empty(n_x, dtype=np.int64)
    n_y = sum(yi.size for yi in y_index)
    y_n = np.empty(n_y)
    for t in np.flatnonzero(qt):
        sel = t_x == t
        y_of_x[sel] = y_index[t][lay.x_es[sel], lay.x_n[sel] - 1]
        y_n[y_index[t] - n_x] = np.arange(1, qt[t] + 1)[None, :]
    yrow = np.arange(n_y)
    rows.add(
        "count",
        np.concatenate([y_of_x - n_x, yrow]),
        np.concatenate([np.arange(n_x), yrow + n_x]),
        np.concatenate([np.ones(n_x), -y_n]),
        np.zeros(n_y),
        np.zeros(n_y),
    )
    # link: x - y <= 0
    xr = np.arange(n_x)
    rows.add(
        "link",
        np.concatenate([xr, xr]),
        np.concatenate([xr, y_of_x]),
        np.concatenate([np.ones(n_x), -np.ones(n_x)]),
        np.full(n_x, -np.inf),
        np.zeros(n_x),
    )
    return y_of_x


def longterm_rows(
    rows: RowBuffer, lay: Layout, trace: TraceArrays, b: int, e_off: np.ndarray
) -> None:
    """Assignment, accuracy, hallucination and per-device energy rows."""
    scen = trace.scenario
    cell_t, cell_u, x_cell = lay.cell_t, lay.cell_u, lay.x_cell
    n_cells, n_x = cell_t.size, lay.n_x
    xr = np.arange(n_x)
    rows.add("assign", x_cell, xr, np.ones(n_x), np.full(n_cells, -np.inf), np.ones(n_cells))
    # mean accuracy >= A_min (a lower row), mean hallucination <= H_max (an upper row)
    quality = (
        ("accuracy", scen.min_accuracy, trace.acc_local, trace.acc_edge, 1.0),
        ("hallucination", scen.max_hallucination, trace.hall_local, trace.hall_edge, -1.0),
    )
    for kind, level, local, edge, sign in quality:
        if level is None or not n_cells:
            continue
        q_l, q_e = local[b, cell_t, cell_u], edge[b, cell_t, cell_u]
        rhs = ROW_SCALE * (level * n_cells - q_l.sum())
        lo, hi = ([rhs], [np.inf]) if sign > 0 else ([-np.inf], [rhs])
        rows.add(kind, np.zeros(n_x, dtype=np.int64), xr, ROW_SCALE * (q_e - q_l)[x_cell], lo, hi)
    # energy per device: sum_t e <= T b_u
    n_dev = trace.has_query.shape[2]
    e_loc = trace.local_energy[b, cell_t, cell_u]
    e_base = np.bincount(cell_u, weights=e_loc, minlength=n_dev)
    rhs = ROW_SCALE * (trace.has_query.shape[1] * trace.energy_budget[b] - e_base)
    rows.add(
        "energy",
        cell_u[x_cell],
        xr,
        ROW_SCALE * (e_off - e_loc[x_cell]),
        np.full(n_dev, -np.inf),
        rhs,
    )


def backlog_rows(
    rows: RowBuffer, lay: Layout, trace: TraceArrays, b: int, col_hi: np.ndarray, wbar: np.ndarray
) -> None:
    """w[j, t+1] - w[j, t] - sum MS W/C x >= -MS Delta, t = 0..T-2, and w <= wbar."""
    horizon, m = trace.has_query.shape[1], trace.capacity.shape[1]
    if horizon <= 1:
        return
    t_x, u_x, x_es, w_index = lay.cell_t[lay.x_cell], lay.cell_u[lay.x_cell], lay.x_es, lay.w_index
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
    rows.add(
        "backlog",
        np.concatenate([r_x, r_next, r_prev]),
        np.concatenate([np.flatnonzero(sel), c_next, c_prev]),
        np.concatenate([coef_x, np.ones(r_next.size), -np.ones(r_prev.size)]),
        np.full(n_b, -MS * trace.scenario.slot_s),
        np.full(n_b, np.inf),
    )
    col_hi[w_index[:, 1:].ravel()] = wbar[:, 1:].ravel()


def wait_rows(
    rows: RowBuffer, lay: Layout, c: np.ndarray, col_hi: np.ndarray, wbar: np.ndarray
) -> None:
    """Split w[j, t] = sum_n v[j, t, n]; bucket v[j, t, n] <= wbar y (n >= 1) and
    v[j, t, 0] + wbar sum_n y <= wbar; the objective's n v terms."""
    s_r, s_c, s_v, b_r, b_c, b_v, b_hi = [], [], [], [], [], [], []
    n_split = n_bucket = 0
    for t, vi in enumerate(lay.v_index):
        if vi is None:
            continue
        for j in range(vi.shape[0]):
            cols = vi[j]
            s_r.append(np.full(cols.size + 1, n_split))
            s_c.append(np.concatenate([[lay.w_index[j, t]], cols]))
            s_v.append(np.concatenate([[1.0], -np.ones(cols.size)]))
            n_split += 1
            c[cols] = np.arange(cols.size, dtype=float)
            bar = wbar[j, t]
            col_hi[cols] = bar
            yc = lay.y_index[t][j]
            k_n = yc.size
            b_r.append(np.repeat(np.arange(k_n) + n_bucket, 2))  # v[n] - bar y[n] <= 0
            b_c.append(np.column_stack([cols[1:], yc]).ravel())
            b_v.append(np.tile([1.0, -bar], k_n))
            b_hi.append(np.zeros(k_n))
            b_r.append(np.full(k_n + 1, n_bucket + k_n))  # v[0] + bar sum y <= bar
            b_c.append(np.concatenate([[cols[0]], yc]))
            b_v.append(np.concatenate([[1.0], np.full(k_n, bar)]))
            b_hi.append([bar])
            n_bucket += k_n + 1
    if n_split:
        rows.add(
            "split",
            np.concatenate(s_r),
            np.concatenate(s_c),
            np.concatenate(s_v),
            np.zeros(n_split),
            np.zeros(n_split),
        )
        hi = np.concatenate(b_hi)
        rows.add(
            "bucket",
            np.concatenate(b_r),
            np.concatenate(b_c),
            np.concatenate(b_v),
            np.full(hi.size, -np.inf),
            hi,
        )
