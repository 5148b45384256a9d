"""Moved to :mod:`mecopt.longterm.hindsight` (the solver and policy); this alias goes at 05:00."""

from mecopt.longterm.hindsight import *  # noqa: F403
from mecopt.longterm.hindsight import HindsightResult, make_policy, solve_hindsight  # noqa: F401
from mecopt.longterm.hindsight_solve import trivial_bound as _trivial_bound  # noqa: F401
