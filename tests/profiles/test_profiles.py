"""Tests of profiles: records, fitting, statistics, file format, sampling, registry."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import DATA

from mecopt.errors import UnknownNameError
from mecopt.profiles import (
    REQUIRED_COLUMNS,
    IsotonicCurve,
    LinearCurve,
    Profile,
    ProfileRecords,
    ProfileSample,
    Provenance,
    auroc,
    available_profiles,
    binned_table,
    calibration_error,
    fit_isotonic,
    load_profile,
    read_profile,
    read_records,
    spearman,
    synthetic_profile,
    wilson_interval,
    write_profile,
)


def _records(n: int = 300, seed: int = 0) -> ProfileRecords:
    rng = np.random.default_rng(seed)
    alpha = rng.random(n)
    return ProfileRecords(
        alpha=alpha,
        local_correct=rng.random(n) < 0.95 - 0.8 * alpha,
        edge_correct=rng.random(n) < 0.9 - 0.4 * alpha,
        local_latency_s=rng.uniform(0.01, 0.05, n),
        edge_latency_s=rng.uniform(0.1, 0.3, n),
        prompt_bytes=rng.integers(100, 500, n),
        output_tokens=rng.integers(1, 6, n),
        id=tuple(f"q{i}" for i in range(n)),
        task=tuple("t" for _ in range(n)),
    )


def _provenance() -> Provenance:
    return Provenance(
        description="test",
        synthetic=False,
        models={"local": "a", "edge": "b"},
        dataset={"name": "test"},
    )


@pytest.fixture(scope="module")
def profile() -> Profile:
    return Profile("test", _records(), _provenance())


# ---- records -------------------------------------------------------------------------------


def test_records_csv_fixture_reads():
    recs = read_records(DATA / "records_small.csv")
    assert len(recs) == 8
    assert recs.local_correct.dtype == bool
    assert recs.prompt_bytes.dtype == np.int64


def _columns() -> dict[str, list[str]]:
    return {
        "alpha": ["0.1", "0.5"],
        "local_correct": ["1", "0"],
        "edge_correct": ["true", "1"],
        "local_latency_s": ["0.02", "0.03"],
        "edge_latency_s": ["0.2", "0.3"],
        "prompt_bytes": ["120", "140"],
        "output_tokens": ["1", "2"],
    }


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("alpha", "nan", "row 2, column 'alpha': must be finite, got 'nan'"),
        ("alpha", "1.5", "row 2, column 'alpha': must be in \\[0, 1\\]"),
        ("alpha", "abc", "row 2, column 'alpha': not a number, got 'abc'"),
        ("local_correct", "2", "row 2, column 'local_correct': expected 0 or 1, got '2'"),
        ("edge_latency_s", "-1", "row 2, column 'edge_latency_s': must be non-negative"),
        ("local_latency_s", "inf", "row 2, column 'local_latency_s': must be finite"),
        ("prompt_bytes", "12.5", "row 2, column 'prompt_bytes': must be an integer"),
        ("output_tokens", "", "row 2, column 'output_tokens': not a number"),
    ],
)
def test_bad_cell_names_row_column_and_value(column, value, match):
    cols = _columns()
    cols[column][1] = value
    with pytest.raises(ValueError, match=match):
        ProfileRecords.from_columns(cols, source="f.csv")


def test_missing_and_unknown_columns():
    cols = _columns()
    del cols["edge_correct"]
    with pytest.raises(ValueError, match="missing column\\(s\\) 'edge_correct'"):
        ProfileRecords.from_columns(cols)
    cols = _columns() | {"colour": ["red", "blue"]}
    with pytest.raises(ValueError, match="unknown column\\(s\\) 'colour'"):
        ProfileRecords.from_columns(cols)


def test_ragged_csv_row_is_named(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(",".join(REQUIRED_COLUMNS) + "\n0.1,1,1,0.1,0.2,10,1\n0.2,1\n")
    with pytest.raises(ValueError, match="row 2 has 2 fields"):
        read_records(path)


def test_empty_records_rejected(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(",".join(REQUIRED_COLUMNS) + "\n")
    with pytest.raises(ValueError, match="no records"):
        read_records(path)


# ---- fitting -------------------------------------------------------------------------------


def test_isotonic_curve_is_monotone_and_pools_ties():
    rng = np.random.default_rng(3)
    alpha = np.round(rng.random(500), 2)
    correct = rng.random(500) < 1 - alpha
    curve = fit_isotonic(alpha, correct)
    assert isinstance(curve, IsotonicCurve)
    assert np.all(np.diff(curve.y) <= 1e-12)
    assert len(curve.x) == len(np.unique(alpha))
    grid = np.linspace(-0.5, 1.5, 301)
    assert np.all(np.diff(curve(grid)) <= 1e-12)
    assert np.all((curve(grid) >= 0) & (curve(grid) <= 1))


def test_isotonic_recovers_a_known_step():
    alpha = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    correct = np.array([1, 1, 1, 0, 0, 0])
    curve = fit_isotonic(alpha, correct)
    np.testing.assert_allclose(curve(alpha), correct)


def test_isotonic_pools_violations():
    curve = fit_isotonic([0.1, 0.2], [0, 1])
    np.testing.assert_allclose(curve.y, [0.5, 0.5])


def test_wilson_interval_known_values():
    lo, hi = wilson_interval(np.array([5, 0, 0]), np.array([10, 10, 0]))
    assert lo[0] == pytest.approx(0.2366, abs=1e-4)
    assert hi[0] == pytest.approx(0.7634, abs=1e-4)
    assert lo[1] == 0.0 and hi[1] == pytest.approx(0.2775, abs=1e-4)
    assert np.isnan(lo[2]) and np.isnan(hi[2])


def test_binned_table_counts_and_intervals():
    alpha = np.array([0.05, 0.05, 0.15, 0.95, 1.0])
    loc = np.array([1, 0, 1, 0, 0])
    edg = np.array([1, 1, 1, 1, 0])
    t = binned_table(alpha, loc, edg, bins=10)
    assert t.count.tolist() == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert t.acc_local[0] == 0.5 and t.acc_edge[9] == 0.5
    assert np.isnan(t.acc_local[2])
    assert np.all(t.local_lo[t.count > 0] <= t.acc_local[t.count > 0])
    q = binned_table(alpha, loc, edg, bins=2, strategy="quantile")
    assert q.count.sum() == 5
    with pytest.raises(ValueError, match="strategy"):
        binned_table(alpha, loc, edg, strategy="log")


# ---- statistics ----------------------------------------------------------------------------


def test_auroc_matches_pairwise_definition():
    rng = np.random.default_rng(4)
    score = np.round(rng.random(60), 1)  # ties on purpose
    label = rng.random(60) < 0.4
    pos, neg = score[label], score[~label]
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert auroc(score, label) == pytest.approx(pairs.mean())
    assert auroc([0.1, 0.9], [False, True]) == 1.0
    assert np.isnan(auroc([0.1, 0.2], [True, True]))


def test_spearman_sign_and_constant_input():
    rho, p = spearman([0.1, 0.2, 0.3, 0.4], [1, 1, 0, 0])
    assert rho < 0 and 0 <= p <= 1
    assert np.isnan(spearman([0.1, 0.2], [1, 1])[0])


def test_calibration_error():
    assert calibration_error([1.0, 1.0, 0.0, 0.0], [1, 1, 0, 0]) == 0.0
    assert calibration_error([0.9, 0.9], [0, 0]) == pytest.approx(0.9)


def test_statistics_show_alpha_predicts_errors(profile):
    s = profile.statistics()
    assert s.n == 300
    assert s.spearman_local < -0.3
    assert s.auroc_local_error > 0.7
    assert s.acc_oracle >= max(s.acc_local, s.acc_edge)
    assert "auroc_local_error" in profile.summary()


# ---- file format ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["p.json", "p.csv", "p"])
def test_round_trip(tmp_path, profile, target):
    sidecar = write_profile(profile, tmp_path / target)
    assert sidecar == tmp_path / "p.json"
    back = read_profile(tmp_path / target)
    for col in REQUIRED_COLUMNS + ("id", "task"):
        np.testing.assert_array_equal(getattr(back.records, col), getattr(profile.records, col))
    assert back.provenance == profile.provenance
    assert back.statistics() == profile.statistics()
    meta = json.loads(sidecar.read_text())
    assert meta["format"] == "mecopt-profile" and meta["records"] == "p.csv"


def test_round_trip_parquet(tmp_path, profile):
    pytest.importorskip("pyarrow")
    write_profile(profile, tmp_path / "p.json", parquet=True)
    back = read_profile(tmp_path / "p.json")
    np.testing.assert_array_equal(back.records.alpha, profile.records.alpha)
    np.testing.assert_array_equal(back.records.edge_correct, profile.records.edge_correct)


def test_linear_curves_survive_round_trip(tmp_path):
    syn = synthetic_profile(200, seed=1)
    back = read_profile(write_profile(syn, tmp_path / "s.json"))
    assert back.curve_local == LinearCurve(0.9, -0.9)
    assert back.synthetic


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: m.update(format="other"), "not a profile sidecar"),
        (lambda m: m.update(format_version=99), "unsupported format_version"),
        (lambda m: m["provenance"].pop("hardware"), "provenance misses field\\(s\\) hardware"),
        (lambda m: m["provenance"].update(synthetic="no"), "'synthetic' must be true or false"),
        (lambda m: m.pop("records"), "missing field 'records'"),
    ],
)
def test_bad_sidecar(tmp_path, profile, edit, match):
    sidecar = write_profile(profile, tmp_path / "p.json")
    meta = json.loads(sidecar.read_text())
    edit(meta)
    sidecar.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=match):
        read_profile(sidecar)


# ---- sampling ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["expected", "outcomes"])
def test_sample_shapes_ranges_and_determinism(profile, mode):
    s = profile.sample(50, np.random.default_rng(9), mode=mode)
    assert isinstance(s, ProfileSample) and len(s) == 50
    for name in (
        "alpha",
        "acc_local",
        "acc_edge",
        "local_latency_s",
        "edge_latency_s",
        "prompt_bytes",
    ):
        assert getattr(s, name).shape == (50,)
    for arr in (s.alpha, s.acc_local, s.acc_edge):
        assert np.all((arr >= 0) & (arr <= 1))
    again = profile.sample(50, np.random.default_rng(9), mode=mode)
    np.testing.assert_array_equal(s.acc_local, again.acc_local)
    if mode == "outcomes":
        assert set(np.unique(s.acc_local)) <= {0.0, 1.0}


def test_sample_draws_whole_records_jointly(profile):
    s = profile.sample(40, np.random.default_rng(1), mode="outcomes")
    r = profile.records
    for i in range(40):
        j = np.flatnonzero(r.alpha == s.alpha[i])[0]
        assert s.local_latency_s[i] == r.local_latency_s[j]
        assert s.acc_edge[i] == float(r.edge_correct[j])


def test_expected_mode_uses_the_fitted_curve(profile):
    s = profile.sample(30, np.random.default_rng(2))
    np.testing.assert_allclose(s.acc_local, profile.curve_local(s.alpha))


def test_sample_argument_errors(profile):
    with pytest.raises(ValueError, match="mode"):
        profile.sample(3, np.random.default_rng(0), mode="mean")
    with pytest.raises(TypeError, match="Generator"):
        profile.sample(3, 0)
    with pytest.raises(ValueError, match="non-negative"):
        profile.sample(-1, np.random.default_rng(0))
    assert len(profile.sample(0, np.random.default_rng(0))) == 0


# ---- shipped profiles ----------------------------------------------------------------------


def test_available_and_unknown_names():
    names = available_profiles()
    assert "synthetic" in names and "babi-tiny" in names
    with pytest.raises(UnknownNameError, match="valid names: 'synthetic'"):
        load_profile("no-such-profile")


def test_synthetic_profile_is_labelled_and_follows_its_curve():
    syn = load_profile("synthetic")
    assert syn.synthetic and "SYNTHETIC" in syn.provenance.description
    s = syn.sample(1000, np.random.default_rng(0))
    np.testing.assert_allclose(s.acc_local, 0.9 - 0.9 * s.alpha)
    np.testing.assert_allclose(s.acc_edge, 0.86 - 0.6 * s.alpha)
    assert 0.4 < s.alpha.mean() < 0.6  # Beta(2, 2)


def test_babi_tiny_is_a_real_measurement_with_the_claimed_properties():
    p = load_profile("babi-tiny")
    assert not p.synthetic
    prov = p.provenance
    assert {"local", "edge"} <= set(prov.models)
    assert prov.software.get("torch") and prov.hardware.get("cpu_count")
    s = p.statistics()
    assert s.n >= 500
    assert s.acc_edge > s.acc_local
    assert s.auroc_local_error > 0.7
    assert s.spearman_local < 0


def test_load_profile_by_path(tmp_path, profile):
    write_profile(profile, tmp_path / "mine.json")
    assert len(load_profile(tmp_path / "mine.json")) == 300
    assert len(load_profile(str(tmp_path / "mine"))) == 300
