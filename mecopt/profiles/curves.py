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


def fit_isotonic(
    alpha: ArrayLike, correct: ArrayLike, *, increasing: bool = False
) -> IsotonicCurve:
    """Fit a monotone accuracy curve to 0/1 outcomes by isotonic regression.

    Outcomes at equal alphas are pooled (weighted by their count) before the fit.

    Parameters
    ----------
    alpha
        The device model's uncertainty per query.
    correct
        Whether the model answered each query correctly (0/1).
    increasing
        Direction of the fit; the default, ``False``, fits a non-increasing curve (accuracy
        falls as uncertainty grows).

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
    fit = isotonic_regression(means, weights=counts.astype(np.float64), increasing=increasing)
    return IsotonicCurve(x, np.clip(fit.x, 0.0, 1.0))
