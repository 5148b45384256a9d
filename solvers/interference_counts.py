"""Old import path (kept until 05:00): :mod:`mecopt.solvers.exact.count_intervals`."""

import sys

from mecopt.solvers.exact import count_intervals

sys.modules[__name__] = count_intervals
