"""Regression tests of the long-term input defects found by fuzzing (issue 22, section 3):
``mecopt longterm``, ``mecopt.longterm.trace`` / ``Trace.load`` / ``run`` and bench specs of
kind ``longterm``. Each test failed before its fix.
"""

from __future__ import annotations

import gc
import io
import json
import warnings
import zipfile

import numpy as np
import pytest

import mecopt.longterm as lt
from mecopt.bench import parse_spec
from mecopt.cli import main
from mecopt.longterm.run import check_options
from mecopt.longterm.trace_draw import MAX_TRACE_CELLS
from mecopt.longterm.traces import TraceFormatError


@pytest.fixture(scope="module")
def small() -> lt.Trace:
    return lt.trace(n_devices=3, horizon=4, seed=[0, 1])


def _save(tmp_path, tr: lt.Trace, name: str = "t.npz", **changes) -> str:
    """Write ``tr`` with some arrays or metadata replaced (``__meta__`` as a dict or text)."""
    arrays = {n: getattr(tr, n) for n in lt.traces.ARRAY_FIELDS}
    meta = {"schema": lt.traces.TRACE_SCHEMA, "version": lt.traces.TRACE_VERSION,
            "scenario": tr.scenario.to_dict(), "seeds": list(tr.seeds)}
    raw_meta = changes.pop("__meta__", meta)
    arrays.update(changes)
    text = raw_meta if isinstance(raw_meta, str) else json.dumps(raw_meta)
    path = tmp_path / name
    buf = io.BytesIO()
    np.savez_compressed(buf, __meta__=np.array(text), **arrays)
    path.write_bytes(buf.getvalue())
    return str(path)


# ---------------------------------------------------------------- Trace.load


