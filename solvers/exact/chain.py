"""The ``auto`` rule of the exact driver as an ordered table (as cvxpy builds its solving
chain): the driver tries the rows in order; a row runs when its predicate accepts the
solve; the first outcome that ends the solve (an answer with a message, or a proof of
infeasibility) ends the chain. A named formulation is accepted by its own row only (the
rows that add candidates, and the guard against costs out of range, still run).
"""

from __future__ import annotations

from collections.abc import Callable

from mecopt.solvers.exact import (
    best_response,
    big_m,
    checks,
    count_indexed,
    count_intervals,
    decomposition,
    enumeration,
    intervals,
)
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import SolveState

Row = tuple[str, Callable[[SolveState], Outcome], Callable[[SolveState], bool]]

#: (method, run, accepts), in the order tried. What each accepts under ``"auto"``:
CHAIN: tuple[Row, ...] = (
    # interference and at most enumeration_limit assignments: exact; ends when finished
    ("enumeration", enumeration.run, enumeration.accepts),
    # interference: best responses join the candidates (never ends the chain)
    ("best-response", best_response.run, best_response.accepts),
    # other-cells below intervals_n users, HiGHS backend: exact (may not start)
    ("count-intervals", count_intervals.run, count_intervals.accepts),
    # other-cells below intervals_n users, a backend with continuous columns
    ("intervals", intervals.run, intervals.accepts),
    # costs beyond the solvers' numeric range: heuristic answer, trivial bound
    ("out-of-range", checks.run, checks.accepts),
    # by name only
    ("big-m", big_m.run, big_m.accepts),
    # from decomposition_n users, large models, side rows above side_row_decomposition_n
    ("decomposition", decomposition.run, decomposition.accepts),
    # everything else
    ("count-indexed", count_indexed.run, count_indexed.accepts),
)

#: Formulations of the exact driver.
FORMULATIONS = ("auto", "count-indexed", "decomposition", "enumeration", "count-intervals",
                "intervals", "big-m")


def accepted(state: SolveState) -> list[str]:
    """The rows whose predicate accepts ``state`` now, in order (what ``auto`` would try)."""
    return [name for name, _, accepts in CHAIN if accepts(state)]
