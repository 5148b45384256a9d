"""The synthetic default profile: records drawn from an assumed (not measured) curve."""

from __future__ import annotations

import numpy as np

from mecopt.profiles.curves import LinearCurve
from mecopt.profiles.profile import Profile
from mecopt.profiles.provenance import Provenance
from mecopt.profiles.records import ProfileRecords

__all__ = ["SYNTHETIC_EDGE", "SYNTHETIC_LOCAL", "synthetic_profile"]

#: The assumed accuracy curves: acc_local = 0.9 - 0.9 alpha, acc_edge = 0.86 - 0.6 alpha.
SYNTHETIC_LOCAL = LinearCurve(0.9, -0.9)
SYNTHETIC_EDGE = LinearCurve(0.86, -0.6)

#: Mean device-model generation time (seconds) used for the synthetic latencies.
_LOCAL_LATENCY_MEAN_S = 0.0358
#: Edge-model time as a multiple of the device time (an 8B versus a 1B model).
_EDGE_FACTOR = 8.0


def synthetic_profile(n: int = 4000, *, seed: int = 0) -> Profile:
    """Build the synthetic profile (labelled synthetic in its provenance).

    alpha ~ Beta(2, 2); outcomes ~ Bernoulli of :data:`SYNTHETIC_LOCAL` and
    :data:`SYNTHETIC_EDGE` (which are also the profile's curves, exactly); device latency
    lognormal with mean 35.8 ms and 25 % spread; edge latency 8 times the device latency;
    prompt size uniform on 150-600 bytes; 1-5 output tokens.

    Parameters
    ----------
    n
        Number of records.
    seed
        Seed of the generator drawing them.

    Returns
    -------
    Profile
        The profile named "synthetic".
    """
    rng = np.random.default_rng(seed)
    alpha = rng.beta(2.0, 2.0, size=n)
    local_correct = rng.random(n) < SYNTHETIC_LOCAL(alpha)
    edge_correct = rng.random(n) < SYNTHETIC_EDGE(alpha)
    sigma = 0.25
    local = _LOCAL_LATENCY_MEAN_S * rng.lognormal(-(sigma**2) / 2, sigma, size=n)
    records = ProfileRecords(
        alpha=alpha,
        local_correct=local_correct,
        edge_correct=edge_correct,
        local_latency_s=local,
        edge_latency_s=_EDGE_FACTOR * local,
        prompt_bytes=rng.integers(150, 601, size=n),
        output_tokens=rng.integers(1, 6, size=n),
    )
    provenance = Provenance(
        description="SYNTHETIC: drawn from assumed linear accuracy curves, not measured",
        synthetic=True,
        models={
            "local": {"name": "synthetic device model", "curve": SYNTHETIC_LOCAL.to_dict()},
            "edge": {"name": "synthetic edge model", "curve": SYNTHETIC_EDGE.to_dict()},
        },
        dataset={
            "name": "none (synthetic)",
            "n": n,
            "seed": seed,
            "alpha": "Beta(2, 2)",
            "prompt_bytes": "uniform 150-600",
            "local_latency_s": "lognormal, mean 0.0358, sigma 0.25",
            "edge_latency_s": "8 x local_latency_s",
        },
        date="n/a",
        hardware={"note": "none (synthetic)"},
        software={"note": "none (synthetic)"},
    )
    return Profile("synthetic", records, provenance, SYNTHETIC_LOCAL, SYNTHETIC_EDGE)
