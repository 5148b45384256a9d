"""Shared fixtures of the core test suite.

- ``hand``: a tiny instance (N = 3, M = 2) with round numbers, used for hand-checked delays and
  the hand-worked GOA example; its JSON copy lives in ``tests/data/hand_n3_m2.json``.
- ``small_case`` / ``other_cells_case``: parametrized families of small random instances
  (scenario "uniform" with N 4-7, M 2-3, and kim2026 with N 4-6), built from a spec tuple
  ``(scenario, N, M, seed, queue, kind)`` so that brute force stays below 50,000 assignments.
  Any test asking for one of these fixtures is run once per spec.
- ``bruteforce``: the brute-force optimum of an instance, cached for the session.
"""

import functools
from pathlib import Path

import numpy as np
import pytest

import mecopt
from mecopt.channel import comm_delay

#: The repository root and the tests' data folder.
ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"

#: Every exact MILP backend, tested against brute force.
EXACT_BACKENDS = ("highs", "ortools-mip", "ortools-mip:scip", "ortools-cpsat", "pyomo", "cvxpy")
HEURISTICS = ("goa", "local-all", "edge-all", "min-delay", "random")
QUEUES = ("processor-sharing", "mm1", "md1")
#: Constraint settings of the small cases (see ``build_case``).
KINDS = (
    "plain",
    "tau",
    "accuracy",
    "max-users",
    "tau+max-users",
    "accuracy+tau",
    "infeasible-accuracy",
    "infeasible-tau",
)
#: The tau of the small cases that use the uncertainty rule.
TAU = 0.6


def hand_instance():
    """N = 3 users, M = 2 ESs, numbers chosen so that every delay is a round figure.

    Channel: P g / sigma^2 = 1 for every pair, so log2(1 + SNR) = 1 and the uplink rate of
    ES j is B_j / n_j bit/s. Prompts are 1e4 bits.

    - ES 0: B = 1e6 Hz -> t_comm(n) = 10 ms x n; C = 2e12, C_max = 1e12 FLOP/s, W = 1e10
      FLOP -> t_edge(n) = 10 ms for n <= 2, 15 ms for n = 3. Total d0(n): 20, 30, 45 ms.
    - ES 1: B = 5e5 Hz -> t_comm(n) = 20 ms x n; C = C_max = 8e11 FLOP/s -> t_edge(n) =
      12.5 ms x n. Total d1(n): 32.5, 65, 97.5 ms.

    Users: alpha = (0.9, 0.5, 0.2), local delays (15, 25, 40) ms, tau = 0.8 (user 0 forced).
    """
    return mecopt.Instance(
        alpha=[0.9, 0.5, 0.2],
        acc_local=[0.3, 0.6, 0.8],
        acc_edge=[0.7, 0.75, 0.85],
        local_delay=[0.015, 0.025, 0.040],
        prompt_bits=[1e4, 1e4, 1e4],
        edge_work=[1e10, 1e10, 1e10],
        tx_power=[1.0, 1.0, 1.0],
        gain=np.ones((3, 2)),
        bandwidth=[1e6, 5e5],
        noise=[1.0, 1.0],
        capacity=[2e12, 8e11],
        per_user_cap=[1e12, 8e11],
        tau=0.8,
        meta={"name": "hand_n3_m2"},
    )


@pytest.fixture(scope="session")
def hand():
    return hand_instance()


@pytest.fixture(scope="session")
def hand_json_path():
    return DATA / "hand_n3_m2.json"


