"""Checks the driver makes before it picks a model, and the trivial bound.

The out-of-range "method" lives here too: instances whose costs no solver can represent
get the heuristics' best answer with the trivial bound.
"""

from __future__ import annotations

import numpy as np

from mecopt.formulations.option_cost import cost_table, local_cost, must_offload
from mecopt.instance import Instance
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.params import PARAMS
from mecopt.solvers.exact.state import SolveState

#: Largest option cost (s) the MILP and LP solvers are given; beyond it coefficients lose
#: meaning in double precision next to the millisecond-sized ones (solvers treat 1e20 as
#: infinite).
NUMERIC_RANGE_S = PARAMS.numeric_range_s


def trivial_bound(inst: Instance, table: np.ndarray) -> float:
    """Mean over users of their cheapest option alone on an ES (or local if allowed).

    ``table`` is :func:`~mecopt.formulations.option_cost.cost_table` (costs never fall
    as n grows, so n = 1 is each ES's cheapest count).
    """
    alone = np.min(table[:, :, 0], axis=1)
    home = np.where(must_offload(inst), np.inf, local_cost(inst))
    return float(np.mean(np.minimum(alone, home)))


def lone_trivial_bound(inst: Instance) -> float:
    """:func:`trivial_bound` from the costs of one user per ES (overflow ignored)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return trivial_bound(inst, cost_table(inst, 1))


def numeric_range_ok(inst: Instance, limit: float = NUMERIC_RANGE_S) -> bool:
    """True when every local cost and every lone offload cost is within ``limit`` s."""
    with np.errstate(over="ignore", invalid="ignore"):
        home = local_cost(inst)
        alone = cost_table(inst, 1)
    values = np.concatenate([home.ravel(), alone.ravel()])
    values = values[~np.isposinf(values)]
    return bool(np.all(np.isfinite(values)) and np.all(np.abs(values) <= limit))


def estimated_columns(inst: Instance) -> int:
    """Upper estimate of the count-indexed model's columns, ``N (N + 1) M / 2``."""
    n = int(inst.count_limit.max(initial=0))
    return inst.n_users * min(n, inst.n_users) * inst.n_servers // 2 + n * inst.n_servers


def accepts(state: SolveState) -> bool:
    """Costs beyond the solvers' numeric range (a 1e308 s local delay, 1e308-bit prompts)."""
    return not numeric_range_ok(state.free, state.params.numeric_range_s)


def run(state: SolveState) -> Outcome:
    """The heuristics' best answer with the trivial bound (both computed by the
    evaluator's own arithmetic)."""
    return Outcome(bounds={"trivial": lone_trivial_bound(state.free)},
                   message="costs beyond the solvers' numeric range (more than "
                           f"{state.params.numeric_range_s:g} s): heuristic answer with the "
                           "trivial bound")
