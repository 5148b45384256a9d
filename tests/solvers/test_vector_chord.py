"""Closing count vectors with the chord model (:mod:`mecopt.solvers.exact.vector_chord`)
and the interference search that uses it: the brute-force optimum is found and never
undercut by the bound (N = 6, every tiny other-cells case), a deadline never claims more
than was proven, and the LP bound tightening keeps every integer solution."""

import itertools
import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import INTERFERENCE_CASES, interference_case

import mecopt
from mecopt.formulations.interference.chord import ChordTables
from mecopt.formulations.milp import MS
from mecopt.solvers.exact import vector_chord
from mecopt.solvers.exact.interference_dual import search
from mecopt.solvers.exact.vector_chord import Box, Incumbent, close_vectors
from mecopt.solvers.highs_matrix import column_ranges, lp_bound, solve_matrix

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


def _vector_optima(inst: mecopt.Instance) -> dict[tuple[int, ...], float]:
    """The least true total cost (ms) of each count vector, by enumeration."""
    score, best = _score(inst), {}
    for a in itertools.product(range(-1, inst.n_servers), repeat=inst.n_users):
        a = np.array(a)
        key = tuple(np.bincount(a[a >= 0], minlength=inst.n_servers))
        best[key] = min(best.get(key, np.inf), score(a))
    return best


@pytest.mark.parametrize("kind,seed", CASES[::2])
def test_closing_at_a_level_bounds_each_vector_validly(kind, seed):
    """Closing a vector at a level below the incumbent raises its bound to the level (or
    to its optimum, when that is lower), never above its optimum."""
    inst = interference_case(kind, seed)
    t, optima = ChordTables.of(inst), _vector_optima(inst)
    start = _start(inst)
    for key, best in optima.items():
        if not np.isfinite(best):
            continue
        for level in (0.99 * best, 1.01 * best):
            inc = Incumbent(start, _score(inst)(start), 1e-4)
            counts = np.array(key)
            box = Box(counts, *t.interference_range(counts), -np.inf)
            vector_chord._close_at(t, box, inc, _score(inst), None, threading.Lock(), level)
            assert box.bound <= best * (1 + 1e-9)
            assert box.bound >= min(level, inc.cutoff, best) * (1 - 1e-4)


@pytest.mark.parametrize("kind,seed", CASES)
def test_level_passes_find_the_optimum(kind, seed, monkeypatch):
    """With no probe, the closing runs by levels from the start (as when the rate is too
    low to close every vector in time) and still ends at the proven optimum."""
    monkeypatch.setattr(vector_chord, "PROBE", 0.0)
    inst = interference_case(kind, seed)
    ref = mecopt.solve(inst, "bruteforce")
    scale = inst.n_users * MS
    start = _start(inst)
    inc = Incumbent(start, _score(inst)(start), 1e-4)
    floor = ref.objective * scale - 0.5 * abs(ref.objective * scale)
    vectors = [(floor, v) for _, v in _vectors(inst)]
    bound = close_vectors(ChordTables.of(inst), vectors, inc, _score(inst),
                          time.perf_counter() + 600.0, 2)
    assert inc.total / scale == pytest.approx(ref.objective, rel=1e-4)
    assert bound / scale <= ref.objective * (1 + 1e-9)
    assert bound >= inc.total * (1 - 1e-4)


def test_level_is_halfway_at_most_and_full_without_a_bound():
    bounds = [1.0, 2.0, 3.0, 9.0]
    assert vector_chord._level(bounds, 2, 10.0) == 3.0  # the first vector beyond the room
    assert vector_chord._level(bounds, 3, 10.0) == 5.5  # at most halfway to the cutoff
    assert vector_chord._level(bounds, 0, 10.0) == 5.5
    assert vector_chord._level([1.0, 1.0, 4.0], 1, 10.0) == 5.5  # ties: halfway
    assert vector_chord._level([-np.inf, 2.0], 1, 10.0) == 10.0


@pytest.mark.parametrize("seed", range(5))
def test_lp_bound_is_the_lp_optimum_or_the_cutoff(seed):
    rng = np.random.default_rng(seed)
    n = 8
    c = rng.uniform(0.1, 2.0, size=n)
    a = sp.csr_matrix(rng.uniform(0.0, 1.0, size=(4, n)))
    row_lo, row_hi = np.full(4, 1.0), np.full(4, np.inf)
    lo, hi = np.zeros(n), np.ones(n)
    lp = solve_matrix(c, 3.0, a, row_lo, row_hi, lo, hi, None)
    assert lp.status == "optimal"
    above = lp_bound(c, 3.0, a, row_lo, row_hi, lo, hi, lp.objective + 1.0)
    assert above == pytest.approx(lp.objective, abs=1e-7)
    below = lp_bound(c, 3.0, a, row_lo, row_hi, lo, hi, lp.objective - 0.5)
    assert lp.objective - 0.5 <= below <= lp.objective + 1e-7
    # No point satisfies a row above what the columns can reach: infeasible.
    assert lp_bound(c, 3.0, a, np.full(4, 100.0), row_hi, lo, hi, 1e9) == np.inf


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
