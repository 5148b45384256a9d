"""Hindsight's LP prices (the duals ``priced`` learns from), ``lp_only`` and the rollout
info: status, bound, gap and prices."""

import numpy as np
import pytest
from conftest import hindsight_lp

import mecopt.longterm as lt
from mecopt.formulations.hindsight_model import MS, ROW_NAMES
from mecopt.formulations.hindsight_pricing import row_prices
from mecopt.longterm.hindsight import solve_hindsight
from mecopt.solvers.highs_matrix import solve_matrix


def test_row_prices_are_the_slope_of_the_lp_in_instance_units():
    """The accuracy price (s per unit of accuracy) is the LP's mean latency per unit of the
    target, and the energy prices (s/J) its total latency per J of a device's budget."""
    kw = {"n_devices": 6, "horizon": 12, "seed": 5, "n_servers": 2, "energy_budget_j": 0.06}
    eps = 1e-4
    base = lt.trace(min_accuracy=0.53, **kw)
    model, sol = hindsight_lp(base)
    prices = row_prices(model, sol.duals)
    assert prices["accuracy"] > 0, "the target must bind for the test to mean anything"
    up, sol_up = hindsight_lp(lt.trace(min_accuracy=0.53 + eps, **kw))
    n = model.n_queries
    slope = (sol_up.objective - sol.objective) / MS / n / eps
    assert slope == pytest.approx(prices["accuracy"], rel=1e-3)
    e = np.array(prices["energy"])
    assert e.shape == (6,) and np.all(e >= 0)
    u = int(np.argmax(e))
    assert e[u] > 0, "some device's budget must bind"
    more = model.row_hi.copy()
    energy_rows = np.flatnonzero(model.row_kind == ROW_NAMES.index("energy"))  # per device
    more[energy_rows[u]] += 1e3 * 1e-4  # 0.1 mJ more budget (rows in mJ)
    sol_e = solve_matrix(
        model.c, model.constant, model.A, model.row_lo, more, model.col_lo, model.col_hi, None
    )
    slope_e = (sol.objective - sol_e.objective) / MS / 1e-4
    assert slope_e == pytest.approx(e[u], rel=1e-3)


def test_rollout_info_reports_status_bound_gap_and_prices():
    tr = lt.trace(n_devices=5, horizon=10, seed=1, n_servers=2, min_accuracy=0.53)
    r = lt.run(tr, "hindsight")
    info = r.info
    assert info["status"] == ["optimal"]
    assert info["bound"][0] <= r.mean_latency * (1 + 1e-12)
    assert 0 <= info["gap"][0] <= 1e-4
    assert set(info["prices"][0]) == {"accuracy", "hallucination", "energy"}
    quick = lt.run(tr, "hindsight", lp_only=True)
    assert quick.info["bound"][0] <= r.mean_latency * (1 + 1e-12)
    assert quick.mean_latency >= r.mean_latency * (1 - 1e-12)
    assert quick.info["status"][0] in ("optimal", "feasible")


def test_priced_incumbent_starts_the_search():
    tr = lt.trace(n_devices=8, horizon=15, seed=3, n_servers=2, min_accuracy=0.53)
    res = solve_hindsight(tr)
    inc = res.stats[0]["incumbents"]
    assert "priced" in inc and isinstance(inc["priced"], dict)
    assert inc["priced"]["mean_latency"] >= res.objective[0] * (1 - 1e-12)
    off = solve_hindsight(tr, priced=False)
    assert "priced" not in off.stats[0]["incumbents"]
    assert off.objective[0] == pytest.approx(res.objective[0], rel=1e-4)
