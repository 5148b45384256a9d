"""Drawing traces: everything random over a horizon, fixed from a seed (:func:`make_trace`).

Random streams are independent children of the seed (arrivals, queries, outcomes, fading,
placement, mobility, compute), so changing one part of a scenario (say the arrival rate)
leaves the other draws unchanged: query content and fading are drawn for every
(slot, device) cell, whether or not a query arrives there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mecopt.longterm.propagation import gauss_markov_fading, path_gains, random_walk
from mecopt.longterm.scenario import LongtermScenario, hallucination_probability, make_scenario
from mecopt.longterm.traces import (
    ARRAY_FIELDS,
    CELL_FIELDS,
    FLAG_FIELDS,
    Trace,
    TraceFormatError,
)

__all__ = ["MAX_TRACE_CELLS", "check_trace_size", "make_trace"]

#: Largest trace (B x T x U query cells) :func:`make_trace` draws: about 130 bytes a cell
#: with four ESs, so about 1.3 GB, checked before any array is allocated.
MAX_TRACE_CELLS = 10_000_000


def check_trace_size(n_devices: int, horizon: int, batch: int = 1) -> None:
    """Raise ``ValueError`` when a trace of B x T x U cells exceeds :data:`MAX_TRACE_CELLS`.

    Raises
    ------
    ValueError
        Naming the sizes and the limit, before anything is allocated.
    """
    cells = int(n_devices) * int(horizon) * int(batch)
    if cells > MAX_TRACE_CELLS:
        raise ValueError(
            f"trace too large: n_devices = {n_devices} x horizon = {horizon} x "
            f"{batch} seed(s) = {cells:,} cells, above the limit of "
            f"{MAX_TRACE_CELLS:,} (about {MAX_TRACE_CELLS * 130 / 1e9:.1f} GB)"
        )


def _check_count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} = {value!r}: must be a whole number >= {low}")
    return int(value)


def _draw(scen: LongtermScenario, n_devices: int, horizon: int, seed: int) -> dict[str, Any]:
    """Draw one realisation; every array without the batch axis."""
    from mecopt.profiles import load_profile

    streams = dict(
        zip(
            ("arrivals", "queries", "outcomes", "fading", "place", "mobility", "compute"),
            (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)),
            strict=True,
        )
    )
    u, t, m = n_devices, horizon, scen.n_servers
    device = scen.device_model()

    # Arrivals and launches.
    if scen.arrival == "bernoulli":
        has_query = streams["arrivals"].random((t, u)) < scen.arrival_rate
        wait = np.zeros((t, u))
    else:
        has_query, wait = _poisson_launches(
            streams["arrivals"], t, u, scen.arrival_rate, scen.slot_s
        )

    # Queries: one profile record per cell.
    profile = load_profile(scen.profile)
    rec = profile.records
    idx = streams["queries"].integers(0, len(rec), size=(t, u))
    alpha = rec.alpha[idx]
    acc_l = np.clip(np.asarray(profile.curve_local(alpha), dtype=float), 0.0, 1.0)
    acc_e = np.clip(np.asarray(profile.curve_edge(alpha), dtype=float), 0.0, 1.0)
    correct_l = rec.local_correct[idx].astype(bool)
    correct_e = rec.edge_correct[idx].astype(bool)
    draws = streams["outcomes"].random((2, t, u))
    share_l, share_e = device.hallucination_share, scen.edge_hallucination_share
    halluc_l = ~correct_l & (draws[0] < share_l)
    halluc_e = ~correct_e & (draws[1] < share_e)
    rel_latency = rec.local_latency_s[idx] / float(np.mean(rec.local_latency_s))
    local_delay = device.mean_latency_s * rel_latency
    fields: dict[str, Any] = {
        "has_query": has_query,
        "alpha": alpha,
        "acc_local": acc_l,
        "acc_edge": acc_e,
        "hall_local": hallucination_probability(acc_l, share_l),
        "hall_edge": hallucination_probability(acc_e, share_e),
        "correct_local": correct_l,
        "correct_edge": correct_e,
        "halluc_local": halluc_l,
        "halluc_edge": halluc_e,
        "local_delay": local_delay,
        "local_energy": device.power_w * local_delay,
        "prompt_bits": 8.0 * (rec.prompt_bytes[idx] + scen.context_bytes),
        "edge_work": scen.edge_work_factor * local_delay * device.flops,
        "device_wait": wait,
    }
    for name in CELL_FIELDS:
        fields[name] = np.where(has_query, fields[name], 0.0)
    for name in FLAG_FIELDS[1:]:
        fields[name] = fields[name] & has_query

    # Channels.
    es_pos = scen.es_positions()
    start = streams["place"].uniform(0.0, scen.area_m, size=(u, 2))
    if scen.speed_mps > 0:
        position = random_walk(
            streams["mobility"], start, t, scen.speed_mps * scen.slot_s, scen.area_m
        )
    else:
        position = np.broadcast_to(start, (t, u, 2)).copy()
    fading = gauss_markov_fading(streams["fading"], t, (u, m), scen.fading_rho)
    fields["gain"] = path_gains(position, es_pos, scen.carrier_hz) * fading
    fields["position"] = position

    spread = scen.capacity_spread
    fields["capacity"] = scen.es_capacity_flops * streams["compute"].uniform(
        1.0 - spread, 1.0 + spread, size=m
    )
    fields["per_user_cap"] = np.full(m, scen.per_user_cap_flops)
    fields["bandwidth"] = np.full(m, scen.bandwidth_hz)
    fields["noise"] = np.full(m, scen.noise_w_per_hz * scen.bandwidth_hz)
    fields["tx_power"] = np.full(u, scen.tx_power_w)
    fields["energy_budget"] = np.full(u, scen.energy_budget_j)
    return fields


def _poisson_launches(
    rng: np.random.Generator, horizon: int, n_devices: int, rate: float, slot_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson arrivals, at most one launch per device and slot, FIFO device buffers.

    The n-th arrival of a device (arriving in slot a_n) launches in slot
    ``l_n = max(a_n, l_{n-1} + 1)``, i.e. ``l_n = n + max_{m <= n} (a_m - m)``; launches
    beyond the horizon are dropped. Returns the (T, U) launch flags and buffer waits (s).
    """
    counts = rng.poisson(rate, size=(horizon, n_devices))
    has_query = np.zeros((horizon, n_devices), dtype=bool)
    wait = np.zeros((horizon, n_devices))
    for u in range(n_devices):
        arrivals = np.repeat(np.arange(horizon), counts[:, u])
        if arrivals.size == 0:
            continue
        k = np.arange(arrivals.size)
        launch = k + np.maximum.accumulate(arrivals - k)
        keep = launch < horizon
        has_query[launch[keep], u] = True
        wait[launch[keep], u] = (launch[keep] - arrivals[keep]) * slot_s
    return has_query, wait


