"""Edge-server queue models: formulas, unstable loads, monotonicity, the registry."""

import numpy as np
import pytest

import mecopt
from mecopt.errors import UnknownNameError
from mecopt.queues import QUEUE_MODELS


def one_es(queue="processor-sharing", arrival_rate=0.0, capacity=4e12, per_user_cap=1e12):
    """Two users, one ES; mean edge work 1.5e10 FLOP, so mu = C / 1.5e10 queries/s."""
    return mecopt.Instance(
        alpha=[0.5, 0.5], acc_local=[0.5, 0.5], acc_edge=[0.6, 0.6],
        local_delay=[0.03, 0.03], prompt_bits=[1e4, 1e4], edge_work=[1e10, 2e10],
        tx_power=[1.0, 1.0], gain=np.ones((2, 1)), bandwidth=[1e6], noise=[1.0],
        capacity=[capacity], per_user_cap=[per_user_cap], queue=queue,
        arrival_rate=arrival_rate,
    )


def edge(inst, user, n):
    model = QUEUE_MODELS.get(inst.queue)
    return float(model.edge_delay(inst, np.array([user]), np.array([0]), np.array([n]))[0])


@pytest.mark.parametrize(
    ("user", "n", "expected"),
    [
        (0, 1, 1e10 / 1e12),  # C_max binds: 1e12 < 4e12 / 1
        (0, 4, 1e10 / 1e12),  # 4e12 / 4 = 1e12 = C_max
        (0, 5, 1e10 / 0.8e12),  # 4e12 / 5 = 0.8e12 < C_max
        (1, 8, 2e10 / 0.5e12),
    ],
)
def test_processor_sharing_share(user, n, expected):
    assert edge(one_es(), user, n) == pytest.approx(expected, rel=1e-12)


# mu = 4e12 / 1.5e10 = 266.67 queries/s; lambda = 80 -> rho(n) = 0.3 n.
MU = 4e12 / 1.5e10


@pytest.mark.parametrize(("queue", "factor"), [("mm1", 1.0), ("md1", 0.5)])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_single_server_queue_formula(queue, factor, n):
    inst = one_es(queue, arrival_rate=80.0)
    rho = 0.3 * n
    expected = 2e10 / 4e12 + factor * rho / (MU * (1 - rho))
    assert edge(inst, 1, n) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("queue", ["mm1", "md1"])
@pytest.mark.parametrize("rate", [MU, MU / 2, MU / 3 * 1.0000001, 1e9])
def test_unstable_load_is_infinite_never_nan(queue, rate):
    # rate = MU: rho = 1 at n = 1 exactly; the others cross 1 at n = 2, 3 or at once.
    inst = one_es(queue, arrival_rate=rate)
    n = np.arange(1, 6)
    d = QUEUE_MODELS.get(inst.queue).edge_delay(inst, np.zeros(5, int), np.zeros(5, int), n)
    rho = n * rate / MU
    assert not np.isnan(d).any()
    assert np.all(np.isinf(d) == (rho >= 1 - 1e-12))
    assert np.all(d[np.isfinite(d)] > 0)


@pytest.mark.parametrize("queue", ["processor-sharing", "mm1", "md1"])
def test_delay_is_non_decreasing_in_load(queue):
    # The count-indexed MILP's pruning relies on it.
    inst = mecopt.scenario("kim2026", 30, seed=0)
    if queue != "processor-sharing":
        mu = inst.capacity / inst.edge_work.mean()
        inst = inst.replace(queue=queue, arrival_rate=float(mu.min() / 20))
    model = QUEUE_MODELS.get(queue)
    users = np.arange(30)[:, None, None]
    es = np.arange(4)[None, :, None]
    n = np.arange(1, 31)[None, None, :]
    d = model.edge_delay(inst, users, es, n)
    assert np.all(d[..., 1:] >= d[..., :-1])
    assert np.isinf(d).any() == (queue != "processor-sharing")


def test_md1_waits_half_as_long_as_mm1():
    mm1 = one_es("mm1", arrival_rate=100.0)
    md1 = one_es("md1", arrival_rate=100.0)
    own = 1e10 / 4e12
    assert edge(md1, 0, 2) - own == pytest.approx((edge(mm1, 0, 2) - own) / 2, rel=1e-12)


def test_registry_names_and_unknown():
    assert QUEUE_MODELS.names() == ["processor-sharing", "mm1", "md1"]
    with pytest.raises(UnknownNameError, match=r"unknown queue model 'mg1'; valid names: "
                                               r"'processor-sharing', 'mm1', 'md1'"):
        QUEUE_MODELS.get("mg1")


def test_registry_refuses_duplicate_name():
    with pytest.raises(ValueError, match=r"queue model 'mm1' is already registered"):
        QUEUE_MODELS.register("mm1", object())
