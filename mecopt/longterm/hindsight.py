"""The hindsight optimum of the long-term system: the full-horizon MILP with the trace known.

With every arrival, query and channel of a trace known in advance, the best sequence of
actions is the solution of one mixed-integer program over all T slots. Its optimal mean
latency is a **proven lower bound** on the mean latency of any online policy that meets the
long-term constraints on that trace (an online policy's actions are one feasible point of
the same program), and the bound this module reports stays a lower bound when a time limit
stops the search.

Model (units: ms for latencies and waits; built by :mod:`mecopt.formulations.hindsight_model`,
see ``formulations/README.md``, section "Hindsight (full-horizon) model")
----------------------------------------------------------------------------------------
Query cells i = (t, u) with a query; ``q_t`` queries in slot t; ES j = 0..M-1. Binary
``x[i, j, n]``: query i offloaded to ES j, which holds exactly n queries in slot t;
binary ``y[j, t, n]``: ES j holds n queries in slot t; ``w[j, t] = Q_j(t) / C_j`` the
backlog wait; ``v[j, t, n]`` the part of ``w[j, t]`` carried at count n::

    min  sum_i (t^L_i + dw_i) + sum_{i,j,n} (d_ijn - t^L_i) x_ijn + sum_{j,t,n} n v_jtn
    s.t. sum_n y_jtn <= 1,  sum_{i in t} x_ijn = n y_jtn,  x_ijn <= y_jtn   (counts)
         sum_{j,n} x_ijn <= 1                                              (one place)
         w_j,t+1 >= w_jt + sum_{i in t, n} (W_i / C_j) x_ijn - Delta,  w >= 0  (backlog)
         w_jt = sum_{n=0..q_t} v_jtn,  v_jtn <= wbar_jt y_jtn (n >= 1),
         v_jt0 <= wbar_jt (1 - sum_n y_jtn)                                 (wait = n w)
         sum_i acc_i >= A_min N,  sum_i hall_i <= H_max N,
         sum_t e_ut <= T b_u  for every device u                            (long-term)

with ``d_ijn = n D_i / (B_j log2(1 + P_u g_ujt / sigma_j^2)) + W_i / min(C^max_j, C_j,
C_j / n)`` and energy ``P_u n D_i / (B_j log2(...))`` offloaded, ``E^L_i`` local: the
simulator's formulas term by term. Two facts make the program **exact** for the
simulator: (1) the wait is ``n w`` with ``w`` the start-of-slot backlog, and the
disaggregation over counts is the exact linearisation of that product for ``w`` in
``[0, wbar]`` (``wbar`` is the backlog with every query offloaded to j, a true bound);
(2) the simulator's backlog is ``max(Q + W - C Delta, 0)``; the program only asks
``w >= w + work - Delta, w >= 0``, but every wait term has a non-negative coefficient, so
the smallest feasible ``w`` (the simulator's) is optimal for any actions. The objective of
an optimal plan replayed through :class:`mecopt.longterm.Simulator` therefore equals the
MILP's (an incumbent stopped by a time limit may carry waits above the smallest ones, so
its replay can only be cheaper). Every plan is replayed; the reported objective is the
simulator's, and a replay that costs more than the MILP says, or breaks a constraint,
raises :class:`HindsightError`.

Solution method
---------------
A direct solve stalls at U = 20, T = 200 (about 100,000 columns; its LP alone takes tens
of seconds). The driver instead

1. solves the LP relaxation restricted to counts ``n <= lp_counts`` and prices every column
   of the full model with its duals (:mod:`mecopt.formulations.hindsight_pricing`): a
   Lagrangian bound ``L`` valid for the full model (equal to the full LP bound whenever
   no left-out column prices out; columns that do are added and the LP solved again);
2. takes a threshold ``tau = min(Z0, L (1 + margin))`` (``Z0``: the best feasible online
   policy among ``incumbents``) and drops every column whose fixing bound exceeds
   ``tau``: each solution of value at most ``tau`` survives;
3. solves the reduced MILP with HiGHS. If it finds a solution of value at most ``tau``,
   the reduced optimum is the full optimum; otherwise no solution of value at most
   ``tau`` exists, ``tau`` is a proven bound and the step repeats with a larger ``tau``
   (the incumbent found, or a wider margin).

The reduced model's backlog bounds ``wbar`` are recomputed from the kept columns (the
heaviest queries that can still reach each ES and slot), which holds for every solution on
them and tightens the wait linearisation. The reported bound is
``max(L, min(reduced bound, tau))``, valid at any stop. ``status == "optimal"`` means
proven within ``gap_tol`` (default 1e-4, HiGHS's own MIP tolerance). The per-member
search is :mod:`mecopt.longterm.hindsight_solve`.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from mecopt.longterm.hindsight_solve import (
    DEFAULT_INCUMBENTS,
    STATUSES,
    HindsightError,
    check_options,
    solve_member,
)
from mecopt.longterm.traces import Trace
from mecopt.solvers.highs_matrix import highs_version

__all__ = [
    "DEFAULT_INCUMBENTS",
    "STATUSES",
    "HindsightError",
    "HindsightPolicy",
    "HindsightResult",
    "make_policy",
    "solve_hindsight",
]


@dataclasses.dataclass(frozen=True, eq=False)
class HindsightResult:
    """The hindsight optimum of every member of a trace.

    Attributes
    ----------
    actions
        (B, T, U) the plan: 0 local, ``j + 1`` ES j, -1 without a query. For a member
        without a feasible plan, the actions of the first online incumbent that ran.
    objective
        (B,) mean latency of the plan, s, as the simulator scores it (``inf`` when no
        feasible plan is known).
    bound
        (B,) proven lower bound on the mean latency of every plan meeting the constraints,
        s (``inf`` for a proven infeasible member).
    gap
        (B,) ``(objective - bound) / objective`` (0 when optimal, ``inf`` without a plan).
    status
        Per member, one of :data:`STATUSES`.
    runtime
        (B,) wall-clock seconds per member (model building included); the CPU seconds of
        each are ``stats[b]["cpu_seconds"]``.
    solver
        Solver name and version, e.g. ``{"highspy": "1.12.0"}``.
    settings
        ``time_limit``, ``threads``, ``gap_tol``, ``margin``, ``lp_counts``, ``incumbents``.
    stats
        Per member: model size, columns kept, the Lagrangian bound, thresholds, nodes,
        the incumbents' figures and which source the plan came from.
    """

    actions: np.ndarray
    objective: np.ndarray
    bound: np.ndarray
    gap: np.ndarray
    status: tuple[str, ...]
    runtime: np.ndarray
    solver: dict[str, str]
    settings: dict[str, Any]
    stats: tuple[dict[str, Any], ...]

    def __post_init__(self) -> None:
        for s in self.status:
            if s not in STATUSES:
                raise ValueError(f"HindsightResult status {s!r} is not one of {STATUSES}")

    @property
    def optimal(self) -> bool:
        """True when every member is proven optimal."""
        return all(s == "optimal" for s in self.status)

    def summary(self) -> str:
        """One line per member."""
        lines = []
        for b, s in enumerate(self.status):
            lines.append(
                f"member {b}: {s}, mean latency {1e3 * self.objective[b]:.4f} ms, "
                f"bound {1e3 * self.bound[b]:.4f} ms, gap {100 * self.gap[b]:.4f} %, "
                f"{self.runtime[b]:.2f} s"
            )
        return "\n".join(lines)


def solve_hindsight(
    trace: Any,
    *,
    time_limit: float | None = None,
    threads: int = 1,
    gap_tol: float = 1e-4,
    margin: float = 5e-4,
    lp_counts: int = 3,
    incumbents: tuple[str, ...] | None = None,
    priced: bool = True,
    lp_only: bool = False,
    seed: int = 0,
    verbose: bool = False,
) -> HindsightResult:
    """The full-horizon optimum of every member of ``trace``.

    Parameters
    ----------
    trace
        A :class:`mecopt.longterm.Trace` (B members, each solved on its own).
    time_limit
        Seconds per member, model building and incumbents included (``None``: none). A
        stopped member returns its incumbent with the bound and gap.
    threads
        HiGHS threads.
    gap_tol
        Relative gap at which a member counts as optimal (and HiGHS stops); the default
        1e-4 is HiGHS's own MIP gap tolerance. ``status == "optimal"`` means proven within
        it; ``gap`` gives the gap actually proven.
    margin
        First threshold above the Lagrangian bound, relative (see the module docstring);
        a tuning knob of speed, not of correctness.
    lp_counts
        Largest count per ES and slot in the first LP (more are priced in when needed).
    incumbents
        Online policies (registry names) whose feasible rollouts start the search;
        default :data:`DEFAULT_INCUMBENTS`. Names that are not installed are skipped.
    priced
        After the LP, also start from the ``priced`` policy run at the LP's dual prices
        (fixed, no online correction): the per-slot exact solves at the hindsight prices,
        usually within a percent of the optimum, so the thresholds eliminate far more
        columns (it makes the overloaded U = 40 cases provable).
    lp_only
        Stop after the LP and the incumbents: the best incumbent with the LP's proven
        bound and gap, without the MILP rounds (status ``feasible`` unless the gap is
        within ``gap_tol``).
    seed
        HiGHS random seed and the policies' seed.
    verbose
        Print the solver logs.

    Returns
    -------
    HindsightResult

    Raises
    ------
    TypeError
        If ``trace`` is not a trace.
    ValueError
        For a bad option (the message names it).

    Examples
    --------
    >>> import mecopt.longterm as lt
    >>> from mecopt.longterm.hindsight import solve_hindsight
    >>> tr = lt.trace(n_devices=4, horizon=6, seed=0, n_servers=2, min_accuracy=0.5)
    >>> res = solve_hindsight(tr)
    >>> res.status, bool(abs(lt.replay(tr, res.actions[0]).mean_latency - res.objective[0])
    ...                      < 1e-12)
    (('optimal',), True)
    """
    if not isinstance(trace, Trace):
        raise TypeError(f"trace must be a mecopt.longterm.Trace, got {type(trace).__name__}")
    check_options(time_limit, threads, gap_tol, margin, lp_counts)
    names = DEFAULT_INCUMBENTS if incumbents is None else tuple(incumbents)
    b_n = trace.batch
    out = []
    for b in range(b_n):
        cpu = time.process_time()
        o = solve_member(
            trace[b],
            time_limit=time_limit,
            threads=int(threads),
            gap_tol=float(gap_tol),
            margin=float(margin),
            lp_counts=int(lp_counts),
            incumbents=names,
            priced=bool(priced),
            lp_only=bool(lp_only),
            seed=seed,
            verbose=verbose,
        )
        o["stats"]["cpu_seconds"] = time.process_time() - cpu  # the process's, HiGHS included
        out.append(o)
    return HindsightResult(
        actions=np.stack([o["actions"] for o in out]),
        objective=np.array([o["objective"] for o in out]),
        bound=np.array([o["bound"] for o in out]),
        gap=np.array([o["gap"] for o in out]),
        status=tuple(o["status"] for o in out),
        runtime=np.array([o["runtime"] for o in out]),
        solver={"highspy": highs_version()},
        settings={
            "time_limit": time_limit,
            "threads": int(threads),
            "gap_tol": gap_tol,
            "margin": margin,
            "lp_counts": int(lp_counts),
            "incumbents": list(names),
            "priced": bool(priced),
            "lp_only": bool(lp_only),
            "seed": seed,
        },
        stats=tuple(o["stats"] for o in out),
    )


class HindsightPolicy:
    """The hindsight optimum as an offline policy (``plan`` solves the full horizon).

    Parameters
    ----------
    **options
        Options of :func:`solve_hindsight` (``time_limit``, ``threads``, ...).
    """

    name = "hindsight"
    offline = True

    #: Options :func:`solve_hindsight` takes.
    OPTIONS = (
        "time_limit",
        "threads",
        "gap_tol",
        "margin",
        "lp_counts",
        "incumbents",
        "priced",
        "lp_only",
        "seed",
        "verbose",
    )

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.OPTIONS))
        if unknown:
            raise TypeError(
                f"unknown hindsight option(s) {unknown}; valid: " + ", ".join(self.OPTIONS)
            )
        check_options(
            options.get("time_limit"),
            options.get("threads", 1),
            options.get("gap_tol", 1e-4),
            options.get("margin", 5e-4),
            options.get("lp_counts", 3),
        )
        self.options = options
        self.result: HindsightResult | None = None

    def plan(self, trace: Any, rng: np.random.Generator) -> np.ndarray:
        """(B, T, U) actions of the hindsight optimum of every member."""
        self.result = solve_hindsight(trace, **self.options)
        return self.result.actions

    def stats(self) -> dict[str, Any]:
        """Status, bound and gap of the last plan (recorded in the rollout's info)."""
        if self.result is None:
            return {}
        res = self.result
        return {
            "status": list(res.status),
            "bound": res.bound.tolist(),
            "gap": res.gap.tolist(),
            "solver": res.solver,
            "settings": res.settings,
            "prices": [s.get("prices") for s in res.stats],
            "source": [s.get("source") for s in res.stats],
            "cpu_seconds": [s.get("cpu_seconds") for s in res.stats],
        }


def make_policy(**options: Any) -> HindsightPolicy:
    """Registry factory of the ``hindsight`` policy."""
    return HindsightPolicy(**options)
