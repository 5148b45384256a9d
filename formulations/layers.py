"""Old import path of the per-layer costs and the layer model (kept until the callers move).

:class:`LayerCosts` and :class:`SideRow` now live in :mod:`mecopt.formulations.option_cost`,
:func:`build_layers` in :mod:`mecopt.formulations.count_indexed`.
"""

from mecopt.formulations.count_indexed import build_layers
from mecopt.formulations.option_cost import CACHE_BYTES, LayerCosts, SideRow

__all__ = ["CACHE_BYTES", "LayerCosts", "SideRow", "build_layers"]
