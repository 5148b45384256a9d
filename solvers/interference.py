"""Old import path (kept until 05:00): :mod:`mecopt.solvers.exact.intervals`."""

import sys

from mecopt.solvers.exact import intervals

sys.modules[__name__] = intervals
