"""Closing count vectors with the chord model (:mod:`mecopt.solvers.exact.vector_chord`)
and the interference search that uses it: the brute-force optimum is found and never
undercut by the bound (N = 6, every tiny other-cells case), a deadline never claims more
than was proven, and the LP bound tightening keeps every integer solution."""

import itertools
import time

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import INTERFERENCE_CASES, interference_case

import mecopt
from mecopt.formulations.interference.chord import ChordTables
from mecopt.formulations.milp import MS
from mecopt.solvers.exact.interference_dual import search
from mecopt.solvers.exact.vector_chord import Incumbent, close_vectors
from mecopt.solvers.highs_matrix import column_ranges

CASES = [c for c in INTERFERENCE_CASES if c[0] != "infeasible"]


def _vectors(inst: mecopt.Instance) -> list[tuple[float, np.ndarray]]:
    """Every count vector within the ES limits, with no bound of its own."""
    limits = [range(min(int(c), inst.n_users) + 1) for c in inst.count_limit]
    return [(-np.inf, np.array(v)) for v in itertools.product(*limits)
            if sum(v) <= inst.n_users]


def _score(inst: mecopt.Instance):
    def score(a: np.ndarray) -> float:
        m = mecopt.evaluate(inst, a)
        return m.objective * inst.n_users * MS if m.feasible else np.inf
    return score


def _start(inst: mecopt.Instance) -> np.ndarray:
    """A feasible but poor start: the worst feasible answer of a few heuristics."""
    picks = [mecopt.solve(inst, name, seed=0) for name in ("goa", "random", "local-all", "lns")]
    feasible = [p for p in picks if p.assignment is not None and p.metrics.feasible]
    return max(feasible, key=lambda p: p.objective).assignment


@pytest.mark.parametrize("kind,seed", CASES)
@pytest.mark.parametrize("threads", [1, 2])
def test_close_every_vector_finds_the_bruteforce_optimum(kind, seed, threads):
    inst = interference_case(kind, seed)
    ref = mecopt.solve(inst, "bruteforce")
    assert ref.status == "optimal"
    scale = inst.n_users * MS
    start = _start(inst)
    inc = Incumbent(start, _score(inst)(start), 1e-4)
    bound = close_vectors(ChordTables.of(inst), _vectors(inst), inc, _score(inst), None,
                          threads)
    assert inc.total / scale == pytest.approx(ref.objective, rel=1e-4)
    assert inc.total / scale >= ref.objective * (1 - 1e-12)
    assert bound / scale <= ref.objective * (1 + 1e-9)
    assert bound >= inc.total * (1 - 1e-4)


def test_past_deadline_claims_nothing_more():
    inst = interference_case("plain", 0)
    ref = mecopt.solve(inst, "bruteforce")
    scale = inst.n_users * MS
    start = _start(inst)
    inc = Incumbent(start, _score(inst)(start), 1e-4)
    vectors = [(1.0, v) for _, v in _vectors(inst)]
    bound = close_vectors(ChordTables.of(inst), vectors, inc, _score(inst),
                          time.perf_counter() - 1.0, 2)
    assert bound == 1.0  # the vectors' own bounds, nothing proven beyond them
    assert bound / scale <= ref.objective


@pytest.mark.parametrize("seed", range(3))
def test_search_matches_count_intervals(seed):
    """The interference search (ascent, listing, chord closing) on N = 12 proves the
    optimum the count-intervals method finds."""
    inst = mecopt.scenario("kim2026-published", 12, seed, tau=0.8)
    ref = mecopt.solve(inst, "highs", formulation="count-intervals", time_limit=120, threads=1)
    assert ref.status == "optimal"
    start = _start(inst)
    found, bound = search(inst, start, mecopt.evaluate(inst, start).objective, 1e-4, None, 2)
    best = start if found is None else found
    objective = mecopt.evaluate(inst, best).objective
    assert objective == pytest.approx(ref.objective, rel=1e-4)
    assert bound <= ref.objective * (1 + 1e-9)
    assert bound >= objective * (1 - 1e-4)


@pytest.mark.parametrize("seed", range(5))
def test_column_ranges_keep_every_integer_solution(seed):
    """LP bound tightening under a cutoff never cuts off an integer point below it."""
    rng = np.random.default_rng(seed)
    n = 6
    c = rng.normal(size=n)
    a = sp.csr_matrix(rng.integers(-2, 3, size=(3, n)).astype(float))
    row_lo, row_hi = np.full(3, -2.0), np.full(3, 2.0)
    points = np.array(list(itertools.product(range(3), repeat=n)), float)
    ax = points @ a.T.toarray()
    ok = np.all((ax >= row_lo) & (ax <= row_hi), axis=1)
    values = points[ok] @ c
    cutoff = float(np.quantile(values, 0.3))
    found = column_ranges(c, 0.0, a, row_lo, row_hi, np.zeros(n), np.full(n, 2.0),
                          np.arange(n), cutoff)
    assert found is not None
    least, most = found
    inside = points[ok][values <= cutoff]
    assert np.all(inside >= least - 1e-9) and np.all(inside <= most + 1e-9)
    # An impossible cutoff: the LP is infeasible.
    assert column_ranges(c, 0.0, a, row_lo, row_hi, np.zeros(n), np.full(n, 2.0),
                         np.arange(n), float(values.min()) - 100.0) is None


def test_search_with_an_energy_budget_falls_back_to_a_valid_bound():
    """An energy budget breaks the chord's concavity: the search keeps the per-vector
    Lagrangian, and its bound stays below the brute-force optimum."""
    inst = interference_case("plain", 2)
    everyone_off = mecopt.evaluate(inst, np.zeros(inst.n_users, np.int64))
    # A budget below some users' uplink energy on ES 0, above their local energy.
    budget = np.maximum(0.8 * everyone_off.energy, mecopt.evaluate(
        inst, np.full(inst.n_users, -1)).energy * 1.01)
    inst = inst.replace(energy_budget=budget)
    ref = mecopt.solve(inst, "bruteforce")
    assert ref.status == "optimal"
    start = _start(inst)
    found, bound = search(inst, start, mecopt.evaluate(inst, start).objective, 1e-4, None, 2)
    assert found is None  # the fallback finds no answers of its own
    assert bound is not None and bound <= ref.objective * (1 + 1e-9)
