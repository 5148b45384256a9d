"""Deployment choice: which compact model each device class hosts, jointly with offloading.

Users belong to device classes c(i) (phone, board, laptop, ...). Each class hosts one
variant v from a catalogue, among those that fit its memory (``fits[c, v]``); user i then
answers locally with delay ``t_iv``, energy ``E_iv``, accuracy ``acc_iv`` and hallucination
``hal_iv``, or offloads to an edge server as in the count-indexed model
(:mod:`mecopt.formulations.count_indexed`, exact for interference ``"none"``). Variables
(all binary):

- ``z_cv``: class c hosts variant v;
- ``l_iv``: user i answers locally with its class's variant v;
- ``x_ijn``, ``y_jn``: user i on ES j that holds exactly n users, as in the count-indexed model.

::

    min (1/N) [ sum_iv c^L_iv l_iv + sum_ijn c_ij(n) x_ijn ]
    s.t. sum_v z_cv = 1                      every class with users and a fitting variant
         l_iv <= z_c(i)v                     a user runs only its class's variant
         sum_v l_iv + sum_jn x_ijn = 1       every user is served once
         sum_n y_jn <= 1,  sum_i x_ijn = n y_jn,  x_ijn <= y_jn      (counts, n <= K_j)
         sum_iv acc_iv l_iv + sum_ijn acc^E_i x_ijn >= N min_accuracy
         sum_iv hal_iv l_iv + sum_ijn hal^E_i x_ijn <= N max_hallucination

``c^L_iv`` and ``c_ij(n)`` are the weighted costs of :mod:`mecopt.objective` (delay, plus the
instance's energy, accuracy and hallucination weights). Columns ``l_iv`` exist only where v
fits the class, the uncertainty rule does not force user i to offload, and ``E_iv`` is
within user i's energy budget; offload columns only where the delay is finite and the uplink
energy within budget. The model is small (N V + N M N + M N + C V binaries) and solved
exactly by HiGHS; the tests check it against enumeration of every variant choice with the
brute-force offloading solver.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from mecopt.formulations.milp import ROW_ACCURACY, ROW_HALLUCINATION, MatrixMILP
from mecopt.formulations.option_cost import cost_table
from mecopt.instance import Instance
from mecopt.objective import cost, within_budget

__all__ = ["DeploymentModel", "DeploymentProblem", "build", "solve_milp"]

ROW_CLASS, ROW_LOCAL_LINK, ROW_ASSIGN, ROW_ONE_COUNT, ROW_COUNT, ROW_LINK = 10, 11, 12, 13, 14, 15
#: Energy given to local answers of users whose class hosts no variant (they must offload).
_NO_HOST_ENERGY = 1e30


@dataclasses.dataclass(frozen=True, eq=False)
class DeploymentProblem:
    """The data of a deployment choice.

    Attributes
    ----------
    instance
        The offloading instance (its edge side, rule, budgets, constraints and weights are
        used; its local fields are replaced by those of the chosen variants).
    user_class
        (N,) device class index of each user.
    local_delay, local_energy, acc_local
        (N, V) delay (s), energy (J) and accuracy of user i answering with variant v.
    hall_local
        (N, V) hallucination probability, or ``None`` when the instance has none.
    fits
        (C, V) bool: variant v fits class c.
    class_names, variant_names
        Names for reports.
    """

    instance: Instance
    user_class: np.ndarray
    local_delay: np.ndarray
    local_energy: np.ndarray
    acc_local: np.ndarray
    hall_local: np.ndarray | None
    fits: np.ndarray
    class_names: tuple[str, ...]
    variant_names: tuple[str, ...]

    def __post_init__(self) -> None:
        n = self.instance.n_users
        fits = np.asarray(self.fits, dtype=bool)
        n_classes, n_var = fits.shape
        uc = np.asarray(self.user_class)
        if uc.shape != (n,) or not np.issubdtype(uc.dtype, np.integer):
            raise ValueError(f"user_class must be ({n},) integers, got shape {uc.shape}")
        if uc.size and (uc.min() < 0 or uc.max() >= n_classes):
            raise ValueError(f"user_class values must be in [0, {n_classes})")
        for name in ("local_delay", "local_energy", "acc_local", "hall_local"):
            arr = getattr(self, name)
            if arr is None:
                continue
            arr = np.asarray(arr, dtype=float)
            if arr.shape != (n, n_var):
                raise ValueError(f"{name} must have shape ({n}, {n_var}), got {arr.shape}")
            if not np.all(np.isfinite(arr)) or arr.min(initial=0) < 0:
                raise ValueError(f"{name} must be finite and >= 0")
            object.__setattr__(self, name, arr)
        if self.hall_local is not None and self.instance.hall_edge is None:
            raise ValueError("hall_local needs an instance with hall_edge")
        if len(self.class_names) != n_classes or len(self.variant_names) != n_var:
            raise ValueError("class_names / variant_names do not match fits")
        object.__setattr__(self, "fits", fits)
        object.__setattr__(self, "user_class", uc.astype(np.int64))

    @property
    def n_classes(self) -> int:
        """Number of device classes."""
        return int(self.fits.shape[0])

    @property
    def n_variants(self) -> int:
        """Number of variants."""
        return int(self.fits.shape[1])

    def choices(self) -> list[list[int]]:
        """Per class, the variants it may host (``[-1]``: no user or nothing fits)."""
        used = np.bincount(self.user_class, minlength=self.n_classes) > 0
        return [list(np.flatnonzero(self.fits[c])) if used[c] and self.fits[c].any() else [-1]
                for c in range(self.n_classes)]

    def deployed(self, choice: Sequence[int]) -> Instance:
        """The offloading instance when class c hosts variant ``choice[c]`` (-1: none).

        Users of a class hosting nothing get a local energy above any budget, so they must
        offload (an energy budget of 1e30 J, never binding, is added if the instance has
        none).
        """
        inst = self.instance
        ch = np.asarray(choice, dtype=np.int64)
        if ch.shape != (self.n_classes,):
            raise ValueError(f"choice must have {self.n_classes} entries")
        v = ch[self.user_class]
        host = v >= 0
        rows = np.arange(inst.n_users)
        vv = np.where(host, v, 0)
        changes = {
            "local_delay": self.local_delay[rows, vv],
            "acc_local": self.acc_local[rows, vv],
            "local_energy": np.where(host, self.local_energy[rows, vv], _NO_HOST_ENERGY),
        }
        if self.hall_local is not None:
            changes["hall_local"] = self.hall_local[rows, vv]
        if not host.all():
            budget = inst.energy_budget if inst.energy_budget is not None else np.full(
                inst.n_users, _NO_HOST_ENERGY / 2)
            changes["energy_budget"] = budget
        return inst.replace(**changes)


@dataclasses.dataclass(frozen=True, eq=False)
class DeploymentModel:
    """The MILP of a :class:`DeploymentProblem` and the maps back to a choice."""

    problem: DeploymentProblem
    milp: MatrixMILP
    l_user: np.ndarray
    l_var: np.ndarray
    x_user: np.ndarray
    x_es: np.ndarray
    z_class: np.ndarray
    z_var: np.ndarray
    n_l: int
    n_x: int
    n_y: int

    def decode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(choice per class, -1 for none; assignment per user, -1 local) of a 0/1 vector."""
        p = self.problem
        x = np.asarray(x) > 0.5
        choice = np.full(p.n_classes, -1, dtype=np.int64)
        z = x[self.n_l + self.n_x + self.n_y:]
        choice[self.z_class[z]] = self.z_var[z]
        assign = np.full(p.instance.n_users, -1, dtype=np.int64)
        xs = x[self.n_l:self.n_l + self.n_x]
        assign[self.x_user[xs]] = self.x_es[xs]
        return choice, assign


