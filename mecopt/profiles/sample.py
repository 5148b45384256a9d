"""Instance data drawn from a profile."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["SAMPLE_MODES", "ProfileSample"]

#: Valid ``mode`` values of :meth:`mecopt.profiles.Profile.sample`.
SAMPLE_MODES = ("expected", "outcomes")


@dataclass(frozen=True, eq=False)
class ProfileSample:
    """Per-user query data drawn from a profile; every array has shape ``(n,)``.

    Attributes
    ----------
    alpha
        The device model's uncertainty, in [0, 1].
    acc_local, acc_edge
        Probability (mode "expected") or 0/1 outcome (mode "outcomes") that the device / edge
        model answers correctly, in [0, 1].
    local_latency_s, edge_latency_s
        Measured generation times of the device and edge models, seconds.
    prompt_bytes
        Prompt sizes, bytes.
    """

    alpha: NDArray[np.float64]
    acc_local: NDArray[np.float64]
    acc_edge: NDArray[np.float64]
    local_latency_s: NDArray[np.float64]
    edge_latency_s: NDArray[np.float64]
    prompt_bytes: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.alpha)
