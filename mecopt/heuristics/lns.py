"""``lns``: large-neighbourhood search seeded by GOA, with exact re-optimisation.

Two neighbourhoods alternate until neither improves (or the time budget is spent):

1. **Relocation** (counts change): every single-user move (to local, or to another ES) is
   scored exactly under the interference-free model, including what the move does to the
   users already on the two ESs involved (their bandwidth and compute shares). Each user's
   best improving feasible move is a candidate; the best ``k`` candidates are applied
   together and kept only if the exact objective drops and every constraint (count
   limits, side rows, budgets: an infinite cost) still holds, ``k`` doubling after a batch
   that delivers half its predicted saving and halving otherwise (``k = 1`` is plain
   best-improvement descent). Only the ESs involved are re-scored, so a batch costs
   O(N M) whatever ``k``, and a large descent takes far fewer batches than single moves.
2. **Fixed counts** (the whole neighbourhood of assignments with the current count vector):
   a transportation problem (:func:`mecopt.formulations.fixed_count.fixed_count_assignment`:
   a min-cost flow, or with a side row a linear program whose few split users are then
   re-assigned exactly).

The batched descent runs first from the two best starts; with time left, plain descent
(``k = 1``) runs from the same starts, since the two end in different local optima.

When a constraint is violated at the start (an accuracy target GOA misses) a repair phase
first offloads the users who may not stay local (in batches) and applies the moves that buy
the missing accuracy at the least delay per unit.
With ``"other-cells"`` interference the result is finished by single-move local search under
the evaluator (:func:`mecopt.heuristics.local_search.improve`). Every answer is the best
evaluator-feasible assignment seen, so ``lns`` is never worse than GOA.
"""

from __future__ import annotations

import time

import numpy as np

from mecopt.evaluate import evaluate
from mecopt.formulations.fixed_count import fixed_count_assignment
from mecopt.formulations.option_cost import LayerCosts
from mecopt.heuristics.goa_baselines import edge_all, goa, min_delay
from mecopt.heuristics.local_search import improve
from mecopt.instance import Instance

__all__ = ["DEFAULT_BUDGET", "lns", "side_prices"]

#: Relative improvement below which a move is not taken.
_EPS = 1e-12
#: Default time budget in seconds (the exact driver passes its own).
DEFAULT_BUDGET = 5.0


