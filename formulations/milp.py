"""A solver-neutral mixed-integer linear program in matrix form.

Every exact backend in :mod:`mecopt.solvers` translates this one object, so the model is
written once (:mod:`mecopt.formulations.count_indexed`) and all backends solve the same
problem.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

#: Objective unit of every model here: the total cost in milliseconds (better scaled than
#: the mean in seconds).
MS = 1e3

#: Row families (``MatrixMILP.row_kind``) shared by the count-indexed models.
ROW_ONE_COUNT, ROW_COUNT, ROW_LINK, ROW_ASSIGN, ROW_ACCURACY, ROW_HALLUCINATION = range(6)
#: Interference rows of :mod:`mecopt.formulations.intervals` (fractional coefficients, in
#: units of the noise power).
ROW_INTERFERENCE = 6
#: Row families with fractional (probability) coefficients.
QUALITY_ROWS = (ROW_ACCURACY, ROW_HALLUCINATION)


@dataclasses.dataclass(frozen=True, eq=False)
class MatrixMILP:
    """``min c @ x + constant`` s.t. ``row_lo <= A @ x <= row_hi``, ``0 <= x <= col_hi``.

    Every column is binary unless ``continuous`` marks it (the big-M model's delays).

    Attributes
    ----------
    c
        (K,) objective coefficients.
    constant
        Objective constant.
    A
        (R, K) constraint matrix (CSR).
    row_lo, row_hi
        (R,) row bounds; ``-inf`` / ``inf`` for one-sided rows.
    row_kind
        (R,) small integers naming each row's family (see the formulation's ``ROW_*``).
    col_hi
        (K,) column upper bounds (``inf`` allowed for continuous columns), or ``None``: 1.
    continuous
        (K,) bool, the columns that are continuous, or ``None``: all binary.
    """

    c: np.ndarray
    constant: float
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    row_kind: np.ndarray
    col_hi: np.ndarray | None = None
    continuous: np.ndarray | None = None

    def column_bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(K,) lower bounds, upper bounds and the bool mask of integer columns."""
        hi = np.ones(self.n_vars) if self.col_hi is None else np.asarray(self.col_hi, float)
        integer = (np.ones(self.n_vars, dtype=bool) if self.continuous is None
                   else ~np.asarray(self.continuous, dtype=bool))
        return np.zeros(self.n_vars), hi, integer

    @property
    def all_binary(self) -> bool:
        """Whether every column is binary (what backends without continuous columns need)."""
        return self.continuous is None or not bool(np.any(self.continuous))

    @property
    def n_vars(self) -> int:
        """Number of (binary) variables."""
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        """Number of constraint rows."""
        return int(self.A.shape[0])

    def objective(self, x: np.ndarray) -> float:
        """Objective value of a 0/1 vector."""
        return float(self.c @ x + self.constant)

    def max_violation(self, x: np.ndarray) -> float:
        """Largest row violation of ``x`` (0 when feasible)."""
        ax = self.A @ x
        return float(max(np.max(self.row_lo - ax, initial=0.0),
                         np.max(ax - self.row_hi, initial=0.0)))


class RowBlocks:
    """Constraint rows collected block by block (sparse triplets), then one matrix.

    Each :meth:`add` appends ``n_new`` rows; its row indices ``r`` count from 0 within the
    block. The formulations build their models with it.
    """

    def __init__(self) -> None:
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._lo: list[np.ndarray] = []
        self._hi: list[np.ndarray] = []
        self._kind: list[np.ndarray] = []
        self.n_rows = 0

    def add(self, r: np.ndarray, cols: np.ndarray, vals: np.ndarray, lo: np.ndarray | float,
            hi: np.ndarray | float, kind: int, n_new: int | None = None) -> None:
        """Append rows ``lo <= sum vals * x[cols] <= hi`` of type ``kind``.

        Parameters
        ----------
        r, cols, vals
            Row (within the block), column and coefficient of every nonzero.
        lo, hi
            Row bounds: arrays of ``n_new`` values or scalars broadcast to them.
        kind
            Row type recorded in :attr:`MatrixMILP.row_kind`.
        n_new
            Rows in the block; by default the length of ``lo``.
        """
        if n_new is None:
            n_new = np.shape(lo)[0]
        self._rows.append(np.asarray(r) + self.n_rows)
        self._cols.append(np.asarray(cols))
        self._vals.append(np.asarray(vals, dtype=float))
        self._lo.append(np.broadcast_to(np.asarray(lo, dtype=float), n_new))
        self._hi.append(np.broadcast_to(np.asarray(hi, dtype=float), n_new))
        self._kind.append(np.full(n_new, kind, dtype=np.int8))
        self.n_rows += n_new

    def milp(self, c: np.ndarray, constant: float, **columns: np.ndarray) -> MatrixMILP:
        """The :class:`MatrixMILP` with objective ``c @ x + constant`` and these rows.

        ``columns`` passes ``col_hi`` and ``continuous`` on to the model.
        """
        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        a = sp.csr_matrix(
            (cat(self._vals, float), (cat(self._rows, np.int64), cat(self._cols, np.int64))),
            shape=(self.n_rows, c.shape[0]))
        return MatrixMILP(c=c, constant=constant, A=a, row_lo=cat(self._lo, float),
                          row_hi=cat(self._hi, float), row_kind=cat(self._kind, np.int8),
                          **columns)
