"""Per-slot policies: the slot instance, the Instance's edge_wait, GOA, myopic-optimal and
Lyapunov (exact per slot, replayable, meeting the long-term constraints)."""

import numpy as np
import pytest

import mecopt
import mecopt.longterm as lt
from mecopt.longterm.lyapunov import LyapunovPolicy
from mecopt.longterm.slot_instance import slot_instance


@pytest.fixture(scope="module")
def tiny():
    return lt.trace(n_devices=5, horizon=25, seed=4)


def test_edge_wait_is_added_to_every_offload_and_solved_exactly():
    inst = mecopt.scenario("uniform", 6, seed=1)
    waited = inst.replace(edge_wait=[0.01, 0.02, 0.0])
    a = np.array([0, 1, 2, -1, 0, 1])
    extra = mecopt.evaluate(waited, a).delay - mecopt.evaluate(inst, a).delay
    np.testing.assert_allclose(extra, [0.01, 0.02, 0.0, 0.0, 0.01, 0.02])
    brute = mecopt.solve(waited, "bruteforce")
    exact = mecopt.solve(waited, "highs")
    assert exact.status == "optimal"
    assert exact.objective == pytest.approx(brute.objective, rel=1e-9)
    again = mecopt.Instance.from_json(waited.to_json())
    np.testing.assert_array_equal(again.edge_wait, waited.edge_wait)
    assert "edge_wait" not in inst.to_dict()["instance"]
    with pytest.raises(ValueError, match=r"edge_wait\[1\] = -1.0: must be >= 0"):
        inst.replace(edge_wait=[0.0, -1.0, 0.0])
    with pytest.raises(ValueError, match="edge_wait must have shape"):
        inst.replace(edge_wait=[0.0])


def test_slot_instance_reproduces_the_simulator(tiny):
    sim = lt.Simulator(tiny)
    obs = sim.reset()
    rng = np.random.default_rng(0)
    checked = 0
    while not sim.done:
        actions = np.where(obs.has_query, rng.integers(0, 5, size=obs.has_query.shape), -1)
        inst, users = slot_instance(obs, 0)
        out = sim.step(actions)
        if inst is not None:
            m = mecopt.evaluate(inst, actions[0, users] - 1)
            np.testing.assert_allclose(m.delay, out.latency[0, users], rtol=1e-12)
            np.testing.assert_allclose(m.energy, out.energy[0, users], rtol=1e-12, atol=0)
            checked += 1
        if not sim.done:
            obs = sim.observe()
    assert checked > 10


@pytest.mark.parametrize("policy, options", [
    ("goa", {}), ("myopic-optimal", {}), ("lyapunov", {"V": 3.0}), ("lyapunov", {"V": 300.0}),
])
def test_slot_policies_replay_to_the_same_figures(tiny, policy, options):
    r = lt.run(tiny, policy, **options)
    again = lt.replay(tiny, r.records.actions)
    assert again.mean_latency == r.mean_latency
    np.testing.assert_array_equal(again.energy, r.energy)
    assert (again.accuracy, again.hallucination, again.violations) == \
        (r.accuracy, r.hallucination, r.violations)
    assert r.n_queries == int(tiny.has_query.sum())


class _Checked(LyapunovPolicy):
    """Lyapunov that checks each slot decision against brute force on the weighted slot."""

    def decide(self, obs, b):
        actions = super().decide(obs, b)
        users = np.flatnonzero(obs.has_query[b])
        inst, _ = slot_instance(obs, b, **self.weights(obs, b, users))
        best = mecopt.solve(inst, "bruteforce")
        mine = mecopt.evaluate(inst, actions[users] - 1)
        assert mine.objective == pytest.approx(best.objective, rel=1e-7, abs=1e-12)
        self.checked = getattr(self, "checked", 0) + 1
        return actions


def test_lyapunov_slot_decisions_are_exact(tiny):
    pol = _Checked(V=3.0)
    lt.run(tiny, pol)
    assert pol.checked >= 20


def test_lyapunov_weights_follow_the_queues():
    pol = LyapunovPolicy(V=4.0, energy_window=1.0)
    tr = lt.trace(n_devices=3, horizon=2, seed=0)
    obs = lt.Simulator(tr).reset()
    obs = type(obs)(**{**obs.__dict__, "energy_queue": np.array([[0.15, 0.0, 0.3]]),
                       "accuracy_queue": np.array([2.0]),
                       "hallucination_queue": np.array([1.0])})
    w = pol.weights(obs, 0, np.array([0, 2]))
    b = tr.scenario.energy_budget_j
    np.testing.assert_allclose(w["cost_energy"], [0.15 / (4 * b * b), 0.3 / (4 * b * b)])
    assert (w["cost_accuracy"], w["cost_hallucination"]) == (0.5, 0.25)
    # The energy window W divides the energy weight only.
    w20 = LyapunovPolicy(V=4.0, energy_window=20.0).weights(obs, 0, np.array([0, 2]))
    np.testing.assert_allclose(w20["cost_energy"], w["cost_energy"] / 20.0)
    assert w20["cost_accuracy"] == w["cost_accuracy"]
    with pytest.raises(ValueError, match="energy_window"):
        LyapunovPolicy(energy_window=0.5)
    with pytest.raises(ValueError, match="V = 0"):
        LyapunovPolicy(V=0)
    with pytest.raises(mecopt.UnknownNameError, match="not an exact solver"):
        LyapunovPolicy(solver="goa")


def test_lyapunov_meets_constraints_on_a_long_horizon_where_local_does_not():
    tr = lt.trace(n_devices=6, horizon=400, seed=11)
    local = lt.run(tr, "local")
    assert any("energy" in v for v in local.violations)
    assert any("accuracy" in v for v in local.violations)
    lyap = lt.run(tr, "lyapunov", V=3.0)
    assert lyap.feasible, lyap.violations
    assert lyap.accuracy >= tr.scenario.min_accuracy
    assert np.all(lyap.energy <= tr.scenario.energy_budget_j)
    assert lyap.info.get("optimal", 0) > 0 and "fallback_goa" not in lyap.info


def test_myopic_optimal_keeps_the_running_totals(tiny):
    r = lt.run(tiny, "myopic-optimal")
    rec = r.records
    budget = tiny.scenario.energy_budget_j
    # Energy: a local answer only within the running allowance, so the totals never exceed
    # budget x slots by more than uplink energies (mJ).
    used = np.cumsum(rec.energy, axis=0)
    allowed = budget * np.arange(1, tiny.horizon + 1)[:, None]
    assert np.all(used <= allowed + 0.01)
    assert r.feasible, r.violations


def test_goa_offloads_every_uncertain_query(tiny):
    r = lt.run(tiny, "goa", tau=0.6)
    q = r.records.has_query
    uncertain = q & (tiny.alpha[0] > 0.6)
    assert np.all(r.records.actions[uncertain] >= 1)
    with pytest.raises(ValueError, match="tau"):
        lt.make_policy("goa", tau=2.0)