def build(problem: DeploymentProblem) -> DeploymentModel:
    """Build the deployment MILP (see the module docstring).

    Raises
    ------
    ValueError
        If the instance's interference is not ``"none"`` (the count-indexed delays are exact
        only without interference).
    """
    p = problem
    inst = p.instance
    if inst.interference != "none":
        raise ValueError(
            f"interference = {inst.interference!r}: the deployment MILP needs 'none'"
        )
    n, n_var = inst.n_users, p.n_variants
    # Local columns and costs.
    local_cost = np.empty((n, n_var))
    ok = p.fits[p.user_class] & ~inst.forced[:, None]
    for v in range(n_var):
        hall = {"hall_local": p.hall_local[:, v]} if p.hall_local is not None else {}
        iv = inst.replace(acc_local=p.acc_local[:, v],
                          local_delay=np.maximum(p.local_delay[:, v], 1e-12),
                          local_energy=p.local_energy[:, v], **hall)
        local_cost[:, v] = cost(iv, slice(None), False, p.local_delay[:, v], p.local_energy[:, v])
        ok[:, v] &= within_budget(inst, slice(None), p.local_energy[:, v])
    li, lv = np.nonzero(ok)
    # Offload and count columns, as in the count-indexed model.
    limit = inst.count_limit
    n_max = max(int(limit.max(initial=0)), 1)
    table = cost_table(inst, n_max)
    allowed = np.isfinite(table) & (np.arange(1, n_max + 1)[None, None, :] <= limit[None, :, None])
    xi, xj, xn0 = np.nonzero(allowed)
    yj, yn0 = np.nonzero(allowed.any(axis=0))
    y_index = np.full((inst.n_servers, n_max), -1, dtype=np.int64)
    y_index[yj, yn0] = np.arange(yj.size)
    # Class columns.
    zc, zv = [], []
    for c, opts in enumerate(p.choices()):
        for v in opts:
            if v >= 0:
                zc.append(c)
                zv.append(v)
    zc_a, zv_a = np.array(zc, dtype=np.int64), np.array(zv, dtype=np.int64)
    n_l, n_x, n_y, n_z = li.size, xi.size, yj.size, zc_a.size
    off_x, off_y, off_z = n_l, n_l + n_x, n_l + n_x + n_y
    z_index = {(c, v): off_z + k for k, (c, v) in enumerate(zip(zc, zv, strict=True))}

    c_vec = np.concatenate([local_cost[li, lv], table[xi, xj, xn0], np.zeros(n_y + n_z)]) / n
    rows, cols, vals, lo, hi, kinds = [], [], [], [], [], []
    r = 0

    def row(cs, vs, rlo, rhi, kind):
        nonlocal r
        rows.append(np.full(len(cs), r))
        cols.append(np.asarray(cs, dtype=np.int64))
        vals.append(np.asarray(vs, dtype=float))
        lo.append(rlo)
        hi.append(rhi)
        kinds.append(kind)
        r += 1

    for c in sorted(set(zc)):
        ks = [z_index[(c, v)] for v in zv_a[zc_a == c]]
        row(ks, np.ones(len(ks)), 1.0, 1.0, ROW_CLASS)
    for k in range(n_l):
        row([k, z_index[(int(p.user_class[li[k]]), int(lv[k]))]], [1.0, -1.0], -np.inf, 0.0,
            ROW_LOCAL_LINK)
    for i in range(n):
        cs = np.concatenate([np.flatnonzero(li == i), off_x + np.flatnonzero(xi == i)])
        row(cs, np.ones(cs.size), 1.0, 1.0, ROW_ASSIGN)
    for j in np.unique(yj):
        ks = off_y + np.flatnonzero(yj == j)
        row(ks, np.ones(ks.size), -np.inf, 1.0, ROW_ONE_COUNT)
    x_to_y = off_y + y_index[xj, xn0]
    for k in range(n_y):
        members = off_x + np.flatnonzero(x_to_y == off_y + k)
        row(np.append(members, off_y + k), np.append(np.ones(members.size), -(yn0[k] + 1.0)),
            0.0, 0.0, ROW_COUNT)
    for k in range(n_x):
        row([off_x + k, x_to_y[k]], [1.0, -1.0], -np.inf, 0.0, ROW_LINK)
    if inst.min_accuracy is not None:
        row(np.arange(n_l + n_x), np.concatenate([p.acc_local[li, lv], inst.acc_edge[xi]]),
            n * inst.min_accuracy, np.inf, ROW_ACCURACY)
    if inst.max_hallucination is not None:
        hl = p.hall_local if p.hall_local is not None else np.zeros((n, n_var))
        row(np.arange(n_l + n_x), np.concatenate([hl[li, lv], inst.hall_edge[xi]]),
            -np.inf, n * inst.max_hallucination, ROW_HALLUCINATION)
    n_vars = n_l + n_x + n_y + n_z
    A = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(r, n_vars))
    milp = MatrixMILP(c=c_vec, constant=0.0, A=A, row_lo=np.array(lo, dtype=float),
                      row_hi=np.array(hi, dtype=float), row_kind=np.array(kinds, dtype=np.int8))
    return DeploymentModel(p, milp, li.astype(np.int64), lv.astype(np.int64),
                           xi.astype(np.int64), xj.astype(np.int64), zc_a, zv_a, n_l, n_x, n_y)


