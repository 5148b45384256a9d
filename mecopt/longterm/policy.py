"""Old import path of :mod:`mecopt.longterm.protocol`, :mod:`mecopt.longterm.baselines` and
:mod:`mecopt.longterm.policy_registry`, kept for callers not yet moved (to be removed)."""

from mecopt.longterm.baselines import *  # noqa: F403
from mecopt.longterm.policy_registry import *  # noqa: F403
from mecopt.longterm.policy_registry import _lazy  # noqa: F401
from mecopt.longterm.protocol import *  # noqa: F403
