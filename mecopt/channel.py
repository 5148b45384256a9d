"""Uplink channel: spectral efficiency, inter-cell interference and communication delay.

User i offloading to ES j, which holds n_j users that share its bandwidth equally, sends
its D_i-bit prompt at rate ``R_ij = (B_j / n_j) log2(1 + P_i g_ij / (sigma_j^2 + I_j))``, so
``t_comm_ij = D_i n_j / (B_j log2(1 + SINR_ij))``.

The interference ``I_j`` at ES j is a strategy chosen per instance:

- ``"none"``: orthogonal cells, ``I_j = 0``;
- ``"other-cells"``: every user offloaded to another ES interferes,
  ``I_j = sum_{k : a_k >= 0, a_k != j} P_k g_kj`` (as in the published system).

It is the same for every user of ES j, so it is an (M,) array.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from mecopt.registry import Registry

if TYPE_CHECKING:
    from mecopt.instance import Instance


class InterferenceModel(Protocol):
    """Strategy object computing the interference power at each ES."""

    name: str
    #: True when the interference at ES j is the summed received power of the users
    #: offloaded to the other ESs: the structure the interval models and the interference
    #: bounds of the exact solvers rely on.
    from_other_servers: bool

    def interference(self, inst: Instance, assignment: np.ndarray) -> np.ndarray:
        """(M,) interference power (W) at each ES under ``assignment``."""
        ...

    def interference_batch(self, inst: Instance, assignments: np.ndarray) -> np.ndarray:
        """(B, M) interference power (W) at each ES under every row of ``assignments``."""
        ...


class NoInterference:
    """Orthogonal cells: no inter-cell interference."""

    name = "none"
    from_other_servers = False

    def interference(self, inst: Instance, assignment: np.ndarray) -> np.ndarray:
        return np.zeros(inst.n_servers)

    def interference_batch(self, inst: Instance, assignments: np.ndarray) -> np.ndarray:
        return np.zeros((len(assignments), inst.n_servers))


class OtherCells:
    """Users offloaded to any other ES interfere at ES j."""

    name = "other-cells"
    from_other_servers = True

    def interference(self, inst: Instance, assignment: np.ndarray) -> np.ndarray:
        off = assignment >= 0
        if not off.any():
            return np.zeros(inst.n_servers)
        rx = inst.tx_power[off, None] * inst.gain[off]  # (n_off, M) received power
        total = rx.sum(axis=0)
        # own[j] = power received at ES j from its own users.
        own = np.bincount(
            assignment[off], weights=rx[np.arange(rx.shape[0]), assignment[off]],
            minlength=inst.n_servers,
        )
        return np.maximum(total - own, 0.0)

    def interference_batch(self, inst: Instance, assignments: np.ndarray) -> np.ndarray:
        a = np.asarray(assignments, dtype=np.int64)
        if len(a) <= 8:  # a few rows: one at a time is as fast
            rows = [self.interference(inst, row) for row in a]
            return np.stack(rows) if rows else np.zeros((0, inst.n_servers))
        rx = inst.tx_power[:, None] * inst.gain  # (N, M)
        total = (a >= 0).astype(float) @ rx  # (B, M)
        own = np.zeros_like(total)
        for j in range(inst.n_servers):
            own[:, j] = (a == j).astype(float) @ rx[:, j]
        return np.maximum(total - own, 0.0)


#: The interference models by name.
INTERFERENCE: Registry[InterferenceModel] = Registry("interference model")
for _model in (NoInterference(), OtherCells()):
    INTERFERENCE.register(_model.name, _model)


def spectral_efficiency(
    inst: Instance, users: np.ndarray, es: np.ndarray, interference: np.ndarray | float = 0.0
) -> np.ndarray:
    """``log2(1 + P_i g_ij / (sigma_j^2 + I_j))`` in bit/s/Hz for the given pairs."""
    sinr = inst.tx_power[users] * inst.gain[users, es] / (inst.noise[es] + interference)
    return np.log1p(sinr) / np.log(2.0)


def comm_delay(
    inst: Instance,
    users: np.ndarray,
    es: np.ndarray,
    n: np.ndarray,
    interference: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Uplink delay (s) of ``users`` on ``es`` when the ES holds ``n`` users.

    A zero channel gain gives an infinite delay (the user cannot reach that ES).
    """
    se = spectral_efficiency(inst, users, es, interference)
    with np.errstate(divide="ignore"):
        return inst.prompt_bits[users] * n / (inst.bandwidth[es] * se)


#: Speed of light, m/s.
SPEED_OF_LIGHT = 3.0e8
#: Distances below this are clipped in the path loss (m).
MIN_DISTANCE_M = 1.0


def free_space_gain(distance_m: np.ndarray | float, carrier_hz: float) -> np.ndarray:
    """Free-space path gain ``(c / (4 pi f d))^2`` (the kim2026 model), ``d >= 1 m``."""
    d = np.maximum(np.asarray(distance_m, dtype=float), MIN_DISTANCE_M)
    return (SPEED_OF_LIGHT / (4.0 * np.pi * carrier_hz * d)) ** 2
