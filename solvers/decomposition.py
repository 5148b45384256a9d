"""Old import path (kept until 05:00): :mod:`mecopt.solvers.exact.decomposition`."""

import sys

from mecopt.solvers.exact import decomposition

sys.modules[__name__] = decomposition
