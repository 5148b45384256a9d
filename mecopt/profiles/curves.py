"""Accuracy-versus-alpha curves: isotonic fits of measured outcomes, and linear curves.

A curve is any object with ``__call__(alpha) -> accuracy`` (arrays in, arrays out) and
``to_dict()``; see :class:`AccuracyCurve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import isotonic_regression

__all__ = ["AccuracyCurve", "IsotonicCurve", "LinearCurve", "curve_from_dict", "fit_isotonic"]


@runtime_checkable
class AccuracyCurve(Protocol):
    """Probability that a model answers correctly, as a function of the device's alpha."""

    def __call__(self, alpha: ArrayLike) -> NDArray[np.float64]: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True, eq=False)
class IsotonicCurve:
    """A monotone curve through fitted points, linearly interpolated and flat beyond them.

    Parameters
    ----------
    x
        Increasing alpha values (the distinct measured alphas).
    y
        Fitted accuracy at each ``x``, monotone.
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]

    def __call__(self, alpha: ArrayLike) -> NDArray[np.float64]:
        return np.interp(np.asarray(alpha, dtype=np.float64), self.x, self.y)

    def to_dict(self) -> dict[str, Any]:
        """Describe the curve; isotonic curves are refitted from the records on load."""
        return {"kind": "isotonic"}


@dataclass(frozen=True)
class LinearCurve:
    """accuracy = clip(intercept + slope * alpha, 0, 1).

    Parameters
    ----------
    intercept
        Accuracy at alpha = 0.
    slope
        Change of accuracy per unit alpha (negative when uncertainty predicts errors).
    """

    intercept: float
    slope: float

    def __call__(self, alpha: ArrayLike) -> NDArray[np.float64]:
        a = np.asarray(alpha, dtype=np.float64)
        return np.clip(self.intercept + self.slope * a, 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        """Describe the curve as a JSON-able dictionary."""
        return {"kind": "linear", "intercept": self.intercept, "slope": self.slope}


def curve_from_dict(spec: dict[str, Any] | None) -> LinearCurve | None:
    """Return the curve ``spec`` describes, or ``None`` for an isotonic fit (or no spec).

    Raises
    ------
    ValueError
        If the kind is unknown or a linear curve lacks its parameters.
    """
    if spec is None or spec.get("kind") == "isotonic":
        return None
    if spec.get("kind") == "linear":
        try:
            return LinearCurve(float(spec["intercept"]), float(spec["slope"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                f"linear curve needs numeric 'intercept' and 'slope': {spec}"
            ) from None
    raise ValueError(f"unknown curve kind {spec.get('kind')!r}; valid kinds: isotonic, linear")


#: Fewest records behind one level of a fitted isotonic curve (see :func:`fit_isotonic`).
MIN_BLOCK = 20


def _pool_small_blocks(level: NDArray[np.float64], weight: NDArray[np.float64],
                       sums: NDArray[np.float64], min_block: float) -> NDArray[np.float64]:
    """Merge runs of equal fitted level holding fewer than ``min_block`` records.

    A run is merged into the neighbour whose level is closer; the merged level is the
    weighted mean, which lies between the two, so the curve stays monotone.
    """
    edges = np.flatnonzero(np.diff(level) != 0) + 1
    starts = [0, *edges.tolist()]
    ends = [*edges.tolist(), level.size]
    w = [float(weight[a:b].sum()) for a, b in zip(starts, ends, strict=True)]
    t = [float(sums[a:b].sum()) for a, b in zip(starts, ends, strict=True)]
    while len(w) > 1 and min(w) < min_block:
        k = int(np.argmin(w))
        if k == 0:
            other = 1
        elif k == len(w) - 1:
            other = k - 1
        else:
            mean = t[k] / w[k]
            other = k - 1 if abs(t[k - 1] / w[k - 1] - mean) <= abs(t[k + 1] / w[k + 1] - mean) \
                else k + 1
        lo, hi = min(k, other), max(k, other)
        w[lo:hi + 1] = [w[lo] + w[hi]]
        t[lo:hi + 1] = [t[lo] + t[hi]]
        ends[lo:hi + 1] = [ends[hi]]
        starts[lo:hi + 1] = [starts[lo]]
    out = np.empty_like(level)
    for a, b, wk, tk in zip(starts, ends, w, t, strict=True):
        out[a:b] = tk / wk
    return out


def fit_isotonic(
    alpha: ArrayLike, correct: ArrayLike, *, increasing: bool = False,
    min_block: int = MIN_BLOCK,
) -> IsotonicCurve:
    """Fit a monotone accuracy curve to 0/1 outcomes by isotonic regression.

    Outcomes at equal alphas are pooled (weighted by their count) before the fit. Plain
    isotonic regression lets a handful of extreme records set the curve's ends (a few wrong
    answers at the largest alpha pull the end to 0), so runs of the fit holding fewer than
    ``min_block`` records are pooled with their nearest neighbour level. Beyond the
    measured alphas the curve is flat at the nearest fitted value.

    Parameters
    ----------
    alpha
        The device model's uncertainty per query.
    correct
        Whether the model answered each query correctly (0/1).
    increasing
        Direction of the fit; the default, ``False``, fits a non-increasing curve (accuracy
        falls as uncertainty grows).
    min_block
        Fewest records behind one level of the curve (1 gives plain isotonic regression);
        at most 5 % of the records, so small samples keep plain isotonic regression.

    Returns
    -------
    IsotonicCurve
        The fitted curve.

    Raises
    ------
    ValueError
        If the inputs are empty or differ in length.
    """
    a = np.asarray(alpha, dtype=np.float64)
    c = np.asarray(correct, dtype=np.float64)
    if a.shape != c.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"alpha and correct must be 1-D of equal non-zero length, got {a.shape} and {c.shape}"
        )
    x, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
    means = np.bincount(inv, weights=c) / counts
    weights = counts.astype(np.float64)
    fit = isotonic_regression(means, weights=weights, increasing=increasing)
    level = _pool_small_blocks(fit.x, weights, means * weights,
                               min(min_block, max(1, a.size // 20)))
    return IsotonicCurve(x, np.clip(level, 0.0, 1.0))
