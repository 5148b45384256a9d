"""Binned accuracy-versus-alpha tables with Wilson score intervals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["BinnedTable", "binned_table", "wilson_interval"]


def wilson_interval(
    successes: ArrayLike, n: ArrayLike, *, z: float = 1.959963984540054
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval of a binomial proportion (NaN where ``n == 0``).

    Parameters
    ----------
    successes
        Number of successes.
    n
        Number of trials.
    z
        Normal quantile; the default gives 95 % intervals.

    Returns
    -------
    lo, hi : numpy.ndarray
        Lower and upper bounds, in [0, 1].
    """
    s = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = s / m
        denom = 1.0 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
    lo = np.where(m > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    hi = np.where(m > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lo, hi


@dataclass(frozen=True, eq=False)
class BinnedTable:
    """Accuracy of the device and edge models per alpha bin.

    Attributes
    ----------
    edges
        Bin edges, shape ``(bins + 1,)``.
    count
        Queries per bin.
    alpha_mean
        Mean alpha per bin (NaN for empty bins).
    acc_local, acc_edge
        Observed accuracy per bin (NaN for empty bins).
    local_lo, local_hi, edge_lo, edge_hi
        95 % Wilson intervals of the accuracies.
    """

    edges: NDArray[np.float64]
    count: NDArray[np.int64]
    alpha_mean: NDArray[np.float64]
    acc_local: NDArray[np.float64]
    local_lo: NDArray[np.float64]
    local_hi: NDArray[np.float64]
    acc_edge: NDArray[np.float64]
    edge_lo: NDArray[np.float64]
    edge_hi: NDArray[np.float64]

    def rows(self) -> list[dict[str, float]]:
        """Return one dictionary per bin (for JSON output)."""
        out = []
        for b in range(len(self.count)):
            out.append(
                {
                    "alpha_lo": float(self.edges[b]),
                    "alpha_hi": float(self.edges[b + 1]),
                    "count": int(self.count[b]),
                    "alpha_mean": float(self.alpha_mean[b]),
                    "acc_local": float(self.acc_local[b]),
                    "local_lo": float(self.local_lo[b]),
                    "local_hi": float(self.local_hi[b]),
                    "acc_edge": float(self.acc_edge[b]),
                    "edge_lo": float(self.edge_lo[b]),
                    "edge_hi": float(self.edge_hi[b]),
                }
            )
        return out

    def format(self) -> str:
        """Return the table as fixed-width text."""
        lines = [f"{'alpha bin':>13} {'n':>6} {'acc local [95% CI]':>22} {'acc edge [95% CI]':>22}"]
        for r in self.rows():
            if r["count"] == 0:
                loc = edge = "-"
            else:
                loc = f"{r['acc_local']:.3f} [{r['local_lo']:.2f}, {r['local_hi']:.2f}]"
                edge = f"{r['acc_edge']:.3f} [{r['edge_lo']:.2f}, {r['edge_hi']:.2f}]"
            lines.append(
                f"[{r['alpha_lo']:.2f}, {r['alpha_hi']:.2f}) {r['count']:>6} {loc:>22} {edge:>22}"
            )
        return "\n".join(lines)


def binned_table(
    alpha: ArrayLike,
    local_correct: ArrayLike,
    edge_correct: ArrayLike,
    *,
    bins: int = 10,
    strategy: Literal["uniform", "quantile"] = "uniform",
) -> BinnedTable:
    """Bin the queries by alpha and tabulate both models' accuracy with Wilson intervals.

    Parameters
    ----------
    alpha
        The device model's uncertainty per query, in [0, 1].
    local_correct, edge_correct
        0/1 outcomes of the device and edge models.
    bins
        Number of bins.
    strategy
        "uniform": equal-width bins over [0, 1]; "quantile": bins of (about) equal counts.

    Returns
    -------
    BinnedTable
        The table; the last bin includes alpha = 1.

    Raises
    ------
    ValueError
        If ``bins < 1`` or ``strategy`` is unknown.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    a = np.asarray(alpha, dtype=np.float64)
    loc = np.asarray(local_correct, dtype=np.float64)
    edg = np.asarray(edge_correct, dtype=np.float64)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, bins + 1)
    elif strategy == "quantile":
        edges = np.unique(np.quantile(a, np.linspace(0.0, 1.0, bins + 1)))
        edges[0], edges[-1] = min(edges[0], 0.0), max(edges[-1], 1.0)
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    nb = len(edges) - 1
    idx = np.clip(np.searchsorted(edges, a, side="right") - 1, 0, nb - 1)
    count = np.bincount(idx, minlength=nb)
    sums = {
        name: np.bincount(idx, weights=v, minlength=nb)
        for name, v in (("alpha", a), ("local", loc), ("edge", edg))
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = {k: np.where(count > 0, v / count, np.nan) for k, v in sums.items()}
    llo, lhi = wilson_interval(sums["local"], count)
    elo, ehi = wilson_interval(sums["edge"], count)
    return BinnedTable(
        edges,
        count.astype(np.int64),
        mean["alpha"],
        mean["local"],
        llo,
        lhi,
        mean["edge"],
        elo,
        ehi,
    )
