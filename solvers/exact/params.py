"""Tuning constants of the exact driver in one record (as PyVRP's ``SolveParams``).

Why each value is what it is: ``benchmarks/exact_scale/README.md`` ("Why the driver's
constants are what they are").
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ExactParams:
    """Every tuning constant of :func:`mecopt.solvers.exact.solve_exact`.

    Shares are of the time left unless said otherwise; budgets are seconds.
    """

    #: Models with more columns than this get the Lagrangian step before the backend.
    large_model_cols: int = 100_000
    #: Seconds for the Lagrangian step when there is no time limit.
    lagrangian_budget: float = 30.0
    #: Share of the time limit the Lagrangian step gets before the backend on large models.
    lagrangian_share: float = 0.25
    #: Share of the time left that the backend leaves for the Lagrangian fallback.
    reserve_share: float = 0.2
    #: Relative slack allowed before a bound above the best objective is called faulty.
    bound_slack: float = 1e-9
    #: From this many users on, ``"auto"`` takes the decomposition (see the README).
    decomposition_n: int = 100
    #: Above this many users, an instance with a side row takes the decomposition.
    side_row_decomposition_n: int = 40
    #: With interference, instances with at most this many assignments are enumerated.
    enumeration_limit: int = 500_000
    #: Below this many users, ``"auto"`` takes an interval method on other-cells
    #: instances too large to enumerate; from it on, the interference-free path.
    intervals_n: int = 30
    #: Without a time limit, ``"auto"`` takes ``"intervals"`` only up to this many users.
    intervals_unlimited_n: int = 12
    #: Without a time limit, ``"auto"`` takes ``"count-intervals"`` only up to this many.
    count_intervals_unlimited_n: int = 30
    #: Share of the time left the interval methods leave for the final bound and local
    #: search, at most ``intervals_reserve_s`` seconds.
    intervals_reserve: float = 0.1
    intervals_reserve_s: float = 3.0
    #: Seconds (at most) of best responses, and their largest share of a time limit.
    best_response_budget: float = 3.0
    best_response_share: float = 0.1
    #: Seconds (at most) of multiplier ascent for the interference-aware bound.
    interference_bound_budget: float = 1.0
    #: With one side row, share of the time left the decomposition's ascent may take.
    decomposition_side_share: float = 0.25
    #: Share of the time left after the side-row search for exact fixed-count descent.
    side_exact_share: float = 0.6
    #: Seconds of HiGHS presolve per column of a reduced model with a side row (presolve
    #: does not check the time limit).
    side_presolve_seconds_per_col: float = 4e-4
    #: Share of the time left the side-row multiplier search may take.
    side_search_share: float = 0.7
    #: Seconds of ``lns`` among the seeds (at most a tenth of the time limit).
    lns_budget: float = 2.0
    #: A run that ends unproven after this share of its time limit was stopped by it.
    time_limit_share: float = 0.9
    #: Largest option cost (s) the MILP and LP solvers are given (double precision).
    numeric_range_s: float = 1e9


#: The defaults.
PARAMS = ExactParams()
