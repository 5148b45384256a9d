"""Brute force: enumerate every assignment of a tiny instance.

It is exact for every interference and queue model and every constraint (it evaluates the
true objective, with interference, energy budgets and the weighted cost), which makes it the
reference the MILP backends are tested against.
Assignments are scored in vectorised batches with the same channel and queue primitives as
the evaluator; the winner is then re-evaluated by :func:`mecopt.evaluate`.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from mecopt._version import __version__
from mecopt.channel import INTERFERENCE
from mecopt.evaluate import ACCURACY_TOL, HALLUCINATION_TOL, evaluate
from mecopt.formulations.option_cost import local_cost, must_offload, option_cost
from mecopt.instance import Instance
from mecopt.objective import hallucination
from mecopt.result import SolveResult, check_gap

#: Largest number of assignments enumerated unless ``max_assignments`` says otherwise.
MAX_ASSIGNMENTS = 5_000_000
_BATCH = 1 << 15


def batch_scores(inst: Instance, assign: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Objective (mean cost, s) and feasibility of each row of ``assign`` (B, N)."""
    n_es = inst.n_servers
    off = assign >= 0
    es = np.where(off, assign, 0)
    onehot = off[:, :, None] & (es[:, :, None] == np.arange(n_es))
    counts = onehot.sum(axis=1)
    n = np.take_along_axis(counts, es, axis=1)
    received = INTERFERENCE.get(inst.interference).interference_batch(inst, assign)
    interference = np.take_along_axis(received, es, axis=1)
    users = np.arange(inst.n_users)[None, :]
    nn = np.maximum(n, 1)
    # The option cost (inf when impossible or over the energy budget), the one every model
    # uses; local users pay their local cost.
    off_cost = option_cost(inst, users, es, nn, interference)
    each = np.where(off, off_cost, local_cost(inst)[None, :])
    mean = each.mean(axis=1)
    ok = ~(off & ~np.isfinite(off_cost)).any(axis=1)
    ok &= ~(must_offload(inst)[None, :] & ~off).any(axis=1)
    if inst.max_hallucination is not None:
        hall = hallucination(inst, users, off).mean(axis=1)
        ok &= hall <= inst.max_hallucination + HALLUCINATION_TOL
    if inst.min_accuracy is not None:
        acc = np.where(off, inst.acc_edge, inst.acc_local).mean(axis=1)
        ok &= acc >= inst.min_accuracy - ACCURACY_TOL
    if inst.max_users is not None:
        ok &= (counts <= inst.max_users[None, :]).all(axis=1)
    return mean, ok


@dataclasses.dataclass(frozen=True)
class BruteForceSolver:
    """Registry entry for brute force (see module docstring)."""

    name: str = "bruteforce"
    options: tuple[str, ...] = ("max_assignments", "gap")
    kind: str = "exact"
    description: str = "enumerates every assignment (tiny instances)"

    def available(self) -> bool:
        return True

    def version(self) -> str:
        return f"mecopt {__version__}"

    def run(self, inst: Instance, *, time_limit: float | None, seed: int, threads: int,
            max_assignments: int = MAX_ASSIGNMENTS, gap: float = 0.0) -> SolveResult:
        """Enumerate; a complete enumeration proves the optimum exactly (``gap_tol`` 0
        whatever ``gap`` asks, which is only checked)."""
        check_gap(gap)
        start = time.perf_counter()
        base = inst.n_servers + 1
        total = base ** inst.n_users
        if total > max_assignments:
            raise ValueError(
                f"bruteforce: (M+1)^N = {base}^{inst.n_users} = {total} assignments exceeds "
                f"max_assignments = {max_assignments}; use an exact MILP solver"
            )
        powers = base ** np.arange(inst.n_users, dtype=np.int64)
        best_val, best_idx, stopped, done = np.inf, -1, False, 0
        for lo in range(0, total, _BATCH):
            idx = np.arange(lo, min(lo + _BATCH, total), dtype=np.int64)
            assign = (idx[:, None] // powers[None, :]) % base - 1
            mean, ok = batch_scores(inst, assign)
            done += idx.size
            mean = np.where(ok, mean, np.inf)
            k = int(np.argmin(mean))
            if mean[k] < best_val:
                best_val, best_idx = float(mean[k]), int(idx[k])
            if time_limit is not None and time.perf_counter() - start > time_limit:
                stopped = lo + _BATCH < total
                break
        info = {"enumerated": done, "assignments": total, "stopped_early": stopped}
        common = dict(runtime=0.0, solver=self.name, solver_version=self.version(), seed=seed,
                      threads=1, time_limit=time_limit, info=info, gap_tol=0.0,
                      stop="time_limit" if stopped else None)
        if best_idx < 0:
            status = "no_solution" if stopped else "infeasible"
            return dataclasses.replace(
                SolveResult(assignment=None, status=status, objective=None, bound=None,
                            gap=None, metrics=None,
                            message="no feasible assignment" + (" found" if stopped else ""),
                            **common),
                runtime=time.perf_counter() - start)
        a = (best_idx // powers) % base - 1
        m = evaluate(inst, a)
        bound = None if stopped else m.objective
        return dataclasses.replace(
            SolveResult(assignment=a, status="feasible" if stopped else "optimal",
                        objective=m.objective, bound=bound, gap=None if stopped else 0.0,
                        metrics=m, message="time limit reached" if stopped else "", **common),
            runtime=time.perf_counter() - start)