def solve_milp(model: DeploymentModel, *, time_limit: float | None = None, threads: int = 1,
               seed: int = 0) -> dict[str, object]:
    """Solve the deployment MILP with HiGHS.

    Returns
    -------
    dict
        ``status`` (``"optimal"``, ``"feasible"`` = stopped by the time limit with an
        incumbent, ``"infeasible"``, ``"no_solution"``), ``choice``, ``assignment`` (or
        ``None``), ``objective`` and ``bound`` (mean cost, s), ``solver``, ``solver_version``,
        ``runtime``.
    """
    from mecopt.solvers.base import BackendOptions
    from mecopt.solvers.highs import HighsBackend

    backend = HighsBackend()
    start = time.perf_counter()
    deadline = None if time_limit is None else start + float(time_limit)
    res = backend.solve(model.milp, BackendOptions(deadline=deadline, threads=threads, seed=seed))
    out: dict[str, object] = {
        "solver": backend.name, "solver_version": backend.version(),
        "runtime": time.perf_counter() - start, "objective": res.objective, "bound": res.bound,
        "choice": None, "assignment": None,
    }
    if res.x is None:
        out["status"] = "infeasible" if res.status == "infeasible" else "no_solution"
        return out
    out["status"] = "optimal" if res.status == "optimal" else "feasible"
    out["choice"], out["assignment"] = model.decode(res.x)
    return out
