"""The Instance: validation with clear errors, JSON round trip, immutability."""

import dataclasses
import json

import numpy as np
import pytest
from conftest import hand_instance

import mecopt
from mecopt.errors import UnknownNameError
from mecopt.instance import SCHEMA_VERSION, InstanceFormatError


def fields(**changes):
    """Keyword arguments of the hand instance (N = 3, M = 2), with some replaced."""
    inst = hand_instance()
    kw = {f.name: getattr(inst, f.name) for f in dataclasses.fields(inst)}
    kw.update(changes)
    return kw


def with_value(name, index, value):
    arr = np.array(getattr(hand_instance(), name), dtype=float)
    arr[index] = value
    return fields(**{name: arr})


# ---------------------------------------------------------------- bad values
@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (with_value("alpha", 2, np.nan), r"Instance\.alpha\[2\] = nan: must be finite"),
        (with_value("local_delay", 1, np.inf), r"Instance\.local_delay\[1\] = inf: must be finite"),
        (with_value("gain", (1, 0), np.nan), r"Instance\.gain\[1, 0\] = nan: must be finite"),
        (with_value("capacity", 1, -1.0), r"Instance\.capacity\[1\] = -1\.0: must be > 0"),
        (with_value("capacity", 0, 0.0), r"Instance\.capacity\[0\] = 0\.0: must be > 0"),
        (with_value("per_user_cap", 1, 0.0), r"Instance\.per_user_cap\[1\] = 0\.0: must be > 0"),
        (with_value("bandwidth", 0, -5.0), r"Instance\.bandwidth\[0\] = -5\.0: must be > 0"),
        (with_value("noise", 1, 0.0), r"Instance\.noise\[1\] = 0\.0: must be > 0"),
        (with_value("edge_work", 2, -1.0), r"Instance\.edge_work\[2\] = -1\.0: must be > 0"),
        (with_value("prompt_bits", 0, 0.0), r"Instance\.prompt_bits\[0\] = 0\.0: must be > 0"),
        (with_value("tx_power", 1, -0.2), r"Instance\.tx_power\[1\] = -0\.2: must be > 0"),
        (with_value("gain", (2, 1), -1e-9), r"Instance\.gain\[2, 1\] = -1e-09: must be >= 0"),
        (with_value("alpha", 1, 1.5), r"Instance\.alpha\[1\] = 1\.5: must lie in \[0, 1\]"),
        (with_value("alpha", 0, -0.1), r"Instance\.alpha\[0\] = -0\.1: must lie in \[0, 1\]"),
        (with_value("acc_local", 2, 1.01), r"Instance\.acc_local\[2\] = 1\.01: must lie in"),
        (with_value("acc_edge", 0, -0.5), r"Instance\.acc_edge\[0\] = -0\.5: must lie in"),
        (fields(min_accuracy=1.2), r"Instance\.min_accuracy = 1\.2: must lie in \[0, 1\]"),
        (fields(min_accuracy=float("nan")), r"Instance\.min_accuracy = nan: must be finite"),
        (fields(tau=float("nan")), r"Instance\.tau = nan: must be finite"),
        (fields(tau=1.5), r"Instance\.tau = 1\.5: must lie in \[0, 1\]"),
        (fields(tau=-0.1), r"Instance\.tau = -0\.1: must lie in \[0, 1\]"),
        (fields(tau="high"), r"Instance\.tau = 'high': must be a number"),
        (fields(arrival_rate=-1.0), r"Instance\.arrival_rate = -1\.0: must be >= 0"),
        (fields(queue="mm1"), r"Instance\.arrival_rate = 0\.0: queue model 'mm1' needs"),
        (fields(queue="md1", arrival_rate=0), r"Instance\.arrival_rate = 0\.0: queue model 'md1'"),
        (fields(max_users=[1, 1.5]), r"Instance\.max_users\[1\] = 1\.5: must be a whole number"),
        (fields(max_users=[-1, 2]), r"Instance\.max_users\[0\] = -1\.0: must be a whole number"),
        (fields(alpha="abc"), r"Instance\.alpha must be numeric"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_value_names_field_and_index(kw, match):
    with pytest.raises(ValueError, match=match):
        mecopt.Instance(**kw)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (fields(acc_edge=[0.5, 0.5]), r"Instance\.acc_edge must have shape \(3,\), got \(2,\)"),
        (fields(local_delay=[[0.01, 0.02, 0.03]]), r"Instance\.local_delay must have shape \(3,\)"),
        (fields(capacity=[1e12, 1e12, 1e12]), r"Instance\.capacity must have shape \(2,\)"),
        (fields(gain=np.ones((2, 2))), r"Instance\.gain must have shape \(N, M\) = \(3, 2\)"),
        (fields(gain=np.ones(3)), r"Instance\.gain must have shape"),
        (fields(gain=np.ones((3, 0))), r"Instance\.gain must have shape"),
        (fields(alpha=[]), r"Instance\.alpha must have shape \(3,\), got \(0,\)"),
        (fields(max_users=[1, 2, 3]), r"Instance\.max_users must have shape \(2,\)"),
    ],
)
def test_shape_mismatch_names_field(kw, match):
    with pytest.raises(ValueError, match=match):
        mecopt.Instance(**kw)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (fields(queue="fifo"), r"unknown queue model 'fifo'; valid names: 'processor-sharing', "
                               r"'mm1', 'md1'"),
        (fields(interference="all"), r"Instance\.interference: unknown interference model 'all'; "
                                     r"valid names: 'none', 'other-cells'"),
    ],
)
def test_unknown_option_name_lists_valid_names(kw, match):
    with pytest.raises(ValueError, match=match):
        mecopt.Instance(**kw)