def make_trace(
    scenario: str | LongtermScenario = "default",
    *,
    n_devices: int,
    horizon: int,
    seed: int | Sequence[int] = 0,
    **overrides: Any,
) -> Trace:
    """Draw a trace: one realisation per seed (a single seed gives B = 1).

    Parameters
    ----------
    scenario
        A scenario name (``"default"``) or a :class:`LongtermScenario`.
    n_devices
        U, the number of devices (>= 1).
    horizon
        T, the number of slots (>= 1).
    seed
        A seed (>= 0) or a sequence of seeds (one batch member each).
    **overrides
        Scenario parameters (see :class:`LongtermScenario`).

    Returns
    -------
    Trace

    Raises
    ------
    ValueError
        For a bad size, seed or scenario parameter (the message names it).

    Examples
    --------
    >>> import mecopt.longterm as lt
    >>> tr = lt.trace(n_devices=5, horizon=20, seed=1)
    >>> tr.batch, tr.horizon, tr.n_devices, tr.n_servers
    (1, 20, 5, 4)
    """
    if not isinstance(scenario, str | LongtermScenario):
        raise ValueError(f"scenario = {scenario!r}: must be a scenario name or a LongtermScenario")
    scen = make_scenario(scenario, **overrides)
    n_devices = _check_count("n_devices", n_devices, 1)
    horizon = _check_count("horizon", horizon, 1)
    if isinstance(seed, str | bytes | bool | float) or not isinstance(
        seed, int | np.integer | Sequence | np.ndarray
    ):
        raise ValueError(f"seed = {seed!r}: must be a whole number >= 0 or a list of them")
    seeds = [seed] if isinstance(seed, int | np.integer) else list(seed)
    if not seeds:
        raise ValueError("seed: give at least one seed")
    seeds = [_check_count("seed", s, 0) for s in seeds]
    check_trace_size(n_devices, horizon, len(seeds))
    with np.errstate(all="ignore"):  # extreme parameters are reported below, by name
        draws = [_draw(scen, n_devices, horizon, s) for s in seeds]
    stacked = {name: np.stack([d[name] for d in draws]) for name in ARRAY_FIELDS}
    try:
        return Trace(scenario=scen, seeds=tuple(seeds), **stacked)
    except TraceFormatError as exc:  # e.g. a path loss that underflows to a zero gain
        given = ", ".join(f"{k} = {v!r}" for k, v in overrides.items()) or "its parameters"
        raise ValueError(
            f"scenario {scen.name!r} with {given} draws a trace outside the physical range ({exc})"
        ) from None
