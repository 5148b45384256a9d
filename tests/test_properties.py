"""Property-based tests: no input ever gives a traceback or a silently wrong value.

Inputs are instance files, arrays, sweep specs and profile CSVs drawn by hypothesis. Every
input must either be rejected with a validation error (``ValueError`` subclass, message
naming the field) or be read exactly as written.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import mecopt  # noqa: E402
from mecopt.bench import parse_spec  # noqa: E402
from mecopt.instance import InstanceFormatError  # noqa: E402

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

BASE = json.loads(mecopt.scenario("kim2026", 4, seed=0, min_accuracy=0.3).to_json())
FIELDS = sorted(BASE["instance"]) + ["colour"]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                         st.floats(allow_nan=True, allow_infinity=True),
                         st.text(max_size=5))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=3), inner, max_size=3)),
    max_leaves=12)


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(float(x))


def _exactly_read(written, read) -> bool:
    if isinstance(read, np.ndarray):
        arr = np.array(written, dtype=object)
        return arr.shape == read.shape and all(
            _is_number(w) and float(w) == float(r)
            for w, r in zip(arr.ravel().tolist(), read.ravel().tolist(), strict=True))
    if read is None or isinstance(read, str | dict):
        return written == read
    return _is_number(written) and float(written) == float(read)


def _dump(doc) -> str:
    # allow_nan: NaN and Infinity literals are part of what the reader must reject.
    return json.dumps(doc, allow_nan=True)


@SETTINGS
@given(field=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_any_field_is_rejected_or_read_exactly(field, value):
    doc = json.loads(json.dumps(BASE))
    doc["instance"][field] = value
    try:
        inst = mecopt.Instance.from_json(_dump(doc))
    except ValueError as exc:  # InstanceFormatError and the instance's own checks
        assert str(exc)
        return
    assert field != "colour"
    assert _exactly_read(value, getattr(inst, field)), (field, value)


@SETTINGS
@given(field=st.sampled_from([f for f in FIELDS if f not in ("meta", "colour")]),
       index=st.integers(0, 3), value=json_values)
def test_any_array_element_is_rejected_or_read_exactly(field, index, value):
    doc = json.loads(json.dumps(BASE))
    target = doc["instance"][field]
    if not isinstance(target, list):
        return
    if target and isinstance(target[0], list):
        target[index % len(target)][0] = value
    else:
        target[index % len(target)] = value
    try:
        inst = mecopt.Instance.from_json(_dump(doc))
    except ValueError as exc:
        assert str(exc)
        return
    assert _exactly_read(target, getattr(inst, field))


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_are_a_format_error(raw, tmp_path_factory):
    path = tmp_path_factory.mktemp("b") / "x.json"
    path.write_bytes(raw)
    with pytest.raises(InstanceFormatError):
        mecopt.Instance.from_json(path)


positive = st.floats(1e-6, 1e6, allow_nan=False)
unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def instances(draw):
    n = draw(st.integers(1, 5))
    m = draw(st.integers(1, 3))
    vec = lambda k, elems: np.array(draw(st.lists(elems, min_size=k, max_size=k)))  # noqa: E731
    return mecopt.Instance(
        alpha=vec(n, unit), acc_local=vec(n, unit), acc_edge=vec(n, unit),
        local_delay=vec(n, positive), prompt_bits=vec(n, positive), edge_work=vec(n, positive),
        tx_power=vec(n, positive),
        gain=np.array(draw(st.lists(st.lists(st.floats(0, 1e3), min_size=m, max_size=m),
                                    min_size=n, max_size=n))),
        bandwidth=vec(m, positive), noise=vec(m, positive), capacity=vec(m, positive),
        per_user_cap=vec(m, positive),
        tau=draw(st.one_of(st.none(), unit)),
        interference=draw(st.sampled_from(["none", "other-cells"])))


@SETTINGS
@given(inst=instances())
def test_json_round_trip_is_exact_and_heuristics_run(inst):
    back = mecopt.Instance.from_json(inst.to_json())
    for name in ("alpha", "gain", "capacity", "tx_power"):
        assert np.array_equal(getattr(inst, name), getattr(back, name))
    assert back.tau == inst.tau and back.interference == inst.interference
    res = mecopt.solve(back, "goa")
    assert res.status in ("feasible", "violates")
    if res.success:
        assert math.isfinite(res.objective)
    res.summary()


@SETTINGS
@given(name=st.sampled_from(["alpha", "gain", "bandwidth", "max_users", "tau", "meta"]),
       value=st.one_of(json_values, st.just(np.array([np.nan])), st.just(np.ones(7, bool))))
def test_python_api_values_are_rejected_or_kept(name, value):
    inst = mecopt.scenario("uniform", 3, seed=0)
    try:
        new = inst.replace(**{name: value})
    except ValueError as exc:
        assert str(exc)
        return
    got = getattr(new, name)
    if isinstance(got, np.ndarray):
        assert np.array_equal(np.asarray(value, dtype=float), got)
        assert np.all(np.isfinite(got))
    elif name == "tau":
        assert got is None or (_is_number(value) and float(value) == got)


SPEC_BASE = {"sweep": {"name": "p", "threads": 1, "hard_limit": 60, "grace": 5},
             "grid": [{"scenario": "uniform", "n_users": [3], "seeds": [0, 1],
                       "solvers": ["goa", {"name": "highs", "time_limit": 5}],
                       "options": {"tau": [0.5, 1.0]}}]}
SPEC_KEYS = [("sweep", k) for k in ("name", "threads", "hard_limit", "grace", "db")] + [
    ("grid", k) for k in ("scenario", "n_users", "seeds", "solvers", "options")]
toml_values = st.recursive(
    st.one_of(st.booleans(), st.integers(-10**12, 10**12), st.floats(), st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["start", "stop", "step", "count",
                                                             "name", "tau", "x"]), inner,
                                            max_size=3)),
    max_leaves=8)


@SETTINGS
@given(key=st.sampled_from(SPEC_KEYS), value=toml_values)
def test_spec_values_are_rejected_or_give_sane_tasks(key, value):
    spec = json.loads(json.dumps(SPEC_BASE))
    table, name = key
    (spec["sweep"] if table == "sweep" else spec["grid"][0])[name] = value
    try:
        parsed = parse_spec(spec)
    except ValueError as exc:
        assert str(exc)
        return
    for t in parsed.tasks:
        assert isinstance(t.n_users, int) and not isinstance(t.n_users, bool) and t.n_users >= 1
        assert isinstance(t.seed, int) and not isinstance(t.seed, bool) and t.seed >= 0
        assert isinstance(t.threads, int) and t.threads >= 1
        assert math.isfinite(t.hard_limit) and t.hard_limit > 0
        assert t.time_limit is None or (math.isfinite(t.time_limit) and t.time_limit > 0)
        mecopt.scenario(t.scenario, 2, 0, **t.overrides)


@SETTINGS
@given(column=st.integers(0, 6), cell=st.text(max_size=8))
def test_csv_cells_are_rejected_or_read_exactly(column, cell, tmp_path_factory):
    from mecopt.profiles import read_records
    from mecopt.profiles.records import REQUIRED_COLUMNS

    if any(c in cell for c in ',"\n\r'):
        return
    rows = [["0.1", "1", "1", "0.1", "0.2", "10", "1"], ["0.9", "0", "1", "0.1", "0.2", "20", "2"]]
    rows[0][column] = cell
    path = tmp_path_factory.mktemp("c") / "r.csv"
    path.write_text(",".join(REQUIRED_COLUMNS) + "\n" + "\n".join(",".join(r) for r in rows)
                    + "\n", encoding="utf-8")
    try:
        records = read_records(path)
    except ValueError as exc:
        assert str(exc)
        return
    name = REQUIRED_COLUMNS[column]
    got = records.columns()[name][0]
    if name.endswith("_correct"):
        assert cell.strip().lower() in {"0", "1", "0.0", "1.0", "true", "false", "yes", "no"}
    else:
        assert float(cell) == float(got) and math.isfinite(float(got))
