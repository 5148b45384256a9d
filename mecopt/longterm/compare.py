"""Old import path of :mod:`mecopt.longterm.policy_comparison`, kept for callers not yet moved
(to be removed)."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("mecopt.longterm.policy_comparison")
