"""Heuristic policies: GOA and the baselines, on a shared greedy engine."""

from mecopt.heuristics.greedy import greedy_loop, greedy_vectorised
from mecopt.heuristics.greedy_fast import greedy_fast
from mecopt.heuristics.policies import edge_all, goa, local_all, min_delay, random_offload

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
