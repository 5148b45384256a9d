"""The published setting of the uncertainty-aware offloading system (arXiv 2602.07958).

A 500 m x 500 m area, four ESs at (125, 125), (125, 375), (375, 125), (375, 375), users
placed uniformly at random. ``n_servers`` and ``area_m`` change the number of ESs (placed at
the cell centres of a grid, see :func:`es_grid`) and the side of the square. Channel
``h_ij = g_ij c / (4 pi f d_ij)`` with Rayleigh fading ``|g_ij|^2 ~ Exp(1)``, f = 3.5 GHz;
transmit power 0.2 W; 100 MHz per ES; noise -174 dBm/Hz over the band (4e-21 W/Hz x B).
ES capacity ``C_j = 10 C_max U(0.6, 1.4)`` with ``C_max = 1513e12`` FLOP/s; device capability
``C_i^L = 91.06e12 U(0.5, 1.5)``.

Synthetic parts, documented until measured data replace them:

- local delay ``t_i^L = 35.8 ms x U(0.75, 1.25)`` (the published mean is about 35.8 ms);
- device work ``t_i^L C_i^L`` and edge work 8x that (an 8B edge model vs a 1B device model);
- prompt sizes ``U(150, 600)`` bytes, sent as 8 bits per byte. ``prompt_units="bytes-as-bits"``
  replays the published code's treatment of the byte count as a bit count;
- alpha and accuracies from the synthetic curve of :mod:`mecopt.accuracy_draws`, or from a measured
  profile with ``profile=NAME``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mecopt.accuracy_draws import get_curve

SPEED_OF_LIGHT = 3.0e8
ES_POSITIONS = ((125.0, 125.0), (125.0, 375.0), (375.0, 125.0), (375.0, 375.0))
MIN_DISTANCE_M = 1.0


def es_grid(n_servers: int, area_m: float) -> np.ndarray:
    """(M, 2) ES positions: the first M cell centres (x-major order) of a ``c x r`` grid over
    the square (``c = ceil(sqrt(M))``, ``r = ceil(M / c)``). M = 4 gives the published
    layout."""
    cols = int(np.ceil(np.sqrt(n_servers)))
    rows = int(np.ceil(n_servers / cols))
    xs = (np.arange(cols) + 0.5) * area_m / cols
    ys = (np.arange(rows) + 0.5) * area_m / rows
    return np.array([(x, y) for x in xs for y in ys][:n_servers])


def draw_network(
    n_users: int,
    streams: dict[str, np.random.Generator],
    *,
    n_servers: int,
    area_m: float,
    carrier_hz: float,
    per_user_cap_flops: float,
    capacity_factor: float,
    device_flops: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw the geometry, fading and compute of a kim2026-style network.

    Users are uniform in the square, the ESs on a grid (:func:`es_grid`); the channel gain is
    free-space path gain times Rayleigh fading; ES compute is
    ``capacity_factor * per_user_cap_flops * U(0.6, 1.4)`` and device compute
    ``device_flops * U(0.5, 1.5)``.

    Returns
    -------
    gain, capacity, device
        (N, M) channel power gains, (M,) ES FLOP/s and (N,) device FLOP/s.

    Raises
    ------
    ValueError
        If ``n_servers`` is not a whole number in [1, 10000].
    """
    if isinstance(n_servers, bool) or not isinstance(n_servers, int | np.integer) or \
            not 1 <= n_servers <= 10_000:
        raise ValueError(f"n_servers = {n_servers!r}: must be a whole number in [1, 10000]")
    es_pos = es_grid(int(n_servers), float(area_m))
    n_es = es_pos.shape[0]
    user_pos = streams["place"].uniform(0.0, area_m, size=(n_users, 2))
    dist = np.maximum(np.linalg.norm(user_pos[:, None, :] - es_pos[None, :, :], axis=2),
                      MIN_DISTANCE_M)
    path_gain = (SPEED_OF_LIGHT / (4.0 * np.pi * carrier_hz * dist)) ** 2
    fading = streams["fading"].exponential(1.0, size=(n_users, n_es))
    comp = streams["compute"]
    capacity = capacity_factor * per_user_cap_flops * comp.uniform(0.6, 1.4, size=n_es)
    device = device_flops * comp.uniform(0.5, 1.5, size=n_users)
    return fading * path_gain, capacity, device


def build(
    n_users: int,
    streams: dict[str, np.random.Generator],
    *,
    n_servers: int = 4,
    area_m: float = 500.0,
    carrier_hz: float = 3.5e9,
    tx_power_w: float = 0.2,
    bandwidth_hz: float = 100e6,
    noise_w_per_hz: float = 4e-21,
    per_user_cap_flops: float = 1513e12,
    capacity_factor: float = 10.0,
    device_flops: float = 91.06e12,
    mean_local_delay_s: float = 35.8e-3,
    edge_work_factor: float = 8.0,
    prompt_bytes: tuple[float, float] = (150.0, 600.0),
    prompt_units: str = "bits",
    curve: str | None = None,
    profile: str | None = None,
    profile_mode: str = "expected",
    variants: str | None = None,
    variant: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Draw the fields of a kim2026 instance; see the module docstring for the model."""
    if prompt_units not in ("bits", "bytes-as-bits"):
        raise ValueError(f"prompt_units = {prompt_units!r}: must be 'bits' or 'bytes-as-bits'")
    for name, value in (("area_m", area_m), ("carrier_hz", carrier_hz),
                        ("tx_power_w", tx_power_w), ("bandwidth_hz", bandwidth_hz)):
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} = {value!r}: must be > 0")
    gain, capacity, device = draw_network(
        n_users, streams, n_servers=n_servers, area_m=area_m, carrier_hz=carrier_hz,
        per_user_cap_flops=per_user_cap_flops, capacity_factor=capacity_factor,
        device_flops=device_flops)
    n_es = capacity.shape[0]

    q = streams["query"]
    local_delay = mean_local_delay_s * q.uniform(0.75, 1.25, size=n_users)
    n_bytes = q.uniform(prompt_bytes[0], prompt_bytes[1], size=n_users)
    prompt_bits = n_bytes if prompt_units == "bytes-as-bits" else 8.0 * n_bytes

    chosen = get_curve(curve, profile, profile_mode)
    alpha, acc_local, acc_edge = chosen.sample(n_users, streams["curve"])

    fields = {
        "alpha": alpha,
        "acc_local": acc_local,
        "acc_edge": acc_edge,
        "local_delay": local_delay,
        "prompt_bits": prompt_bits,
        "edge_work": edge_work_factor * local_delay * device,
        "tx_power": np.full(n_users, tx_power_w),
        "gain": gain,
        "bandwidth": np.full(n_es, bandwidth_hz),
        "noise": np.full(n_es, noise_w_per_hz * bandwidth_hz),
        "capacity": capacity,
        "per_user_cap": np.full(n_es, per_user_cap_flops),
        "meta": {"curve": chosen.name, "synthetic_curve": bool(chosen.synthetic)},
    }
    if variants is not None:  # device model from a variant catalogue (imported lazily)
        from mecopt.variants.scenario_hook import apply_variants

        fields = apply_variants(fields, variants, variant)
    defaults = {"tau": 0.6}
    return fields, defaults