class _State:
    """Assignment with cached per-ES costs at ``n_j - 1``, ``n_j`` and ``n_j + 1``."""

    def __init__(self, costs: LayerCosts, a: np.ndarray) -> None:
        self.costs = costs
        inst = costs.inst
        self.n_es = inst.n_servers
        self.a = np.array(a, dtype=np.int64)
        self.counts = np.bincount(self.a[self.a >= 0], minlength=self.n_es)
        self.cost = np.zeros((3, self.n_es, inst.n_users))  # at n-1, n, n+1
        self.total = np.zeros((3, self.n_es))
        gain = costs.side_gain()
        self.gain = gain
        self.side = gain @ (self.a >= 0) - costs.side_need() if gain.size else np.zeros(0)
        for j in range(self.n_es):
            self.refresh(j)

    def refresh(self, j: int) -> None:
        on = self.a == j
        for k, dn in enumerate((-1, 0, 1)):
            n = int(self.counts[j]) + dn
            if n < 1 or n > self.costs.limit[j]:
                self.cost[k, j] = np.inf
            else:
                self.cost[k, j] = self.costs.offload(j, n)
            self.total[k, j] = self.cost[k, j][on].sum() if on.any() else 0.0

    def objective(self) -> float:
        off = self.a >= 0
        local = self.costs.local[~off].sum()
        return float(local + self.total[1].sum())

    def deltas(self, constrained: bool = True) -> np.ndarray:
        """(N, M + 1) change of the total cost for moving each user to each ES or local
        (``inf`` for moves that break a side row, unless ``constrained`` is false)."""
        inst = self.costs.inst
        with np.errstate(invalid="ignore"):
            ins = self.cost[2] + (self.total[2] - self.total[1])[:, None]  # (M, N)
            ins = np.where(np.isfinite(ins), ins, np.inf)
            off = self.a >= 0
            es = np.where(off, self.a, 0)
            idx = np.arange(inst.n_users)
            # Saving when i leaves its ES: its own cost and the others' shift to n - 1.
            leave = self.total[1, es] - self.total[0, es] + self.cost[0, es, idx]
            leave = np.where(np.isfinite(leave), leave, self.total[1, es])
            current = np.where(off, leave, self.costs.local)
            d = np.empty((inst.n_users, self.n_es + 1))
            d[:, :self.n_es] = ins.T - current[:, None]
            d[:, self.n_es] = np.where(off & ~self.costs.forced, self.costs.local - current,
                                        np.inf)
        d[off, es[off]] = np.inf
        d[np.isnan(d)] = np.inf
        if constrained and self.gain.size:
            # Side rows: a change of offload status adds or removes gain_i.
            to_es = np.where(off[None, :], 0.0, self.gain)  # (S, N)
            to_local = np.where(off[None, :], -self.gain, 0.0)
            ok_es = np.all(self.side[:, None] + to_es >= -1e-9, axis=0)
            ok_local = np.all(self.side[:, None] + to_local >= -1e-9, axis=0)
            d[~ok_es, :self.n_es] = np.inf
            d[~ok_local, self.n_es] = np.inf
        return d

    def move(self, i: int, target: int) -> None:
        self.move_many(np.array([i]), np.array([target]))

    def move_many(self, users: np.ndarray, targets: np.ndarray) -> None:
        """Move each of ``users`` (distinct) to its target (an ES, or ``n_es`` for local)."""
        old = self.a[users].copy()
        new = np.where(targets >= self.n_es, -1, targets).astype(np.int64)
        if self.gain.size:
            self.side += self.gain[:, users] @ ((new >= 0).astype(float)
                                                - (old >= 0).astype(float))
        self.a[users] = new
        touched = set(np.unique(np.concatenate([old, new])).tolist()) - {-1}
        for j in touched:
            self.counts[j] = np.count_nonzero(self.a == j)
        for j in touched:
            self.refresh(j)

    def admissible(self, side: bool = True) -> bool:
        """Whether the counts respect the limits and (if ``side``) every side row holds."""
        return bool(np.all(self.counts <= self.costs.limit)
                    and not (side and np.any(self.side < -1e-9)))


#: Largest batch of moves :func:`_relocate` applies at once, as a share of the users.
_BATCH_SHARE = 0.02


