"""Old import path (kept until 05:00): :mod:`mecopt.solvers.exact.count_enumeration`."""

import sys

from mecopt.solvers.exact import count_enumeration

sys.modules[__name__] = count_enumeration
