"""Old import path (kept until 05:00): :mod:`mecopt.solvers.exact.best_response`."""

import sys

from mecopt.solvers.exact import best_response

sys.modules[__name__] = best_response
