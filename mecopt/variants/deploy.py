"""Old import path of :mod:`mecopt.deploy`, kept for callers not yet moved (to be removed)."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("mecopt.deploy")