def test_damaged_files_are_format_errors(small, tmp_path):
    good = (tmp_path / "good.npz")
    small.save(good)
    raw = good.read_bytes()
    cases = {
        "truncated": raw[: len(raw) // 2],
        "empty": b"",
        "text": b"not a trace",
        "flipped": raw[:200] + bytes([raw[200] ^ 0xFF]) + raw[201:],
    }
    for name, content in cases.items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(content)
        with pytest.raises(TraceFormatError, match=name + ".npz"):
            lt.Trace.load(path)
    # a zip with a compressed member that does not inflate (zlib.error)
    broken = tmp_path / "zlib.npz"
    with zipfile.ZipFile(good) as z, zipfile.ZipFile(broken, "w") as out:
        for info in z.infolist():
            data = z.read(info)
            out.writestr(info.filename, data[:10] if info.filename == "alpha.npy" else data,
                         compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(TraceFormatError):
        lt.Trace.load(broken)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_damaged_file_is_closed(small, tmp_path):
    good = small.save(tmp_path / "good.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(good.read_bytes()[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        with pytest.raises(TraceFormatError):
            lt.Trace.load(bad)
        gc.collect()  # an unclosed file warned here (on standard error, in the CLI)


@pytest.mark.parametrize("meta, match", [
    ("[1, 2]", "metadata must be a JSON object"),
    ('{"schema": "mecopt.longterm.trace", "version": true}', "version True"),
    ('{"schema": "mecopt.longterm.trace", "version": 1, "scenario": 5, "seeds": [0, 1]}',
     "'scenario' = 5"),
    ('{"schema": "mecopt.longterm.trace", "version": 1, "scenario": {}, "seeds": "ab"}',
     "'seeds' = 'ab'"),
    ('{"schema": "mecopt.longterm.trace", "version": 1, "scenario": {}, "seeds": [0.5, 1]}',
     "seeds entry 0.5"),
    ('{"schema": "mecopt.longterm.trace", "version": 1, "scenario": {"slot_s": "x"}, '
     '"seeds": [0, 1]}', "slot_s = 'x'"),
])
def test_metadata_of_the_wrong_type(small, tmp_path, meta, match):
    with pytest.raises(TraceFormatError, match=match):
        lt.Trace.load(_save(tmp_path, small, __meta__=meta))


def test_array_types_are_checked(small, tmp_path):
    with pytest.raises(TraceFormatError, match=r"alpha: must be a real number array.*<U"):
        lt.Trace.load(_save(tmp_path, small, alpha=np.full(small.alpha.shape, "a")))
    with pytest.raises(TraceFormatError, match="has_query: must be a bool array"):
        lt.Trace.load(_save(tmp_path, small, has_query=small.has_query.astype(float)))
    with pytest.raises(TraceFormatError, match="capacity"):
        lt.Trace.load(_save(tmp_path, small, capacity=np.float64(1e15)))


@pytest.mark.parametrize("field, value, match", [
    ("alpha", np.nan, "must be finite"),
    ("gain", np.inf, "must be finite"),
    ("acc_local", 7.5, r"\[0, 1\]"),
    ("hall_edge", -0.1, r"\[0, 1\]"),
    ("local_delay", -1.0, ">= 0"),
    ("capacity", 0.0, "> 0"),
    ("bandwidth", 0.0, "> 0"),
    ("energy_budget", -1.0, ">= 0"),
])
def test_values_are_checked(small, tmp_path, field, value, match):
    arr = np.array(getattr(small, field))
    arr[(0,) * arr.ndim] = value
    with pytest.raises(TraceFormatError, match=f"Trace.{field}.*{match}"):
        lt.Trace.load(_save(tmp_path, small, **{field: arr}))


def test_a_valid_file_still_loads(small, tmp_path):
    tr = lt.Trace.load(_save(tmp_path, small))
    assert tr.batch == 2 and np.array_equal(tr.gain, small.gain)


# ---------------------------------------------------------------- API


def test_sizes_are_limited_before_allocating():
    with pytest.raises(ValueError, match="trace too large.*10,000,000"):
        lt.trace(n_devices=10**9, horizon=3)
    with pytest.raises(ValueError, match="trace too large"):
        lt.trace(n_devices=2, horizon=MAX_TRACE_CELLS + 1)


def test_extreme_physics_names_the_parameter():
    with pytest.raises(ValueError, match="carrier_hz = 1e.300.*gain"):
        lt.trace(n_devices=2, horizon=3, carrier_hz=1e300)


@pytest.mark.parametrize("overrides, match", [
    ({"slot_s": True}, "slot_s = True"),
    ({"slot_s": "0.5"}, "slot_s = '0.5'"),
])
def test_scenario_refuses_booleans_and_strings(overrides, match):
    with pytest.raises(ValueError, match=match):
        lt.trace(n_devices=2, horizon=3, **overrides)


@pytest.mark.parametrize("policy, options, match", [
    ("random", {"p_offload": "0.5"}, "p_offload = '0.5'"),
    ("random", {"p_offload": True}, "p_offload = True"),
    ("lyapunov", {"V": float("nan")}, "V = nan"),
    ("lyapunov", {"time_limit": -1}, "time_limit = -1"),
    ("goa", {"tau": 2}, "tau = 2"),
    ("hindsight", {"incumbents": 5}, "incumbents = 5"),
    ("hindsight", {"incumbents": "abc"}, "incumbents = 'abc'"),
    ("hindsight", {"incumbents": ["nope"]}, "'nope' is not an online policy"),
])
def test_run_options_are_checked(small, policy, options, match):
    with pytest.raises(ValueError, match=match):
        lt.run(small[0], policy, **options)


def test_options_colliding_with_run_parameters(small):
    with pytest.raises(ValueError, match="collides with run"):
        check_options("random", {"progress": 1})
    with pytest.raises(ValueError, match="progress = 1"):
        lt.run(small[0], "local", progress=1)


def test_learned_policy_options_and_files(small, tmp_path):
    with pytest.raises(ValueError, match="policy file not found"):
        lt.run(small[0], f"ppo:{tmp_path / 'none.zip'}")
    trace_file = small.save(tmp_path / "t.npz")
    with pytest.raises(ValueError, match="not a saved policy"):
        lt.run(small[0], f"ppo:{trace_file}")


def test_infinite_actions_are_reported_as_such(small):
    with pytest.raises(lt.ActionError, match=r"= -?inf at slot 0"):
        lt.replay(small[0], np.full((4, 3), -np.inf))


# ---------------------------------------------------------------- CLI


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("argv, match", [
    (["hindsight", "--devices", "3", "--horizon", "4", "--option", "seed=5"], "--option seed=5"),
    (["simulate", "--devices", "2", "--horizon", "3", "--policy", "hindsight", "--option",
      "seed=3"], "--policy-seed"),
    (["simulate", "--devices", "2", "--horizon", "3", "--set", "slot_s=true"], "slot_s = True"),
    (["simulate", "--devices", "2", "--horizon", "3", "--set", 'slot_s="0.5"'], "slot_s = '0.5'"),
    (["simulate", "--devices", "1000000000", "--horizon", "3"], "trace too large"),
    (["simulate", "--devices", "2", "--horizon", "1000000000000"], "trace too large"),
    (["simulate", "--devices", "2", "--horizon", "3", "--policy", "random", "--option",
      "foo=1"], "foo"),
    (["simulate", "--devices", "2", "--horizon", "3", "--policy", "ppo:x.zip", "--option",
      "foo=1"], "unknown option"),
    (["compare", "--devices", "2", "--horizon", "3", "--policies", "local,lyapunov", "--option",
      "lyapunov.V=-1", "--no-progress"], "V = -1"),
    (["compare", "--devices", "2", "--horizon", "3", "--policies", "local", "--option",
      "local.colour=1", "--no-progress"], "colour"),
    (["compare", "--devices", "2", "--horizon", "3", "--policies", "local,ppo:none.zip",
      "--no-progress"], "policy file not found"),
    (["compare", "--devices", "2", "--horizon", "3", "--policies", "local", "--workers", "0"],
     "--workers 0"),
    (["compare", "--devices", "2", "--horizon", "3", "--policies", "local", "--workers",
      "1000000000"], "--workers 1000000000"),
    (["simulate", "--devices", "2", "--horizon", "3", "--set", "slot_s=1", "--set",
      "slot_s=2"], "given twice"),
])
def test_cli_errors_name_the_field(capsys, argv, match):
    code, _, err = _cli(capsys, "longterm", *argv)
    assert code == 2 and match in err and "internal error" not in err


def test_empty_paths_are_errors(capsys):
    for flag in ("--save", "--save-trace", "--trace"):
        with pytest.raises(SystemExit) as exc:
            main(["longterm", "simulate", "--devices", "2", "--horizon", "3", flag, ""])
        assert exc.value.code == 2
        assert "empty path" in capsys.readouterr().err


def test_trace_file_refuses_flags_it_would_ignore(small, tmp_path, capsys):
    path = str(small.save(tmp_path / "b2.npz"))
    for extra in (["--devices", "3"], ["--horizon", "4"], ["--seed", "1"],
                  ["--scenario", "default"]):
        code, _, err = _cli(capsys, "longterm", "simulate", "--trace", path, *extra)
        assert code == 2 and "would be ignored" in err
    code, _, err = _cli(capsys, "longterm", "simulate", "--trace", path, "--policy", "local")
    assert code == 2 and "B = 2 members" in err
    code, out, _ = _cli(capsys, "longterm", "simulate", "--trace", path, "--member", "1",
                        "--policy", "local", "--json", "--no-progress")
    assert code == 0 and json.loads(out)["trace_seed"] == 1


def test_nonsense_trace_is_not_simulated(small, tmp_path, capsys):
    delay = np.array(small.local_delay)
    delay[0, 0, 0] = -1e3
    path = _save(tmp_path, small, local_delay=delay)
    code, out, err = _cli(capsys, "longterm", "simulate", "--trace", path, "--member", "0",
                          "--policy", "greedy")
    assert code == 2 and "local_delay" in err and "constraints" not in out


def test_compare_store_must_be_a_database(tmp_path, capsys):
    (tmp_path / "notdb.sqlite").write_text("hello")
    for db in (str(tmp_path), str(tmp_path / "notdb.sqlite"),
               str(tmp_path / "missing" / "x.sqlite")):
        code, _, err = _cli(capsys, "longterm", "compare", "--devices", "2", "--horizon", "3",
                            "--policies", "local", "--db", db, "--no-progress")
        assert code == 2 and "--db" in err


def test_json_output_is_valid_json(capsys):
    code, out, err = _cli(capsys, "longterm", "simulate", "--devices", "2", "--horizon", "3",
                          "--policy", "local", "--json", "--no-progress")
    assert code == 0 and "RuntimeWarning" not in err
    json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))


def test_output_under_a_file_is_a_clean_error(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    code, _, err = _cli(capsys, "longterm", "simulate", "--devices", "2", "--horizon", "3",
                        "--save", str(tmp_path / "f" / "r.npz"))
    assert code == 2 and "is a file" in err


# ---------------------------------------------------------------- bench specs


def _spec(**grid) -> dict:
    base = {"kind": "longterm", "scenario": "default", "n_users": 3, "horizon": 5,
            "seeds": [0], "solvers": ["local"]}
    return {"sweep": {"name": "x"}, "grid": [{**base, **grid}]}


@pytest.mark.parametrize("grid, match", [
    ({"options": {"slot_s": -1}}, "slot_s = -1"),
    ({"options": {"profile": "nope"}}, "nope"),
    ({"solvers": [{"name": "lyapunov", "options": {"V": -1}}]}, "V = -1"),
    ({"solvers": [{"name": "random", "options": {"colour": 1}}]}, "colour"),
    ({"n_users": 100_000, "horizon": 1000}, "trace too large"),
])
def test_longterm_specs_are_checked_before_running(grid, match):
    with pytest.raises(ValueError, match=match):
        parse_spec(_spec(**grid))
