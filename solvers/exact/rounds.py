"""The rounds of the decomposition (:mod:`mecopt.solvers.exact.decomposition`): no full
model, bounds by Lagrangian pricing.

For instances whose count-indexed model is too large to build (about ``N^2 M / 2`` columns),
the driver never builds it:

1. ``lns`` gives the incumbent;
2. Lagrangian multipliers start from the incumbent's congestion prices
   (:func:`mecopt.formulations.bounds.lagrangian.start_multipliers`) and rise by subgradient steps;
   each step is priced per ES by partial sorts over intervals of counts, so memory stays
   O(N M);
3. the relaxation's count vector seeds a fixed-count re-optimisation and ``lns`` again;
4. if the gap is still open, **count fixing** drops every count of every ES whose
   Lagrangian bound reaches the incumbent, and the count-indexed model over the surviving
   counts (:func:`mecopt.formulations.count_indexed.build_layers`) goes to the MILP backend. A
   dropped count cannot beat the incumbent, so the backend's bound over the kept counts
   (capped by the incumbent) is a bound for the whole instance.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from mecopt.evaluate import evaluate
from mecopt.formulations.bounds.lagrangian import ascent, dual_bound, start_multipliers
from mecopt.formulations.count_indexed import CountIndexedModel, build_layers
from mecopt.formulations.fixed_count import fixed_count_assignment
from mecopt.formulations.option_cost import LayerCosts
from mecopt.heuristics.lns import lns, side_prices
from mecopt.instance import Instance
from mecopt.solvers.exact.outcome import Outcome, Units

#: Share of the time limit spent on the bound before the primal re-optimisation.
ASCENT_SHARE = 0.5
#: Largest reduced model (columns) handed to the backend.
MAX_REDUCED_COLS = 200_000
#: The same with an accuracy or hallucination row: HiGHS presolve (on for such models) does
#: not check its time limit (see ``benchmarks/exact_scale/README.md``).
MAX_REDUCED_COLS_SIDE = 40_000


@dataclasses.dataclass
class Multipliers:
    """The best Lagrangian bound of the ascent (MILP units) and its multipliers."""

    bound: float = -np.inf
    u: np.ndarray | None = None
    mu: np.ndarray | None = None
    best_count: np.ndarray | None = None
    kept_counts: list[int] | None = None


def free_objective(inst: Instance, a: np.ndarray) -> float:
    """Interference-free total cost of ``a`` in MILP units (inf if infeasible)."""
    m = evaluate(inst, a)
    return Units.of(inst).total(m.objective) if m.feasible else np.inf


def decompose(free: Instance, starts: list[np.ndarray], *, deadline: float | None,
              seed: int, report: Callable[[str, float | None, float | None], None],
              gap: float = 1e-6) -> tuple[Outcome, Multipliers, LayerCosts]:
    """Steps 1-3 of the module docstring on the interference-free instance ``free``:
    the assignments found (``lns``, ...), the best multipliers and the layer costs.

    Rounds of ascent and primal re-optimisation alternate until the gap is at most ``gap``,
    the deadline passes, or a round improves neither side; the Polyak steps of each round
    aim at the best incumbent so far.
    """
    out, state = Outcome(), Multipliers()
    costs = LayerCosts.of(free)
    rng = np.random.default_rng(seed)
    now = time.perf_counter()
    total = None if deadline is None else deadline - now
    budget = 5.0 if total is None else min(5.0, 0.1 * total)
    a = lns(free, rng, time_budget=budget, starts=starts, plan=False, policies=not starts)
    out.assignments["lns"] = a
    upper = free_objective(free, a)
    report("lns", upper, None)
    if not np.isfinite(upper):
        return out, state, costs
    mu = side_prices(costs, a) if costs.side else None
    u = start_multipliers(costs, a, mu)

    def on_bound(value: float) -> None:
        report("lagrangian", None, value)

    best_a = a
    rounds = 0
    last_gap = np.inf
    while True:
        rounds += 1
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            break
        slice_end = None if left is None else time.perf_counter() + max(0.25 * left, 0.05)
        db, u, mu = ascent(costs, u, mu, upper, deadline=slice_end, max_iter=40 * rounds,
                           progress=on_bound)
        if db.bound > state.bound:
            state.bound, state.u, state.mu = db.bound, u, mu
            state.best_count = db.best_count
        # Primal step from the relaxation's counts.
        left = None if deadline is None else deadline - time.perf_counter()
        if left is None or left > 0:
            extra = []
            b = fixed_count_assignment(costs, db.best_count, left)
            if b is not None:
                extra.append(b)
                out.assignments[f"relaxation-counts-{rounds}"] = b
            left = None if deadline is None else deadline - time.perf_counter()
            if left is None or left > 0:
                c = lns(free, rng, time_budget=5.0 if left is None else min(5.0, 0.3 * left),
                        starts=[best_a, *extra], plan=False, policies=False)
                value = free_objective(free, c)
                if value < upper * (1 - 1e-12):
                    upper, best_a = value, c
                    out.assignments["lns-relaxation"] = c
                    report("lns", value, None)
        now_gap = (upper - state.bound) / max(abs(upper), 1e-12)
        if now_gap <= gap:
            break
        # Stop when a round no longer shrinks the gap by a tenth: count fixing and the
        # backend then get the time that is left.
        if rounds >= 2 and now_gap > 0.9 * last_gap:
            break
        last_gap = now_gap
    left = None if deadline is None else deadline - time.perf_counter()
    if state.bound < upper - gap * max(abs(upper), 1e-12) and (left is None or left > 0):
        stop = None if left is None else time.perf_counter() + 0.3 * left
        c, value = count_neighbourhood(free, costs, best_a, upper, stop,
                                       extra=[state.best_count] if state.best_count is not None
                                       else [])
        if value < upper * (1 - 1e-12):
            out.assignments["count-neighbourhood"] = c
            report("count-neighbourhood", value, None)
    out.info["decomposition_rounds"] = rounds
    return out, state, costs


#: Count moves tried by :func:`count_neighbourhood`, in users.
COUNT_STEPS = (1, 3, 8)


def count_neighbourhood(free: Instance, costs: LayerCosts, a: np.ndarray, value: float,
                        deadline: float | None, extra: list[np.ndarray] | None = None,
                        ) -> tuple[np.ndarray, float]:
    """First-improvement search over count vectors, each re-optimised exactly.

    From the counts of ``a`` (and of ``extra`` count vectors), moves of 1, 3 or 8 users
    onto or off one ES, or from one ES to another, are scored by the best assignment with
    those counts (:func:`mecopt.formulations.fixed_count.fixed_count_assignment`).
    """
    n_es = free.n_servers
    eye = np.eye(n_es, dtype=np.int64)
    moves = [s * eye[j] for j in range(n_es) for s in (1, -1)]
    moves += [eye[j] - eye[k] for j in range(n_es) for k in range(n_es) if j != k]
    best_a, best = np.asarray(a), value
    current = np.bincount(best_a[best_a >= 0], minlength=n_es)
    def left() -> float | None:
        return None if deadline is None else max(deadline - time.perf_counter(), 1e-3)

    for counts in extra or []:
        b = fixed_count_assignment(costs, counts, left())
        if b is not None and free_objective(free, b) < best:
            best_a, best = b, free_objective(free, b)
            current = np.bincount(b[b >= 0], minlength=n_es)
    improved = True
    while improved:
        improved = False
        for step in COUNT_STEPS:
            for mv in moves:
                if deadline is not None and time.perf_counter() >= deadline:
                    return best_a, best
                cand = current + step * mv
                if np.any(cand < 0) or np.any(cand > costs.limit) or cand.sum() > free.n_users:
                    continue
                b = fixed_count_assignment(costs, cand, left())
                if b is None:
                    continue
                v = free_objective(free, b)
                if v < best * (1 - 1e-12):
                    best_a, best, improved = b, v, True
                    current = np.bincount(b[b >= 0], minlength=n_es)
                    break
            if improved:
                break
    return best_a, best


def reduced_model(costs: LayerCosts, state: Multipliers,
                  upper: float) -> CountIndexedModel | None:
    """Step 4: the count-indexed model over the counts that survive count fixing.

    Returns ``None`` when fixing leaves too many columns for the backend.
    """
    n_users = costs.inst.n_users
    cap = MAX_REDUCED_COLS_SIDE if costs.side else MAX_REDUCED_COLS
    fixed = dual_bound(costs, state.u, state.mu, upper=upper,
                       max_kept=max(cap // n_users, 1))
    if fixed.kept is None:
        return None
    kept = fixed.kept
    est = sum(int(k.size) for k in kept) * n_users
    state.kept_counts = [int(k.size) for k in kept]
    if est > cap:
        return None
    return build_layers(costs, kept, ~fixed.zero_kept)