# ---------------------------------------------------------------- small random cases
def _small_specs():
    specs = []
    for seed in range(48):
        # 24 consecutive seeds cover every (queue, kind) pair once; each block of 8 seeds
        # has its own (N, M), so every kind meets several sizes.
        block = seed // 8
        n, m = 4 + block % 4, 2 + (block // 2 + block) % 2
        specs.append(("uniform", n, m, seed, QUEUES[seed % 3], KINDS[seed % len(KINDS)]))
    for seed in range(12):
        specs.append(("kim2026", 4 + seed % 3, 4, 100 + seed, QUEUES[seed % 3],
                      KINDS[(seed * 3) % len(KINDS)]))
    return specs


def _other_cells_specs():
    kinds = ("plain", "tau", "accuracy", "max-users", "infeasible-tau")
    return [("uniform", 4 + seed % 3, 2 + seed % 2, 500 + seed, QUEUES[seed % 3],
             kinds[seed % len(kinds)], "other-cells") for seed in range(15)]


SMALL_SPECS = _small_specs()
OTHER_CELLS_SPECS = _other_cells_specs()


def spec_id(spec):
    family, n, m, seed, queue, kind, *rest = spec
    return "-".join([family, f"n{n}", f"m{m}", f"s{seed}", queue, kind, *rest])


def achievable_accuracy(inst):
    """Largest mean accuracy of any assignment that respects the uncertainty rule."""
    best = np.where(inst.forced, inst.acc_edge, np.maximum(inst.acc_local, inst.acc_edge))
    return float(best.mean())


def stable_rate(inst, unstable_from):
    """Query rate making the slowest ES unstable from ``unstable_from`` users on."""
    mu = inst.capacity / inst.edge_work.mean()
    return float(mu.min() / (unstable_from - 0.5))


@functools.cache
def build_case(spec):
    """The instance of a spec tuple; the same object for the same spec (session cache)."""
    family, n, m, seed, queue, kind, *rest = spec
    interference = rest[0] if rest else "none"
    over = {"n_servers": m} if family == "uniform" else {}
    inst = mecopt.scenario(family, n, seed, tau=None, interference=interference, **over)
    if queue != "processor-sharing":
        # rho = n lambda / mu: the slowest ES is unstable from its third user on.
        inst = inst.replace(queue=queue, arrival_rate=stable_rate(inst, 3))
    changes = {}
    if "tau" in kind:
        changes["tau"] = TAU
    if kind in ("max-users", "tau+max-users"):
        changes["max_users"] = np.arange(m) % 2 + 1
    if kind in ("accuracy", "accuracy+tau"):
        lo = float(inst.acc_local.mean())
        hi = achievable_accuracy(inst.replace(**changes))
        changes["min_accuracy"] = lo + 0.8 * (hi - lo)
    if kind == "infeasible-accuracy":
        # At most one user per ES: the best reachable accuracy adds the M largest gains;
        # ask for a little more than that.
        gains = np.sort(np.maximum(inst.acc_edge - inst.acc_local, 0.0))[::-1]
        best = (inst.acc_local.sum() + gains[:m].sum()) / n
        changes["max_users"] = np.ones(m, dtype=int)
        changes["min_accuracy"] = min(1.0, best + 0.01)
    if kind == "infeasible-tau":
        # Every user is forced, but the ESs take at most N - 1 users in total.
        changes["tau"] = float(inst.alpha.min()) / 2
        changes["max_users"] = np.full(m, (n - 1) // m)
    return inst.replace(**changes)


def pytest_generate_tests(metafunc):
    if "small_case" in metafunc.fixturenames:
        metafunc.parametrize("small_case", SMALL_SPECS, ids=spec_id, indirect=True)
    if "other_cells_case" in metafunc.fixturenames:
        metafunc.parametrize("other_cells_case", OTHER_CELLS_SPECS, ids=spec_id, indirect=True)


@pytest.fixture
def small_case(request):
    return build_case(request.param)


@pytest.fixture
def other_cells_case(request):
    return build_case(request.param)


@functools.cache
def _bruteforce(inst):
    return mecopt.solve(inst, "bruteforce", threads=1)


@pytest.fixture(scope="session")
def bruteforce():
    """``bruteforce(inst) -> SolveResult``, cached per instance object."""
    return _bruteforce


#: Energy-budget, hallucination-cap and weighted-objective cases (``build_energy``).
ENERGY_KINDS = (
    "energy",
    "energy+tau",
    "hall",
    "hall+accuracy",
    "weighted",
    "weighted+energy",
    "all",
    "infeasible-energy",
    "infeasible-hall",
)
ENERGY_SPECS = [(kind, 4 + seed % 3, 2 + seed % 2, seed, "mm1" if seed % 4 == 3 else
          "processor-sharing") for kind in ENERGY_KINDS for seed in range(4)]


def lone_uplink_energy(inst):
    """(N, M) uplink energy of each user alone on each ES, J."""
    users, es = np.arange(inst.n_users)[:, None], np.arange(inst.n_servers)[None, :]
    return inst.tx_power[:, None] * comm_delay(inst, users, es, 1)


@functools.cache
def build_energy(spec, interference="none"):
    kind, n, m, seed, queue = spec
    inst = mecopt.scenario("uniform", n, seed, n_servers=m, tau=None, interference=interference)
    if queue != "processor-sharing":
        inst = inst.replace(queue=queue, arrival_rate=stable_rate(inst, 3))
    rng = np.random.default_rng(1000 + seed)
    e1 = lone_uplink_energy(inst).min(axis=1)
    ch = {}
    if "energy" in kind or kind == "all":
        # Budgets between the cheapest lone uplink and 3x it cut large counts; local energies
        # around the budget force some users off their device.
        budget = e1 * rng.uniform(1.0, 3.0, n)
        ch.update(energy_budget=budget, local_energy=budget * rng.uniform(0.3, 1.5, n))
    if "hall" in kind or kind == "all":
        hl, he = rng.uniform(0.1, 0.5, n), rng.uniform(0.05, 0.3, n)
        lo, hi = np.minimum(hl, he).mean(), hl.mean()
        cap = lo - 0.02 if kind == "infeasible-hall" else lo + 0.4 * (hi - lo)
        ch.update(hall_local=hl, hall_edge=he, max_hallucination=cap)
    if "weighted" in kind or kind == "all":
        ch.setdefault("local_energy", e1 * rng.uniform(0.5, 3.0, n))
        ch.update(cost_energy=rng.uniform(10.0, 60.0, n), cost_accuracy=0.1)
        if "hall_local" in ch:
            ch["cost_hallucination"] = 0.05
    if "tau" in kind or kind == "all":
        ch["tau"] = 0.6
    if kind in ("hall+accuracy", "all"):
        lo, hi = inst.acc_local.mean(), np.maximum(inst.acc_local, inst.acc_edge).mean()
        ch["min_accuracy"] = lo + 0.3 * (hi - lo)
    if kind == "infeasible-energy":
        # User 0 can neither stay local nor afford any uplink.
        budget = ch["energy_budget"].copy()
        budget[0] = 0.5 * e1[0]
        local = ch["local_energy"].copy()
        local[0] = 2.0 * budget[0]
        ch.update(energy_budget=budget, local_energy=local)
    return inst.replace(**ch)


@functools.cache
def brute(inst):
    """The brute-force answer of an instance, cached."""
    return mecopt.solve(inst, "bruteforce", threads=1)


def energy_id(spec):
    kind, n, m, seed, queue = spec
    return f"{kind}-n{n}-m{m}-s{seed}-{queue}"


def with_row(n, seed, row, share, n_servers=2):
    """kim2026 (no tau rule) with an accuracy target or a hallucination cap ``share`` of the
    way from the unconstrained optimum to all-edge."""
    inst = mecopt.scenario("kim2026", n, seed, tau=None, n_servers=n_servers)
    if row == "hallucination":
        rng = np.random.default_rng(seed)
        inst = inst.replace(hall_local=rng.uniform(0.1, 0.4, n), hall_edge=rng.uniform(0, 0.1, n))
    free = mecopt.solve(inst, "exact")
    edge = mecopt.evaluate(inst, np.arange(n) % inst.n_servers)
    if row == "accuracy":
        lo, hi = free.metrics.accuracy, edge.accuracy
        return inst.replace(min_accuracy=lo + share * (hi - lo))
    lo, hi = free.metrics.mean_hallucination, edge.mean_hallucination
    return inst.replace(max_hallucination=lo + share * (hi - lo))


@functools.cache
def kim(n, seed=0, **changes):
    """kim2026 instance with ``changes``, cached."""
    return mecopt.scenario("kim2026", n, seed).replace(**changes)


def check_exact(res, ref, rel=1e-6):
    """``res`` matches the brute-force answer ``ref``: status, objective and a valid bound."""
    assert res.status == ref.status, res.message
    if ref.status == "infeasible":
        assert res.assignment is None
        return
    assert res.metrics.feasible
    assert res.objective == pytest.approx(ref.objective, rel=rel, abs=1e-12)
    assert res.bound <= ref.objective + 1e-9 * abs(ref.objective)


def interference_case(kind: str, seed: int) -> mecopt.Instance:
    """A tiny other-cells instance (N = 6) of constraint ``kind`` (see ``INTERFERENCE_CASES``)."""
    family, n = ("kim2026", 6) if seed % 2 == 0 else ("uniform", 6)
    over = {} if family == "kim2026" else {"n_servers": 3}
    inst = mecopt.scenario(family, n, seed, tau=None, interference="other-cells", **over)
    if kind == "accuracy":
        lo = float(np.mean(inst.acc_local))
        hi = float(np.mean(np.maximum(inst.acc_local, inst.acc_edge)))
        inst = inst.replace(min_accuracy=lo + 0.7 * (hi - lo))
    elif kind == "tau":
        inst = inst.replace(tau=float(np.median(inst.alpha)))
    elif kind == "max-users":
        inst = inst.replace(max_users=np.full(inst.n_servers, 2))
    elif kind == "infeasible":
        inst = inst.replace(tau=0.0, max_users=np.ones(inst.n_servers, dtype=np.int64))
    elif kind == "energy":
        inst = inst.replace(cost_energy=np.full(n, 0.5))
    return inst


#: The tiny other-cells cases of the interference methods' brute-force tests.
INTERFERENCE_CASES = [(kind, seed) for seed, kind in enumerate(
    ("plain", "plain", "accuracy", "accuracy", "tau", "max-users", "energy", "infeasible"))]


def interval_matches_bruteforce(kind: str, seed: int, formulation: str) -> None:
    """``highs`` with ``formulation`` on case (kind, seed) finds the brute-force optimum
    (or infeasibility) and a bound no larger."""
    inst = interference_case(kind, seed)
    ref = mecopt.solve(inst, "bruteforce")
    res = mecopt.solve(inst, "highs", formulation=formulation, time_limit=60, threads=1)
    assert res.info["formulation"] == formulation
    if ref.status == "infeasible":
        assert kind == "infeasible"
        assert res.status == "infeasible" and res.assignment is None
        return
    assert ref.status == "optimal"
    assert res.status == "optimal"
    assert res.metrics.feasible
    assert res.objective == pytest.approx(ref.objective, rel=1e-4)
    assert res.objective >= ref.objective * (1 - 1e-12)
    # The proven bound never exceeds the true optimum.
    assert res.bound <= ref.objective * (1 + 1e-9)
    assert res.gap <= 1e-4


def hindsight_lp(tr):
    """The hindsight model of ``tr`` (member 0) and its LP solution."""
    from mecopt.formulations.hindsight_model import build
    from mecopt.solvers.highs_matrix import solve_matrix

    model = build(tr, 0)
    sol = solve_matrix(
        model.c,
        model.constant,
        model.A,
        model.row_lo,
        model.row_hi,
        model.col_lo,
        model.col_hi,
        None,
    )
    return model, sol