def _relocate(state: _State, deadline: float, batched: bool = True) -> bool:
    """Apply improving single-user moves until none is left (or the deadline passes).

    Each user's best move is scored exactly against the current assignment. Moves are
    applied in batches of the best ``k`` users' moves (each user moves at most once per
    batch); a batch is kept only if the exact objective drops and every constraint holds,
    and ``k`` doubles after a batch that delivers at least half its predicted saving and
    halves otherwise. With ``k = 1`` this is plain best-improvement descent, so the search
    stops at the same kind of local optimum; ``batched=False`` keeps ``k = 1``.
    """
    improved = False
    batch, cap = 1, max(1, int(_BATCH_SHARE * state.a.size)) if batched else 1
    while time.perf_counter() < deadline:
        d = state.deltas()
        best_t = np.argmin(d, axis=1)
        best_d = d[np.arange(d.shape[0]), best_t]
        before = state.objective()
        cand = np.flatnonzero(best_d < -_EPS * max(abs(before), 1.0))
        if cand.size == 0:
            break
        k = min(batch, cand.size)
        take = cand[np.argpartition(best_d[cand], k - 1)[:k]] if k < cand.size else cand
        back = np.where(state.a[take] < 0, state.n_es, state.a[take])
        state.move_many(take, best_t[take])
        after = state.objective()
        if k > 1 and not (after < before and state.admissible()):
            state.move_many(take, back)
            batch = max(1, k // 2)
            continue
        improved = True
        predicted = float(best_d[take].sum())
        batch = min(cap, 2 * k) if before - after >= -0.5 * predicted else max(1, k // 2)
    return improved


def _place_forced(state: _State, deadline: float, batched: bool = True) -> None:
    """Offload users that may not stay local but sit at home.

    Each goes to its cheapest finite insertion, in batches checked like those of
    :func:`_relocate` (a batch that makes a cost infinite or breaks a count limit is undone
    and halved; side rows are left to the repair that follows). When every ES is too loaded
    for a user (its delay at one more user is infinite, e.g. a 1e308-bit prompt), it gets
    the ES where it is cheapest alone, and that ES's other users are moved to their next
    best options. With ``batched=False`` users are placed one by one, in index order.
    """
    costs = state.costs
    batch = state.a.size
    while batched and time.perf_counter() < deadline:
        home = np.flatnonzero(costs.forced & (state.a < 0))
        d = state.deltas(constrained=False)[home, :state.n_es]
        best_t = np.argmin(d, axis=1) if home.size else home
        best_d = d[np.arange(home.size), best_t]
        fit = np.flatnonzero(np.isfinite(best_d))
        if fit.size == 0:
            break
        k = min(batch, fit.size)
        order = fit[np.argsort(best_d[fit], kind="stable")[:k]]
        state.move_many(home[order], best_t[order])
        if k > 1 and not (np.isfinite(state.objective()) and state.admissible(side=False)):
            state.move_many(home[order], np.full(k, state.n_es))
            batch = max(1, k // 2)
    for i in np.flatnonzero(costs.forced & (state.a < 0)):
        if time.perf_counter() >= deadline:
            return
        d = state.deltas(constrained=False)[i, :state.n_es]
        if np.isfinite(d).any():
            state.move(int(i), int(np.argmin(d)))
            continue
        alone = np.array([costs.offload(j, 1)[i] for j in range(state.n_es)])
        if not np.isfinite(alone).any():
            continue
        b = int(np.argmin(alone))
        for k in np.flatnonzero(state.a == b):
            dk = state.deltas(constrained=False)[k].copy()
            dk[b] = np.inf
            t = int(np.argmin(dk))
            state.move(int(k), t if np.isfinite(dk[t]) else state.n_es)
        state.move(int(i), b)


def _repair(state: _State, deadline: float, batched: bool = True) -> None:
    """Offload forced users left at home, then apply the moves that raise the most violated
    side row, cheapest per unit of gain first."""
    _place_forced(state, deadline, batched)
    while state.gain.size and np.any(state.side < -1e-9) and time.perf_counter() < deadline:
        s = int(np.argmin(state.side))
        off = state.a >= 0
        g = state.gain[s]
        d = state.deltas(constrained=False)
        # Gain of each move on row s: to an ES from local +g, to local from an ES -g.
        move_gain = np.zeros_like(d)
        move_gain[:, :state.n_es] = np.where(off, 0.0, g)[:, None]
        move_gain[:, state.n_es] = np.where(off, -g, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(move_gain > 1e-12, d / move_gain, np.inf)
        ratio[np.isnan(ratio)] = np.inf
        k = int(np.argmin(ratio))
        if not np.isfinite(ratio.flat[k]):
            return
        i, t = divmod(k, state.n_es + 1)
        state.move(i, t)


def side_prices(costs: LayerCosts, assignment: np.ndarray) -> np.ndarray:
    """(S,) an estimate of each side row's price (MILP units per unit of the row): the
    cheapest cost per unit of gain of a single move that raises the row; 0 for a row with
    more slack than any single user's gain (it does not bind)."""
    state = _State(costs, assignment)
    if not state.gain.size:
        return np.zeros(0)
    d = state.deltas(constrained=False)
    off = state.a >= 0
    out = np.zeros(state.gain.shape[0])
    for s, g in enumerate(state.gain):
        if state.side[s] > float(np.abs(g).max(initial=0.0)):
            continue
        move_gain = np.zeros_like(d)
        move_gain[:, :state.n_es] = np.where(off, 0.0, g)[:, None]
        move_gain[:, state.n_es] = np.where(off, -g, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(move_gain > 1e-12, d / move_gain, np.inf)
        ratio = ratio[np.isfinite(ratio)]
        out[s] = max(float(ratio.min()), 0.0) if ratio.size else 0.0
    return out


def _descend(costs: LayerCosts, start: np.ndarray, deadline: float,
             tried: list[np.ndarray], batched: bool) -> np.ndarray:
    """Alternate relocation and fixed-count re-optimisation from ``start`` until neither
    improves, a count vector in ``tried`` comes back, or the deadline passes."""
    state = _State(costs, start)
    _repair(state, deadline, batched)
    while time.perf_counter() < deadline:
        moved = _relocate(state, deadline, batched)
        if any(np.array_equal(state.counts, t) for t in tried):
            break
        tried.append(state.counts.copy())
        left = deadline - time.perf_counter()
        b = fixed_count_assignment(costs, state.counts, left) if left > 0 else None
        if b is None:
            break
        before = state.objective()
        cand = _State(costs, b)
        if cand.objective() < before * (1 - _EPS) and not np.any(cand.side < -1e-9):
            state = cand
        elif not moved:
            break
    return state.a


def lns(inst: Instance, rng: np.random.Generator, *, time_budget: float | None = None,
        starts: list[np.ndarray] | None = None, plan: bool = True, policies: bool = True,
        **_: object) -> np.ndarray:
    """Large-neighbourhood search from GOA (see the module docstring).

    Parameters
    ----------
    inst
        The instance.
    rng
        Unused (the search is deterministic); accepted for a uniform policy signature.
    time_budget
        Wall-clock seconds (default ``DEFAULT_BUDGET``); the search usually stops earlier,
        at a local optimum of both neighbourhoods.
    starts
        Extra starting assignments besides GOA's, Min delay's and Edge all's.
    plan
        Search on the planning view of the instance (``edge_work_plan`` when it is given),
        as every heuristic does; the exact driver passes ``False`` to search on the truth.
        Answers are always scored by the evaluator on the truth.
    policies
        Also start from GOA, Min delay (and Edge all with a side row); the exact driver,
        which has run them already, passes them in ``starts`` instead.

    Returns
    -------
    numpy.ndarray
        The best evaluator-feasible assignment found (GOA's if nothing feasible is found).
    """
    budget = DEFAULT_BUDGET if time_budget is None else float(time_budget)
    deadline = time.perf_counter() + budget
    view = inst.planning_view() if plan else inst
    free = view if view.interference == "none" else view.replace(interference="none")
    costs = LayerCosts.of(free)
    seeds = []
    if policies or not starts:
        seeds = [goa(inst, rng), min_delay(inst, rng)]
        if costs.side:
            seeds.append(edge_all(inst, rng))
    for extra in starts or []:
        extra = np.asarray(extra, dtype=np.int64)
        if not any(np.array_equal(extra, s) for s in seeds):
            seeds.append(extra)
    best_a, best_val = None, np.inf

    def consider(a: np.ndarray) -> None:
        nonlocal best_a, best_val
        m = evaluate(inst, a)
        if m.feasible and m.objective < best_val:
            best_a, best_val = np.array(a, dtype=np.int64), m.objective

    for a in seeds:
        consider(a)
    # Search from the two best distinct starts: batched descent first (fast at any size),
    # then plain descent, which ends in other local optima, while time is left.
    scores = [evaluate(free, s) for s in seeds]
    order = sorted(range(len(seeds)),
                   key=lambda k: scores[k].objective if scores[k].feasible else np.inf)
    for batched in (True, False):
        tried: list[np.ndarray] = []
        for k in order[:2]:
            if time.perf_counter() >= deadline:
                break
            consider(_descend(costs, seeds[k], deadline, tried, batched))
    if best_a is None:
        return np.asarray(seeds[0], dtype=np.int64)
    if inst.interference != "none":
        left = deadline - time.perf_counter()
        if left > 0:
            consider(improve(inst, best_a, time_budget=left))
    return best_a
