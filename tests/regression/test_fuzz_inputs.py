"""Regression tests of the input and reporting defects found by fuzzing (issue 11, section 1).

Each test failed before its fix.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

import mecopt
from mecopt.cli import main
from mecopt.instance import SCHEMA_VERSION, InstanceFormatError
from mecopt.result import SolveResult


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(mecopt.scenario("kim2026", 6, seed=1).to_json())


def _load(tmp_path, data, raw: str | bytes | None = None):
    path = tmp_path / "f.json"
    if raw is None:
        raw = json.dumps(data)
    path.write_bytes(raw if isinstance(raw, bytes) else raw.encode())
    return mecopt.Instance.from_json(path)


def _with(doc: dict, **fields) -> dict:
    out = json.loads(json.dumps(doc))
    out["instance"].update(fields)
    return out


def test_summary_with_bound_but_no_gap():
    inst = mecopt.scenario("uniform", 4, seed=0)
    res = mecopt.solve(inst, "goa")
    limited = SolveResult(assignment=res.assignment, status="feasible",
                          objective=res.objective, bound=0.5 * res.objective, gap=None,
                          runtime=1.0, solver="highs", solver_version="x", seed=0, threads=1,
                          time_limit=30.0, metrics=res.metrics, stop="time_limit")
    text = limited.summary()
    assert "gap unknown" in text and "ms" in text


@pytest.mark.parametrize(("field", "value", "named"), [
    ("alpha", "short", "alpha"), ("gain", "three-columns", "gain"),
    ("capacity", "short", "capacity"), ("acc_edge", "long", "acc_edge")])
def test_shape_error_names_the_wrong_field(doc, tmp_path, field, value, named):
    arr = doc["instance"][field]
    if value == "short":
        arr = arr[:-1]
    elif value == "long":
        arr = arr + arr[:1]
    else:
        arr = [row[:3] for row in arr]
    with pytest.raises(ValueError, match=rf"Instance\.{named} must have shape .*got"):
        _load(tmp_path, _with(doc, **{field: arr}))


@pytest.mark.parametrize(("fields", "match"), [
    ({"tau": "0.6"}, r"tau = \"0\.6\": must be a JSON number, got a string"),
    ({"tau": True}, r"tau = true: must be a JSON number, got a boolean"),
    ({"bandwidth": [True, 1e8, 1e8, 1e8]}, r"bandwidth\[0\] = true"),
    ({"alpha": [None, 0.1, 0.2, 0.3, 0.4, 0.5]}, r"alpha\[0\] = null"),
    ({"max_users": {"a": 1}}, r"max_users = .*must be an array, got an object"),
    ({"queue": ["mm1"]}, r"queue = .*must be a string, got an array"),
    ({"meta": [1, 2]}, r"meta = .*must be an object, got an array"),
    ({"colour": "red"}, r"unknown field\(s\) 'colour'"),
])
def test_json_types_are_validated(doc, tmp_path, fields, match):
    with pytest.raises(InstanceFormatError, match=match):
        _load(tmp_path, _with(doc, **fields))


@pytest.mark.parametrize(("text_of", "match"), [
    (lambda t: t.replace('"tau": 0.6', '"tau": NaN'), r"tau = NaN: not a finite"),
    (lambda t: t.replace('"tau": 0.6', '"tau": Infinity'), r"tau = Infinity"),
    (lambda t: t.replace('"tau": 0.6', '"tau": 1e400'), r"tau = 1e400"),
    (lambda t: t.replace('"arrival_rate": 0.0', '"arrival_rate": ' + "9" * 400),
     r"arrival_rate = 9+\.\.\.\(400 chars\)"),
    (lambda t: t.replace('"tau": 0.6', '"tau": 0.6, "tau": 0.7'), r"key 'tau' appears twice"),
    (lambda t: t.replace(f'"version": {SCHEMA_VERSION}',
                         f'"version": {SCHEMA_VERSION}, "extra": 1'),
     r"unknown field\(s\) 'extra'"),
    (lambda t: t.replace(f'"version": {SCHEMA_VERSION}', '"version": 99'), r"'version' = 99"),
    (lambda t: t.replace('"meta": {', '"meta": {"deep": ' + "[" * 5000 + "]" * 5000 + ', '),
     r"nested deeper"),
    (lambda t: t.replace('"meta": {', '"meta": {"deep": ' + "[" * 100 + "]" * 100 + ', '),
     r"nested deeper"),
])
def test_json_literals_are_validated(doc, tmp_path, text_of, match):
    text = text_of(json.dumps(doc))
    with pytest.raises(InstanceFormatError, match=match):
        _load(tmp_path, None, text)


def test_non_utf8_names_the_file(doc, tmp_path):
    raw = json.dumps(doc).replace('"scenario"', '"sc\udce9nario"', 1).encode("utf-8",
                                                                           "surrogateescape")
    with pytest.raises(InstanceFormatError, match=r"f\.json: not UTF-8"):
        _load(tmp_path, None, raw)


def test_python_api_rejects_strings_and_booleans():
    inst = mecopt.scenario("uniform", 3, seed=0)
    with pytest.raises(ValueError, match=r"Instance\.tau = '0\.6': must be a number"):
        inst.replace(tau="0.6")
    with pytest.raises(ValueError, match=r"Instance\.bandwidth must be numeric, got booleans"):
        inst.replace(bandwidth=np.ones(inst.n_servers, dtype=bool))
    with pytest.raises(ValueError, match=r"Instance\.max_users"):
        inst.replace(max_users=[1e300] * inst.n_servers)
    with pytest.raises(ValueError, match=r"Instance\.max_users"):
        inst.replace(max_users={"a": 1})


def test_assignment_does_not_wrap():
    inst = mecopt.scenario("uniform", 3, seed=0)
    with pytest.raises(ValueError, match=r"assignment\[0\] = 1e\+20"):
        mecopt.evaluate(inst, [1e20, -1, -1])


def test_conflicting_cli_options_are_errors(tmp_path, capsys):
    path = tmp_path / "f.json"
    mecopt.scenario("uniform", 4, seed=0).to_json(path)
    assert main(["solve", "--instance", str(path), "--users", "50", "--solver", "goa"]) == 2
    assert "--users would be ignored" in capsys.readouterr().err
    assert main(["solve", "--instance", str(path), "--scenario", "kim2026"]) == 2
    assert main(["solve", "--scenario", "uniform", "--users", "4", "--tau", "0.5",
                 "--no-rule"]) == 2
    assert main(["solve", "--instance", str(path), "--set", "profile=babi-tiny"]) == 2
    assert "scenario parameters need --scenario" in capsys.readouterr().err


def test_python_dash_m_mecopt():
    out = subprocess.run([sys.executable, "-m", "mecopt", "solvers"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and "goa" in out.stdout


def test_unexpected_errors_print_one_line(monkeypatch, capsys):
    from mecopt.cli import build_parser

    args = build_parser().parse_args(["solvers"])

    def boom(_args):
        raise RuntimeError("boom")

    args.func = boom
    monkeypatch.setattr("mecopt.cli.build_parser", lambda: _Fixed(args))
    assert main(["solvers"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: boom" in err
    assert "Traceback" not in err


class _Fixed:
    """A parser that returns prepared arguments."""

    def __init__(self, args):
        self.args = args

    def parse_args(self, argv):
        return self.args


# ---- profiles ------------------------------------------------------------------------------
def _records_csv(tmp_path, rows: list[str], bom: bool = False):
    from mecopt.profiles.records import REQUIRED_COLUMNS

    path = tmp_path / "r.csv"
    text = ",".join(REQUIRED_COLUMNS) + "\n" + "\n".join(rows) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def test_profile_csv_with_bom_header(tmp_path):
    from mecopt.profiles import read_records

    path = _records_csv(tmp_path, ["0.1,1,1,0.1,0.2,10,1", "0.9,0,1,0.1,0.2,10,1"], bom=True)
    assert len(read_records(path)) == 2


def test_profile_needs_more_than_one_row(tmp_path):
    from mecopt.profiles import read_records

    with pytest.raises(ValueError, match=r"1 record\(s\); a profile needs at least 2"):
        read_records(_records_csv(tmp_path, ["0.1,1,1,0.1,0.2,10,1"]))


def test_profile_counts_do_not_wrap(tmp_path):
    from mecopt.profiles import read_records

    with pytest.raises(ValueError, match=r"column 'output_tokens': must be an integer"):
        read_records(_records_csv(tmp_path, ["0.1,1,1,0.1,0.2,10,1e30",
                                             "0.2,1,1,0.1,0.2,10,1"]))


def test_isotonic_tail_rests_on_enough_records():
    from mecopt.profiles import load_profile
    from mecopt.profiles.curves import MIN_BLOCK

    profile = load_profile("babi-tiny")
    alpha = profile.records.alpha
    for curve, correct in ((profile.curve_local, profile.records.local_correct),
                           (profile.curve_edge, profile.records.edge_correct)):
        # The end level is the mean of the records behind it, at least MIN_BLOCK of them.
        end = curve(alpha) == curve(np.array([1.0]))[0]
        assert end.sum() >= MIN_BLOCK
        assert curve(np.array([1.0]))[0] == pytest.approx(correct[end].mean())
        assert curve(np.array([1.0]))[0] > 0.1
        # Flat beyond the measured alphas.
        assert curve(np.array([alpha.max()]))[0] == curve(np.array([1.0]))[0]
        assert curve(np.array([0.0]))[0] == curve(np.array([alpha.min()]))[0]


# ---- bench specs ---------------------------------------------------------------------------
def _spec(sweep: dict | None = None, **grid) -> dict:
    g = {"scenario": "kim2026", "n_users": [5], "seeds": [0], "solvers": ["goa"]}
    g.update(grid)
    return {"sweep": sweep or {}, "grid": [g]}


@pytest.mark.parametrize(("data", "match"), [
    (_spec({"db": 5}), r"\[sweep\]\.db = 5"),
    (_spec(scenario=3), r"scenario = 3"),
    (_spec(options=5), r"options = 5: must be a table"),
    (_spec(solvers=[{"name": "goa", "max_n": "x"}]), r"max_n = 'x': must be a whole number"),
    (_spec({"hard_limit": float("inf")}), r"hard_limit = inf: must be a finite number"),
    (_spec({"hard_limit": float("nan")}), r"hard_limit = nan"),
    (_spec({"hard_limit": -1}), r"hard_limit = -1"),
    (_spec({"grace": -100}), r"grace = -100"),
    (_spec({"threads": 1.5}), r"threads = 1\.5: must be a whole number"),
    (_spec(solvers="goa"), r"solvers = 'goa': must be a non-empty list"),
    (_spec(options={"tau": 5}), r"tau = 5\.0: must lie in \[0, 1\]"),
    (_spec(options={"queue": "mmm"}), r"unknown queue model 'mmm'"),
    (_spec(n_users=99999999999), r"n_users\[0\] = 99999999999: must be >= 0 and <= 1000000"),
    (_spec(seeds={"start": 0, "count": -1}), r"seeds\.count = -1"),
])
def test_bench_specs_are_validated_before_running(data, match):
    from mecopt.bench import parse_spec

    with pytest.raises(ValueError, match=match):
        parse_spec(data)


def test_bench_store_defaults_to_a_fresh_path(tmp_path, monkeypatch):
    spec = tmp_path / "s.toml"
    spec.write_text('[sweep]\nname = "fresh"\n[[grid]]\nscenario = "uniform"\nn_users = [3]\n'
                    'seeds = [0]\nsolvers = ["goa"]\n')
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "run", str(spec), "--no-progress"]) == 0
    assert (tmp_path / "fresh.sqlite").is_file()


def test_committed_specs_do_not_write_into_committed_results():
    import tomllib

    from mecopt.bench import load_spec

    root = ROOT / "benchmarks"
    # sweep specs only: a benchmark's own configuration (benchmarks/online/online.toml, read
    # by its run.py, which builds the sweeps) has no [sweep] table
    specs = [p for p in sorted(root.glob("**/*.toml"))
             if "sweep" in tomllib.loads(p.read_text())]
    assert len(specs) >= 5
    for path in specs:
        assert load_spec(path).db is None, f"{path} names a store; use --db"