def test_unknown_queue_is_an_unknown_name_error():
    with pytest.raises(UnknownNameError):
        mecopt.Instance(**fields(queue="fifo"))


def test_replace_validates_again(hand):
    with pytest.raises(ValueError, match=r"Instance\.alpha\[0\] = 2\.0"):
        hand.replace(alpha=[2.0, 0.5, 0.2])


# ---------------------------------------------------------------- derived properties
def test_sizes_forced_and_count_limit(hand):
    assert (hand.n_users, hand.n_servers) == (3, 2)
    assert hand.forced.tolist() == [True, False, False]
    assert hand.replace(tau=None).forced.tolist() == [False, False, False]
    assert hand.count_limit.tolist() == [3, 3]
    assert hand.replace(max_users=[1, 7]).count_limit.tolist() == [1, 3]


# ---------------------------------------------------------------- immutability
@pytest.mark.parametrize("name", ["alpha", "gain", "capacity", "max_users"])
def test_arrays_are_read_only(hand, name):
    inst = hand.replace(max_users=[2, 2])
    arr = getattr(inst, name)
    with pytest.raises(ValueError, match="read-only"):
        arr[0] = 0


def test_dataclass_is_frozen(hand):
    with pytest.raises(dataclasses.FrozenInstanceError):
        hand.tau = 0.1


def test_input_arrays_are_copied():
    alpha = np.array([0.9, 0.5, 0.2])
    inst = mecopt.Instance(**fields(alpha=alpha))
    alpha[0] = 0.0
    assert inst.alpha[0] == 0.9
    assert alpha.flags.writeable


# ---------------------------------------------------------------- JSON round trip
def _instances():
    return [
        pytest.param(hand_instance(), id="hand"),
        pytest.param(mecopt.scenario("kim2026", 25, seed=3), id="kim2026"),
        pytest.param(mecopt.scenario("uniform", 7, seed=4, n_servers=2, queue="md1",
                                     arrival_rate=12.5, tau=0.4, min_accuracy=0.6,
                                     max_users=[3, 1], interference="other-cells"),
                     id="uniform-all-options"),
    ]


