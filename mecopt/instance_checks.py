"""Value checks of :class:`~mecopt.instance.Instance` fields: each failure is a
``ValueError`` naming the field, the index and the value (``Instance.alpha[3] = 1.2: must
lie in [0, 1]``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["as_float_array", "as_scalar", "check_shape", "first_bad", "infer_sizes"]


def _index_text(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def first_bad(name: str, arr: np.ndarray, bad: np.ndarray, rule: str) -> None:
    """Raise naming the first element of ``arr`` where ``bad`` holds, and the ``rule``."""
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        raise ValueError(f"Instance.{name}{_index_text(idx)} = {arr[idx].item()!r}: {rule}")


def as_float_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a read-only float64 array (a copy); non-numeric input is an error."""
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"Instance.{name} must be a rectangular numeric array, got {value!r:.80}"
        ) from None
    if raw.dtype.kind not in "iuf":
        kind = {"b": "booleans", "U": "strings", "S": "bytes", "O": "objects"}.get(
            raw.dtype.kind, str(raw.dtype)
        )
        raise ValueError(f"Instance.{name} must be numeric, got {kind} ({value!r:.80})")
    with np.errstate(over="ignore"):
        arr = np.array(raw, dtype=float, copy=True)
    arr.setflags(write=False)
    return arr


def infer_sizes(
    user: Mapping[str, np.ndarray], es: Mapping[str, np.ndarray], gain: np.ndarray
) -> tuple[int, int]:
    """N and M agreed by most fields; the first field that disagrees is named in the error."""

    def agreed(lengths: list[int]) -> int:
        values, counts = np.unique(lengths, return_counts=True)
        best = values[counts == counts.max()]
        return int(lengths[0]) if lengths[0] in best else int(best[0])

    g2 = gain.ndim == 2
    n_users = agreed(
        [a.shape[0] if a.ndim == 1 else -1 for a in user.values()] + ([gain.shape[0]] if g2 else [])
    )
    n_es = agreed(
        [a.shape[0] if a.ndim == 1 else -1 for a in es.values()] + ([gain.shape[1]] if g2 else [])
    )
    if n_users < 1:
        raise ValueError(
            f"Instance.alpha must be a non-empty 1-D array (as every per-user "
            f"field), got shape {user['alpha'].shape}"
        )
    if n_es < 1:
        raise ValueError(
            "Instance.bandwidth must be a non-empty 1-D array (as every per-ES "
            f"field), got shape {es['bandwidth'].shape}"
        )
    for name, arr in user.items():
        if arr.shape != (n_users,):
            raise ValueError(
                f"Instance.{name} must have shape ({n_users},), got {arr.shape} "
                f"(the other per-user fields give N = {n_users})"
            )
    for name, arr in es.items():
        if arr.shape != (n_es,):
            raise ValueError(
                f"Instance.{name} must have shape ({n_es},), got {arr.shape} "
                f"(the other per-ES fields give M = {n_es})"
            )
    if gain.shape != (n_users, n_es):
        raise ValueError(
            f"Instance.gain must have shape (N, M) = ({n_users}, {n_es}), got {gain.shape}"
        )
    return n_users, n_es


def check_shape(name: str, arr: np.ndarray, shape: tuple[int, ...]) -> None:
    """Raise unless ``arr`` has ``shape``."""
    if arr.shape != shape:
        raise ValueError(f"Instance.{name} must have shape {shape}, got {arr.shape}")


def as_scalar(name: str, value: Any) -> float:
    """``value`` as a finite float (booleans and non-numbers are errors)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise ValueError(f"Instance.{name} = {value!r}: must be a number")
    try:
        out = float(value)
    except OverflowError:
        raise ValueError(f"Instance.{name} = {value!r}: too large for a float") from None
    if not math.isfinite(out):
        raise ValueError(f"Instance.{name} = {value!r}: must be finite")
    return out
