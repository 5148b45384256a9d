"""The ``priced`` policy: exact slots under prices, causality, the guard, the prior file."""

import dataclasses
import json

import numpy as np
import pytest

import mecopt
import mecopt.longterm as lt
from mecopt.longterm.price_prior import (
    FEATURES,
    PRICES,
    PricePrior,
    PriorError,
    load_prior,
    slot0_features,
)
from mecopt.longterm.priced import PricedPolicy
from mecopt.longterm.slot_instance import slot_instance
from mecopt.longterm.traces import CELL_FIELDS, FLAG_FIELDS

FIXED = {"accuracy": 0.4, "hallucination": 0.0, "energy": 0.0}


@pytest.fixture(scope="module")
def tiny():
    return lt.trace(n_devices=5, horizon=25, seed=4)


def splice(a: lt.Trace, b: lt.Trace, t0: int) -> lt.Trace:
    """``a`` up to slot t0 - 1, ``b`` from slot t0 on (static fields of ``a``)."""
    cat = {
        f: np.concatenate([getattr(a, f)[:, :t0], getattr(b, f)[:, t0:]], axis=1)
        for f in (*CELL_FIELDS, *FLAG_FIELDS, "gain", "position")
    }
    return dataclasses.replace(a, **cat)


@pytest.mark.parametrize("options", [{}, {"prices": FIXED, "correct": False}])
def test_priced_is_causal_under_a_splice(options):
    a = lt.trace(n_devices=6, horizon=20, seed=21)
    b = lt.trace(n_devices=6, horizon=20, seed=22)
    t0 = 9
    spliced = splice(a, b, t0)
    ra = lt.run(a, "priced", **options)
    rs = lt.run(spliced, "priced", **options)
    np.testing.assert_array_equal(ra.records.actions[:t0], rs.records.actions[:t0])
    # The splice changes the future, so the test could see a policy that peeks.
    assert not np.array_equal(ra.records.actions[t0:], rs.records.actions[t0:])


def test_priced_meets_every_constraint_and_replays(tiny):
    r = lt.run(tiny, "priced")
    assert r.feasible, r.violations
    again = lt.replay(tiny, r.records.actions)
    assert again.mean_latency == r.mean_latency
    assert r.info["prices"][0][0] == 0.0 and len(r.info["prices"]) == tiny.horizon


class _Checked(PricedPolicy):
    """Checks each unconstrained slot decision against brute force at the slot's prices."""

    def decide(self, obs, b):
        actions = super().decide(obs, b)
        users = np.flatnonzero(obs.has_query[b])
        if self._stats.get("backstop", 0) == 0 and self._stats.get("energy_guard", 0) == 0:
            inst, _ = slot_instance(
                obs,
                b,
                cost_accuracy=float(self._quality[b, 0]),
                cost_hallucination=float(self._quality[b, 1]),
                cost_energy=self._energy[b, users],
            )
            best = mecopt.solve(inst, "bruteforce")
            mine = mecopt.evaluate(inst, actions[users] - 1)
            assert mine.objective == pytest.approx(best.objective, rel=1e-7, abs=1e-12)
            self.checked = getattr(self, "checked", 0) + 1
        return actions


def test_priced_slot_decisions_are_exact_at_its_prices(tiny):
    pol = _Checked(prices={"accuracy": 0.3, "hallucination": 0.05, "energy": 0.01})
    lt.run(tiny, pol)
    assert pol.checked >= 10


def test_correction_raises_the_accuracy_price_when_behind():
    tr = lt.trace(n_devices=8, horizon=30, seed=6, min_accuracy=0.53)
    low = lt.run(tr, "priced", prices={"accuracy": 0.0, "hallucination": 0.0, "energy": 0.0})
    traj = np.array(low.info["prices"])
    assert traj[0, 1] == 0.0 and traj[:, 1].max() > 0.0
    assert low.feasible, low.violations


def test_energy_guard_holds_a_tight_budget():
    tr = lt.trace(
        n_devices=6,
        horizon=40,
        seed=8,
        energy_budget_j=0.03,
        min_accuracy=None,
        max_hallucination=None,
    )
    r = lt.run(
        tr, "priced", prices={"accuracy": 0.0, "hallucination": 0.0, "energy": 0.0}, correct=False
    )
    assert r.summary_dict()["energy_max_ratio"] <= 1.0
    assert r.info.get("energy_guard", 0) > 0
    assert np.any(r.records.actions == 0)  # some local answers within the budget


def test_prior_fit_predict_and_file_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((12, len(FEATURES)))
    y = rng.random((12, len(PRICES)))
    prior = PricePrior.fit(x, y, k=1)
    p = prior.predict(x[3])
    assert [p[n] for n in PRICES] == pytest.approx(y[3].tolist())
    path = tmp_path / "p.json"
    path.write_text(json.dumps(prior.to_dict()))
    again = load_prior(str(path))
    assert again.predict(x[7]) == prior.predict(x[7])
    with pytest.raises(PriorError, match="does not exist"):
        load_prior(str(tmp_path / "missing.json"))
    with pytest.raises(PriorError, match="not shipped"):
        load_prior("nope")
    bad = prior.to_dict()
    bad["features"] = ["x"]
    path.write_text(json.dumps(bad))
    with pytest.raises(PriorError, match="features"):
        load_prior(str(path))


def test_shipped_prior_predicts_sane_prices(tiny):
    prior = load_prior()
    assert prior.provenance.get("traces") and all(
        t["seed"] >= 1_000_000 for t in prior.provenance["traces"]
    )
    obs = lt.Simulator(tiny).reset()
    p = prior.predict(slot0_features(obs, 0, tiny.scenario.arrival_rate))
    assert set(p) == set(PRICES) and all(0.0 <= v < 10.0 for v in p.values())


def test_bad_options_name_the_field():
    with pytest.raises(ValueError, match="accuracy_kp"):
        PricedPolicy(accuracy_kp=-1.0)
    with pytest.raises(ValueError, match="unknown priced option"):
        PricedPolicy(nonsense=1.0)
    with pytest.raises(ValueError, match="prices"):
        PricedPolicy(prices={"accuracy": -1.0})
    with pytest.raises(ValueError, match="unknown key"):
        PricedPolicy(prices={"latency": 1.0})


def test_score_assignments_matches_the_evaluator_and_the_exact_slot(tiny):
    from mecopt.longterm.slot_instance import score_assignments

    obs = lt.Simulator(tiny).reset()
    users = np.flatnonzero(obs.has_query[0])
    w = {"cost_accuracy": 0.4, "cost_energy": np.full(users.size, 0.02)}
    inst, _ = slot_instance(obs, 0, **w)
    best = mecopt.solve(inst, "bruteforce").assignment
    rng = np.random.default_rng(1)
    cands = rng.integers(-1, tiny.n_servers, size=(5, users.size))
    cands[0] = best
    scores = score_assignments(obs, 0, cands, **w)
    assert scores[0] == pytest.approx(mecopt.evaluate(inst, best).objective)
    assert np.all(scores >= scores[0] - 1e-12)
    actions = np.full((1, tiny.n_devices), -1)
    actions[0, users] = best + 1
    assert score_assignments(obs, 0, actions, **w)[0] == scores[0]


def test_docstring_example_runs():
    import doctest

    import mecopt.longterm.priced as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