ARRAYS = ("alpha", "acc_local", "acc_edge", "local_delay", "prompt_bits", "edge_work",
          "tx_power", "gain", "bandwidth", "noise", "capacity", "per_user_cap")
OPTIONS = ("interference", "queue", "arrival_rate", "tau", "min_accuracy")


def _assert_identical(a, b):
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes(), name  # bit for bit
    for name in OPTIONS:
        assert getattr(a, name) == getattr(b, name)
    if a.max_users is None:
        assert b.max_users is None
    else:
        assert np.array_equal(a.max_users, b.max_users)
    assert a.meta == b.meta


@pytest.mark.parametrize("inst", _instances())
def test_json_round_trip_is_bit_for_bit(inst):
    text = inst.to_json()
    back = mecopt.Instance.from_json(text)
    _assert_identical(inst, back)
    assert back.to_json() == text


@pytest.mark.parametrize("inst", _instances())
def test_json_file_round_trip(inst, tmp_path):
    path = tmp_path / "inst.json"
    inst.to_json(path)
    _assert_identical(inst, mecopt.Instance.from_json(path))
    _assert_identical(inst, mecopt.Instance.from_json(str(path)))


def test_committed_hand_instance_file_matches(hand, hand_json_path):
    _assert_identical(hand, mecopt.Instance.from_json(hand_json_path))


def test_round_trip_preserves_evaluation():
    inst = mecopt.scenario("kim2026", 25, seed=3, interference="other-cells")
    a = mecopt.solve(inst, "goa").assignment
    back = mecopt.Instance.from_json(inst.to_json())
    assert mecopt.evaluate(back, a).mean_delay == mecopt.evaluate(inst, a).mean_delay


def _doc(**changes):
    doc = json.loads(hand_instance().to_json())
    for key, value in changes.items():
        if key.startswith("instance."):
            field = key.split(".", 1)[1]
            if value is KeyError:
                del doc["instance"][field]
            else:
                doc["instance"][field] = value
        else:
            doc[key] = value
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"schema": "mecopt.instance", ', r"instance JSON: not valid JSON \(line 1, column"),
        ("[1, 2]", r"instance JSON must be an object"),
        ('{"version": 1}', r"missing field\(s\) 'schema', 'instance'"),
        (_doc(schema="other"), r"field 'schema' = 'other': expected 'mecopt.instance'"),
        (_doc(version=SCHEMA_VERSION + 1),
         rf"field 'version' = {SCHEMA_VERSION + 1}: this mecopt reads versions 1, "
         rf"{SCHEMA_VERSION}"),
        (_doc(version="1"), r"field 'version' = '1': this mecopt reads versions"),
        (_doc(instance=[1]), r"instance JSON\.instance = \[1\]: must be an object"),
        (_doc(**{"instance.colour": "red"}), r"unknown field\(s\) 'colour'"),
        (_doc(**{"instance.gain": KeyError}), r"missing field\(s\) 'gain'"),
        (_doc(**{"instance.capacity": None}), r"instance\.capacity = null: must be an array"),
    ],
)
def test_malformed_json_gives_format_error(text, match):
    with pytest.raises(InstanceFormatError, match=match):
        mecopt.Instance.from_json(text)


def test_malformed_json_file_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"schema": "mecopt.instance", "version": 1, "instance": {')
    with pytest.raises(InstanceFormatError, match=r"broken\.json: not valid JSON"):
        mecopt.Instance.from_json(path)


def test_format_error_is_a_value_error():
    assert issubclass(InstanceFormatError, ValueError)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"instance file not found: .*nope\.json"):
        mecopt.Instance.from_json(tmp_path / "nope.json")


def test_bad_value_inside_json_names_the_field():
    with pytest.raises(ValueError, match=r"Instance\.alpha\[1\] = 1\.5"):
        mecopt.Instance.from_json(_doc(**{"instance.alpha": [0.9, 1.5, 0.2]}))
