"""The MILP backend inside the exact driver: start it only when it can finish building,
warm-start it, and turn its answer into an :class:`Outcome`."""

from __future__ import annotations

import time

import numpy as np

from mecopt.formulations.count_indexed import CountIndexedModel, prune_assignment
from mecopt.solvers.base import MIP_REL_GAP, BackendOptions, BackendResult
from mecopt.solvers.exact.outcome import Outcome
from mecopt.solvers.exact.state import SolveState


def run_backend(state: SolveState, model: CountIndexedModel, hint: np.ndarray | None,
                deadline: float | None) -> BackendResult | None:
    """The backend on ``model``, unless building it would overrun ``deadline`` (a note
    then says why)."""
    backend, opts = state.backend, state.options
    est = state.caps.build_seconds_per_nonzero * model.milp.A.nnz
    left = None if deadline is None else deadline - time.perf_counter()
    if left is not None and (left <= 0 or est > left):
        state.notes.append(f"{backend.name} not started: no time left" if left <= 0 else
                           f"{backend.name} not started: building its model would take "
                           f"about {est:.2g} s, more than the {left:.2g} s left")
        return None
    return backend.solve(model.milp, BackendOptions(
        deadline=deadline, threads=opts.threads, seed=opts.seed, hint=hint,
        engine=opts.engine, verbose=opts.verbose, mip_gap=max(opts.gap, MIP_REL_GAP)))


def hint(state: SolveState, model: CountIndexedModel, table: np.ndarray | None,
         only: str | None = None) -> np.ndarray | None:
    """0/1 start vector of the best candidate (interference-free; only candidate ``only``
    when given), pruned of dominated offloads when ``table`` is given."""
    if not state.options.warm_start:
        return None
    best = state.best_free() if only is None else (only, *state.candidates[only])
    if best is None:
        return None
    a = best[1]
    if table is not None:
        a = prune_assignment(state.free, a, table)
    return model.encode(a)


def absorb(state: SolveState, br: BackendResult, model: CountIndexedModel) -> Outcome:
    """The backend's assignment (``"milp"``), bound (``"backend"``) and figures; the
    message says what the backend reported."""
    out = Outcome(info={**br.stats, "backend_status": br.raw_status,
                        # A limit (time, nodes, ...) stopped the backend before its proof.
                        "backend_limit": br.status in ("feasible", "no_solution")})
    out.message = f"{state.backend.name}: {br.raw_status}"
    if br.status == "infeasible":
        out.infeasible = out.message
        return out
    if br.x is not None:
        out.assignments["milp"] = model.decode(br.x)
    if br.status == "error":
        out.message += " (backend failed; best other answer returned)"
        return out
    if br.bound is not None:
        out.bounds["backend"] = model.to_mean_delay(br.bound)
    elif br.status == "optimal" and br.objective is not None:
        out.bounds["backend"] = model.to_mean_delay(br.objective)
    return out
