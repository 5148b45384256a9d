"""Old import path (kept until 05:00): :mod:`mecopt.solvers.exact.side_multiplier`."""

import sys

from mecopt.solvers.exact import side_multiplier

sys.modules[__name__] = side_multiplier
