"""Independent validity oracles for the fuzzed surfaces (issue 22, section 3).

Each rule here is written from the documented meaning of a field, not taken from mecopt's
own checks, so that an input mecopt accepts but the oracle calls invalid is counted as a
*silent acceptance of nonsense*. ``None`` means the oracle cannot tell (the outcome is
judged by the output alone).
"""

from __future__ import annotations

import math
from typing import Any


def is_real(v: Any) -> bool:
    """A finite JSON/Python number that is not a boolean."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))


def is_whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _range(low: float | None = None, high: float | None = None, *, lo_open: bool = False,
           hi_open: bool = False):
    def ok(v: Any) -> bool | None:
        if not is_real(v):
            return False
        x = float(v)
        if low is not None and (x <= low if lo_open else x < low):
            return False
        return not (high is not None and (x >= high if hi_open else x > high))

    return ok


def _one_of(*names: str):
    return lambda v: isinstance(v, str) and v in names


POS = _range(0.0, lo_open=True)
NONNEG = _range(0.0)
UNIT = _range(0.0, 1.0)

#: Long-term scenario parameters: documented meaning -> validity of a value.
SCENARIO_RULES: dict[str, Any] = {
    "n_servers": lambda v: is_whole(v) and 1 <= v <= 9,
    "slot_s": POS,
    "arrival": _one_of("bernoulli", "poisson"),
    "arrival_rate": _range(0.0, 1.0, lo_open=True),  # with Bernoulli arrivals (the default)
    "profile": _one_of("synthetic", "babi-tiny"),
    "device": _one_of("phone-1b", "phone-1b-lowpower"),
    "edge_hallucination_share": UNIT,
    "edge_work_factor": POS,
    "context_bytes": NONNEG,
    "area_m": POS,
    "carrier_hz": POS,
    "tx_power_w": POS,
    "bandwidth_hz": POS,
    "noise_w_per_hz": POS,
    "fading_rho": _range(0.0, 1.0, hi_open=True),
    "speed_mps": NONNEG,
    "es_capacity_flops": POS,
    "capacity_spread": _range(0.0, 1.0, hi_open=True),
    "per_user_cap_flops": POS,
    "energy_budget_j": NONNEG,
    # above ~0.56 the target is infeasible for the profile: either answer is right then
    "min_accuracy": lambda v: None if v is None or (is_real(v) and 0.5 < v <= 1) else UNIT(v),
    "max_hallucination": lambda v: None if v is None or (is_real(v) and 0 <= v < 0.3)
    else UNIT(v),
}


def judge(rules: dict[str, Any], values: dict[str, Any], unknown: bool | None = False
          ) -> bool | None:
    """False if any value breaks its rule (a key without a rule counts as ``unknown``),
    else None if any is undecidable, else True."""
    verdict: bool | None = True
    for key, value in values.items():
        rule = rules.get(key)
        v = unknown if rule is None else rule(value)
        if v is False:
            return False
        if v is None:
            verdict = None
    return verdict


def scenario_valid(overrides: dict[str, Any]) -> bool | None:
    """Validity of scenario overrides (False if any is invalid, None if any is unsure)."""
    verdict = judge(SCENARIO_RULES, overrides)
    if verdict is False:
        return False
    # the hallucination share, profile and device move what the quality targets can reach
    if verdict and set(overrides) & {"edge_hallucination_share", "profile", "device"}:
        verdict = None
    # extreme but legal physics (1e300 m areas...) may legitimately fail downstream
    if verdict and any(is_real(v) and not 1e-30 < abs(float(v)) < 1e30
                       for k, v in overrides.items()
                       if k not in ("n_servers", "context_bytes", "speed_mps",
                                    "energy_budget_j", "capacity_spread", "fading_rho",
                                    "edge_hallucination_share", "min_accuracy",
                                    "max_hallucination") and v != 0):
        return None
    return verdict


_SOLVERS = ("highs", "ortools-mip", "exact", "goa")
_ONLINE = ("local", "offload", "random", "greedy", "goa", "myopic-optimal", "lyapunov")

#: Options of the long-term policies: name -> option -> validity.
POLICY_OPTIONS: dict[str, dict[str, Any]] = {
    "local": {}, "offload": {}, "greedy": {},
    "random": {"p_offload": UNIT},
    "goa": {"tau": lambda v: v is None or UNIT(v)},
    "myopic-optimal": {"solver": lambda v: None if isinstance(v, str) and v else False,
                       "time_limit": lambda v: v is None or POS(v)},
    "lyapunov": {"V": POS, "solver": lambda v: None if isinstance(v, str) and v else False,
                 "time_limit": lambda v: v is None or POS(v)},
    "hindsight": {"time_limit": lambda v: v is None or POS(v),
                  "threads": lambda v: is_whole(v) and v >= 1,
                  "gap_tol": NONNEG, "margin": _range(0.0, 1.0, lo_open=True, hi_open=True),
                  "lp_counts": lambda v: is_whole(v) and v >= 1,
                  "incumbents": lambda v: v is None or (isinstance(v, list) and all(
                      isinstance(x, str) and x in _ONLINE for x in v))},
}


def policy_valid(policy: str, options: dict[str, Any]) -> bool | None:
    table = POLICY_OPTIONS.get(policy)
    return False if table is None else judge(table, options)


def _finite32(rule: Any) -> Any:
    """The networks compute in float32 (largest value 3.4e38): above 1e30 a coefficient is
    invalid; between 10 and 1e30 the oracle cannot tell (legal, if odd)."""

    def ok(v: Any) -> bool | None:
        if not rule(v):
            return False
        if abs(float(v)) > 1e30:
            return False
        return None if abs(float(v)) > 10 else True

    return ok


#: Learner options (SB3 PPO names and the learners' own) -> validity.
LEARNER_RULES: dict[str, Any] = {
    "n_steps": lambda v: is_whole(v) and v >= 1,
    "batch_size": lambda v: is_whole(v) and v >= 2,
    "n_epochs": lambda v: is_whole(v) and v >= 1,
    "gamma": _range(0.0, 1.0, lo_open=True),
    "gae_lambda": UNIT,
    "clip_range": _finite32(POS),
    "ent_coef": _finite32(NONNEG),
    "vf_coef": _finite32(NONNEG),
    "max_grad_norm": _finite32(POS),
    "learning_rate": _range(0.0, 1.0, lo_open=True),
    "wm_hidden": lambda v: is_whole(v) and v >= 1,
    "wm_horizon": lambda v: is_whole(v) and v >= 1,
    "value_mix": UNIT,
    "pool_length": lambda v: is_whole(v) and v >= 1,
    "pool_size": lambda v: is_whole(v) and v >= 1,
}


def learner_valid(options: dict[str, Any], known: set[str]) -> bool | None:
    """Validity of learner options; ``known`` is the set of names the learner takes."""
    for key in options:
        if key not in known and key not in ("pool_length", "pool_size"):
            return False
    return judge(LEARNER_RULES, options, unknown=None)


# ---------------------------------------------------------------- trace cells

UNIT_FIELDS = ("alpha", "acc_local", "acc_edge", "hall_local", "hall_edge")
POSITIVE_ON_QUERY = ("local_delay", "prompt_bits", "edge_work")
NONNEG_FIELDS = ("local_energy", "device_wait", "energy_budget")
POSITIVE_FIELDS = ("gain", "tx_power", "capacity", "per_user_cap", "bandwidth", "noise")


def cell_valid(field: str, value: float, has_query: bool, other_acc: float | None) -> bool:
    """Is ``value`` a meaningful entry of trace array ``field`` (one cell)?"""
    if not math.isfinite(value):
        return False
    if field in UNIT_FIELDS:
        if not 0 <= value <= 1:
            return False
        # a hallucination is a wrong answer: P(hallucination) <= 1 - P(correct)
        if field.startswith("hall_") and other_acc is not None and value > 1 - other_acc + 1e-9:
            return False
        if field.startswith("acc_") and other_acc is not None and other_acc > 1 - value + 1e-9:
            return False
        return True
    if field in POSITIVE_ON_QUERY:
        return value > 0 if has_query else value >= 0
    if field in NONNEG_FIELDS:
        return value >= 0
    if field in POSITIVE_FIELDS:
        return value > 0
    return True  # position: any finite coordinate
