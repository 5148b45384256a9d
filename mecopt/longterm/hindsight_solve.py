"""The search for one trace member's hindsight optimum (see :mod:`mecopt.longterm.hindsight`).

The Lagrangian bound of the LP relaxation and its column elimination
(:mod:`mecopt.formulations.hindsight_pricing`), online policies and the ``priced`` policy at
the LP's prices as incumbents, then reduced MILPs (HiGHS) at growing thresholds. Every plan
is replayed through the simulator.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from mecopt.errors import MecoptError, MissingDependencyError, UnknownNameError
from mecopt.formulations.hindsight_model import (
    MS,
    ROW_NAMES,
    HindsightModel,
    backlog_wait_bound,
    build,
    kept_work_bound,
)
from mecopt.formulations.hindsight_pricing import Pricing, price, row_prices
from mecopt.solvers.highs_matrix import solve_matrix

#: Statuses of one member: ``optimal`` (gap at most ``gap_tol``), ``feasible`` (stopped by
#: the time limit with an incumbent), ``infeasible`` (proven: no plan meets the long-term
#: constraints), ``no_solution`` (stopped without any feasible plan).
STATUSES = ("optimal", "feasible", "infeasible", "no_solution")

#: Online policies tried as starting incumbents by default.
DEFAULT_INCUMBENTS = ("greedy", "offload")
#: Share of the time limit the online incumbents may use together.
INCUMBENT_SHARE = 0.25
#: Share of the time left after the LP that the rollout at the LP prices may use. Nearly
#: all of it: on a loaded machine the rollout (about 5 s of CPU at U = 40, T = 100) can take
#: most of a 120 s wall-clock limit, and without it the incumbent left is ``offload``
#: (a 98 % gap), while the MILP rounds after it rarely finish there anyway.
PRICED_SHARE = 0.95
#: The incumbent rollout's backstop aim per query (see ``PricedGains.backstop_margin``).
BACKSTOP_MARGIN = 1e-5
#: Share of the time limit after which the LP adds no more columns (the restricted LP's
#: Lagrangian bound and prices are kept).
LP_SHARE = 0.4
#: Share of the time left that a HiGHS MILP round is given (the rest is a reserve for
#: HiGHS overrunning its limit, measured at up to 13 s on 54,000 binaries under load).
MILP_SHARE = 0.9


class HindsightError(MecoptError, RuntimeError):
    """A plan whose replay through the simulator disagrees with the MILP (a defect)."""


def check_options(
    time_limit: float | None, threads: int, gap_tol: float, margin: float, lp_counts: int
) -> None:
    if time_limit is not None and (
        isinstance(time_limit, bool)
        or not isinstance(time_limit, int | float)
        or not math.isfinite(time_limit)
        or time_limit <= 0
    ):
        raise ValueError(f"time_limit = {time_limit!r}: must be a number of seconds > 0 or None")
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1:
        raise ValueError(f"threads = {threads!r}: must be a whole number >= 1")
    if not (isinstance(gap_tol, int | float) and 0 <= gap_tol < 1):
        raise ValueError(f"gap_tol = {gap_tol!r}: must lie in [0, 1)")
    if not (isinstance(margin, int | float) and 0 < margin < 1):
        raise ValueError(f"margin = {margin!r}: must lie in (0, 1)")
    if isinstance(lp_counts, bool) or not isinstance(lp_counts, int | np.integer) or lp_counts < 1:
        raise ValueError(f"lp_counts = {lp_counts!r}: must be a whole number >= 1")


class _OutOfTime(Exception):
    """An incumbent rollout ran past its share of the time limit."""


def _online_incumbents(
    trace: Any, names: tuple[str, ...], seed: int, stats: dict[str, Any], deadline: float | None
) -> tuple[float, np.ndarray | None, np.ndarray]:
    """Best feasible online rollout: (total latency ms, actions or None, fallback actions).
    A rollout still running at ``deadline`` (``time.perf_counter`` clock) is dropped."""
    from mecopt.longterm.run import run

    def watch(_: int) -> None:
        if deadline is not None and time.perf_counter() > deadline:
            raise _OutOfTime

    best, best_actions, fallback = math.inf, None, None
    stats["incumbents"] = {}
    for name in names:
        try:
            r = run(trace, name, seed=seed, progress=watch)
        except (MissingDependencyError, UnknownNameError):
            stats["incumbents"][name] = "not installed"
            continue
        except _OutOfTime:
            stats["incumbents"][name] = "stopped: out of its time share"
            continue
        acts = r.records.actions
        if fallback is None:
            fallback = acts
        total = MS * float(r.records.latency[r.records.has_query].sum())
        stats["incumbents"][name] = {"mean_latency": r.mean_latency, "feasible": r.feasible}
        if r.feasible and total < best:
            best, best_actions = total, acts
            stats["incumbent_source"] = name
    if fallback is None:  # every named policy missing: answer locally
        fallback = np.where(trace.has_query[0], 0, -1)
    return best, best_actions, fallback


class _Clock:
    def __init__(self, limit: float | None) -> None:
        self.start = time.perf_counter()
        self.limit = limit

    def left(self) -> float | None:
        if self.limit is None:
            return None
        return self.limit - (time.perf_counter() - self.start)

    def out(self) -> bool:
        left = self.left()
        return left is not None and left <= 0.0


def _lp_pricing(
    model: HindsightModel, lp_counts: int, clock: _Clock, threads: int, stats: dict[str, Any]
) -> Pricing | None:
    """Restricted LP, priced on the full model; columns that price out are added. The row
    duals of the last LP solved, as prices (:func:`row_prices`), are kept in ``stats["prices"]``.

    The LP leaves out the link rows ``x[i, j, n] <= y[j, t, n]`` (one per x column, half the
    rows): the pricing blocks choose n whole queries, so they hold there anyway and any
    multipliers of the other rows give a valid bound. Measured at U = 20, T = 100: the LP is
    8 times faster and the bound 0.04 % below the LP with them."""
    counts = model.column_count()
    keep = counts <= lp_counts
    pricing = None
    link = ROW_NAMES.index("link")
    for rounds in range(1, 6):
        c, a, lo, hi, cl, ch, _, rows = model.restrict(keep)
        sel = model.row_kind[rows] != link
        a, lo, hi, rows = a[sel], lo[sel], hi[sel], rows[sel]
        sol = solve_matrix(
            c, model.constant, a, lo, hi, cl, ch, None, time_limit=clock.left(), threads=threads
        )
        stats["lp_rounds"] = rounds
        if sol.status == "infeasible":
            stats["lp"] = "infeasible"
            # The restricted LP may be infeasible while the full one is not: retry with all.
            if keep.all():
                return None
            keep = np.ones_like(keep)
            continue
        if sol.duals is None:
            stats["lp"] = sol.status
            return pricing
        duals = np.zeros(model.n_rows)
        duals[rows] = sol.duals
        stats["prices"] = row_prices(model, duals)
        pricing = price(model, duals)
        stats["lp_bound"] = sol.objective
        stats["lp_columns"] = int(keep.sum())
        more = ~keep & (pricing.column_bound < sol.objective - 1e-9 * abs(sol.objective))
        if not more.any():
            return pricing
        if clock.limit is not None and clock.left() < (1 - LP_SHARE) * clock.limit:
            stats["lp"] = "restricted: no time for more columns"
            return pricing  # its bound is valid for the full model already
        keep = keep | more
    return pricing


def solve_member(
    trace: Any,
    *,
    time_limit: float | None,
    threads: int,
    gap_tol: float,
    margin: float,
    lp_counts: int,
    incumbents: tuple[str, ...],
    priced: bool,
    lp_only: bool,
    seed: int,
    verbose: bool,
) -> dict[str, Any]:
    clock = _Clock(time_limit)
    stats: dict[str, Any] = {}
    model = build(trace, 0)
    stats["build_seconds"] = time.perf_counter() - clock.start
    n_q = model.n_queries
    stats.update(columns=model.n_cols, rows=model.n_rows, queries=n_q)
    share = None if time_limit is None else clock.start + INCUMBENT_SHARE * time_limit
    z0, acts0, fallback = _online_incumbents(trace, incumbents, seed, stats, share)
    best_z, best_x = z0, None
    best_actions = acts0
    if n_q == 0:
        return _finish(
            trace, model, np.where(trace.has_query[0], 0, -1), 0.0, 0.0, gap_tol, clock, stats
        )
    t_lp = time.perf_counter()
    pricing = _lp_pricing(model, lp_counts, clock, threads, stats)
    stats["lp_seconds"] = time.perf_counter() - t_lp
    if pricing is None and stats.get("lp") == "infeasible":
        stats["source"] = "infeasible"
        return {
            "actions": fallback,
            "objective": math.inf,
            "bound": math.inf,
            "gap": math.inf,
            "status": "infeasible",
            "runtime": time.perf_counter() - clock.start,
            "stats": stats,
        }
    bound = max(pricing.bound if pricing is not None else -math.inf, trivial_bound(model))
    stats["lagrangian_bound"] = bound
    if priced and "prices" in stats:
        z, acts = _priced_incumbent(trace, stats["prices"], seed, stats, clock)
        if acts is not None and z < best_z:
            best_z, best_actions = z, acts
            stats["incumbent_source"] = "priced"
    if best_actions is not None:
        stats["source"] = stats.get("incumbent_source")
        best_x = _encode(trace, model, best_actions)
    widen = margin
    stats["rounds"] = []
    while pricing is not None and not lp_only and not clock.out():
        tau = min(best_z, bound + widen * abs(bound))
        keep = pricing.keep(tau)
        # Tighter backlog bounds hold for every solution on the kept columns.
        wbar = backlog_wait_bound(trace, 0, kept_work_bound(model, trace, 0, keep))
        sub = build(trace, 0, wbar=wbar)
        c, a, lo, hi, cl, ch, integer, _ = sub.restrict(keep)
        full_keep = keep | ~model.integer
        hint = None
        if best_x is not None and np.all(best_x[~full_keep] == 0):
            hint = best_x[full_keep]
        left = clock.left()
        # HiGHS can overrun its limit on large reduced models (presolve): keep a reserve.
        sol = solve_matrix(
            c,
            model.constant,
            a,
            lo,
            hi,
            cl,
            ch,
            integer,
            time_limit=None if left is None else MILP_SHARE * left,
            threads=threads,
            seed=seed,
            mip_rel_gap=gap_tol,
            hint=hint,
            verbose=verbose,
        )
        stats["rounds"].append(
            {
                "tau": tau,
                "kept": int(keep[model.integer].sum()),
                "status": sol.status,
                "objective": sol.objective,
                "bound": sol.bound,
                "nodes": sol.nodes,
                "seconds": sol.runtime,
            }
        )
        if sol.x is not None and sol.objective is not None:
            x = np.zeros(model.n_cols)
            x[full_keep] = sol.x
            actions = model.decode(x)
            # The simulator's total: equal to the MILP's at an optimum, at most it for an
            # incumbent whose waits are not yet at their smallest values.
            total = _simulated_total(trace, actions, sol.objective)
            if total < best_z:
                best_z, best_actions = total, actions
                best_x = _encode(trace, model, actions)
                stats["source"] = "milp"
        if sol.status in ("optimal", "infeasible"):
            # Every solution of value <= tau lies in the reduced model.
            reduced = sol.bound if sol.status == "optimal" else math.inf
            bound = max(bound, min(reduced if reduced is not None else -math.inf, tau))
            if best_z <= tau or (best_z - bound) <= gap_tol * abs(best_z):
                break
            if sol.status == "optimal":
                widen = max(widen, (best_z - bound) / abs(bound))  # next: tau = best_z
            widen *= 4.0
            continue
        if sol.bound is not None:
            bound = max(bound, min(sol.bound, tau))
        break
    if best_actions is None:
        status = "no_solution"
        return {
            "actions": fallback,
            "objective": math.inf,
            "bound": bound / MS / n_q,
            "gap": math.inf,
            "status": status,
            "runtime": time.perf_counter() - clock.start,
            "stats": stats,
        }
    return _finish(trace, model, best_actions, best_z, bound, gap_tol, clock, stats)


def _priced_incumbent(
    trace: Any, prices: dict[str, Any], seed: int, stats: dict[str, Any], clock: _Clock
) -> tuple[float, np.ndarray | None]:
    """The ``priced`` policy at the LP prices (no correction): (total latency ms, actions)
    when feasible, else ``(inf, None)``. It may use :data:`PRICED_SHARE` of the time left."""
    from mecopt.longterm.run import run

    left = clock.left()
    deadline = None if left is None else time.perf_counter() + PRICED_SHARE * left

    def watch(_: int) -> None:
        if deadline is not None and time.perf_counter() > deadline:
            raise _OutOfTime

    t0 = time.perf_counter()
    try:
        # The backstop at the target itself: at fixed prices the margin aim forced the last
        # slots onto the ESs (an incumbent needs feasibility, not a safety margin).
        r = run(
            trace,
            "priced",
            seed=seed,
            progress=watch,
            prices=prices,
            correct=False,
            backstop_margin=BACKSTOP_MARGIN,
        )
    except _OutOfTime:
        stats["incumbents"]["priced"] = "stopped: out of its time share"
        return math.inf, None
    except (MissingDependencyError, UnknownNameError):
        stats["incumbents"]["priced"] = "not installed"
        return math.inf, None
    stats["incumbents"]["priced"] = {
        "mean_latency": r.mean_latency,
        "feasible": r.feasible,
        "seconds": time.perf_counter() - t0,
    }
    if not r.feasible:
        return math.inf, None
    return MS * float(r.records.latency[r.records.has_query].sum()), r.records.actions


def trivial_bound(model: HindsightModel) -> float:
    """Every query at its fastest option with count 1 and no backlog (ms): delays do not
    fall with the count, and waits are non-negative."""
    single = model.x_n == 1
    best = np.zeros(model.n_queries)
    np.minimum.at(best, model.x_cell[single], model.c[: model.x_n.size][single])
    return model.constant + float(best.sum())


def _encode(trace: Any, model: HindsightModel, actions: np.ndarray) -> np.ndarray:
    """Solution vector of feasible actions (backlog waits from the simulator)."""
    from mecopt.longterm.run import replay

    r = replay(trace, actions)
    wait = MS * (r.records.backlog[:-1] / trace.capacity[0]).T
    return model.encode(actions, wait)


def _simulated_total(trace: Any, actions: np.ndarray, milp_total: float) -> float:
    """Total latency (ms) of a MILP plan replayed through the simulator, checked against
    the MILP: the plan must be feasible and cost at most what the MILP says."""
    from mecopt.longterm.run import replay

    r = replay(trace, actions)
    total = MS * float(r.records.latency[r.records.has_query].sum())
    if total > milp_total + 1e-6 * max(1.0, abs(milp_total)) or not r.feasible:
        raise HindsightError(
            f"the plan replayed through the simulator gives {total:.9g} ms in total "
            f"(feasible: {r.feasible}) where the MILP reports {milp_total:.9g} ms; "
            + "; ".join(r.violations)
        )
    return total


def _finish(
    trace: Any,
    model: HindsightModel,
    actions: np.ndarray,
    total: float,
    bound: float,
    gap_tol: float,
    clock: _Clock,
    stats: dict[str, Any],
) -> dict[str, Any]:
    """Report the plan in seconds per query, with its bound, gap and status."""
    from mecopt.longterm.run import replay

    r = replay(trace, actions)
    n_q = max(model.n_queries, 1)
    sim_total = MS * float(r.records.latency[r.records.has_query].sum())
    if abs(sim_total - total) > 1e-9 * max(1.0, abs(total)) or not r.feasible:
        raise HindsightError(
            f"the plan's replay changed: {sim_total:.12g} ms against "
            f"{total:.12g} ms (feasible: {r.feasible})"
        )
    bound = min(bound, sim_total)
    gap = (sim_total - bound) / sim_total if sim_total > 0 else 0.0
    status = "optimal" if gap <= gap_tol else "feasible"
    return {
        "actions": actions,
        "objective": r.mean_latency,
        "bound": bound / MS / n_q,
        "gap": gap,
        "status": status,
        "runtime": time.perf_counter() - clock.start,
        "stats": stats,
    }
