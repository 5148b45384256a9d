"""Single-slot heuristics: GOA and the baselines of the published system, on a shared greedy
engine."""

from mecopt.heuristics.goa_baselines import edge_all, goa, local_all, min_delay, random_offload
from mecopt.heuristics.greedy import greedy_loop, greedy_vectorised
from mecopt.heuristics.greedy_fast import greedy_fast

__all__ = [
    "edge_all",
    "goa",
    "greedy_fast",
    "greedy_loop",
    "greedy_vectorised",
    "local_all",
    "min_delay",
    "random_offload",
]
