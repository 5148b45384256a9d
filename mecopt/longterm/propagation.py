"""Channels over time: device positions (optionally moving), path loss, Gauss-Markov fading.

- Path loss: free space as in kim2026 (arXiv 2602.07958), ``(c / (4 pi f d))^2`` with
  ``d >= 1 m`` (:func:`mecopt.channel.free_space_gain`).
- Fading: Rayleigh block fading, constant within a slot and correlated over slots by a
  first-order Gauss-Markov process ``h(t+1) = rho h(t) + sqrt(1 - rho^2) w(t)`` with
  ``w ~ CN(0, 1)``; ``h(0) ~ CN(0, 1)``, so ``|h(t)|^2 ~ Exp(1)`` in every slot.
- Mobility (optional): a random walk at constant speed, a fresh uniform direction every
  slot, reflected at the borders of the square.
"""

from __future__ import annotations

import numpy as np

from mecopt.channel import free_space_gain


def gauss_markov_fading(rng: np.random.Generator, horizon: int, shape: tuple[int, ...],
                        rho: float) -> np.ndarray:
    """(T, *shape) fading power gains ``|h(t)|^2`` of a Gauss-Markov Rayleigh process."""
    scale = np.sqrt(0.5)
    w = rng.normal(0.0, scale, size=(horizon, *shape, 2))
    h = np.empty_like(w)
    h[0] = w[0]
    innovation = np.sqrt(1.0 - rho * rho)
    for t in range(1, horizon):
        np.multiply(h[t - 1], rho, out=h[t])
        h[t] += innovation * w[t]
    return np.einsum("...k,...k->...", h, h)


def random_walk(rng: np.random.Generator, start: np.ndarray, horizon: int, step_m: float,
                area_m: float) -> np.ndarray:
    """(T, U, 2) positions of a random walk with fixed step length, reflected at the borders."""
    pos = np.empty((horizon, *start.shape))
    pos[0] = start
    if horizon > 1:
        theta = rng.uniform(0.0, 2.0 * np.pi, size=(horizon - 1, start.shape[0]))
        steps = step_m * np.stack([np.cos(theta), np.sin(theta)], axis=-1)
        raw = start[None] + np.cumsum(steps, axis=0)
        # Reflection at 0 and area_m: fold the unbounded walk into [0, area_m].
        folded = np.mod(raw, 2.0 * area_m)
        pos[1:] = np.where(folded > area_m, 2.0 * area_m - folded, folded)
    return pos


def path_gains(positions: np.ndarray, es_pos: np.ndarray, carrier_hz: float) -> np.ndarray:
    """(..., U, M) free-space power gains between device positions (..., U, 2) and ESs."""
    dist = np.linalg.norm(positions[..., :, None, :] - es_pos[None, :, :], axis=-1)
    return free_space_gain(dist, carrier_hz)
