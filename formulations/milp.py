"""A solver-neutral mixed-integer linear program in matrix form.

Every exact backend in :mod:`mecopt.solvers` translates this one object, so the model is
written once (:mod:`mecopt.formulations.count_indexed`) and all backends solve the same
problem.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp


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
