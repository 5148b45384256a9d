"""A small random family for tests: every quantity uniform over a range chosen so that
local answering, uplink delay and edge contention all matter.

With these ranges an ES at load 1 is usually faster than the device, and at loads of a
few users often slower, so optima mix local and offloaded users and spread them across
ESs. There is no uncertainty rule by default (``tau=None``).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def build(
    n_users: int,
    streams: dict[str, np.random.Generator],
    *,
    n_servers: int = 3,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Draw the fields of a uniform instance with ``n_servers`` ESs."""
    if isinstance(n_servers, bool) or not isinstance(n_servers, int | np.integer) or n_servers < 1:
        raise ValueError(f"n_servers = {n_servers!r}: must be a whole number >= 1")
    m = int(n_servers)
    place, fade, comp, q, cv = (streams[k] for k in ("place", "fading", "compute", "query",
                                                      "curve"))
    per_user_cap = comp.uniform(1.0, 2.0, size=m) * 1e15
    alpha = cv.uniform(0.0, 1.0, size=n_users)
    acc_local = np.clip(0.95 - 0.8 * alpha + cv.uniform(-0.05, 0.05, size=n_users), 0, 1)
    acc_edge = np.clip(0.9 - 0.3 * alpha + cv.uniform(-0.05, 0.05, size=n_users), 0, 1)
    fields = {
        "alpha": alpha,
        "acc_local": acc_local,
        "acc_edge": acc_edge,
        "local_delay": q.uniform(0.02, 0.05, size=n_users),
        "prompt_bits": q.uniform(1e5, 1e6, size=n_users),
        "edge_work": q.uniform(5e12, 3e13, size=n_users),
        "tx_power": np.full(n_users, 0.2),
        # SNR between 1 and 1000 at unit noise power.
        "gain": 5.0 * 10.0 ** place.uniform(0.0, 3.0, size=(n_users, m)) * fade.uniform(
            0.5, 1.0, size=(n_users, m)
        ),
        "bandwidth": np.full(m, 10e6),
        "noise": np.ones(m),
        "capacity": per_user_cap * comp.uniform(1.0, 4.0, size=m),
        "per_user_cap": per_user_cap,
    }
    return fields, {}
