"""Old import path (kept until 05:00): the decomposition's rounds are
:mod:`mecopt.solvers.exact.rounds` (the method itself :mod:`mecopt.solvers.exact.decomposition`)."""

import sys

from mecopt.solvers.exact import rounds

sys.modules[__name__] = rounds
