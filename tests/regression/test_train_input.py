"""Regression tests of the training and saved-policy input defects found by fuzzing (issue 22,
section 3): ``mecopt train``, :func:`mecopt.rl.train.train`, saved policies and bench specs
of kind ``train``. Each test failed before its fix; none trains a network (validation stops
every case before any work).
"""

from __future__ import annotations

import json
import zipfile

import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("sb3_contrib")

import mecopt.longterm as lt  # noqa: E402
from mecopt.bench import parse_spec  # noqa: E402
from mecopt.cli import main  # noqa: E402
from mecopt.rl.features import OBS_VERSION  # noqa: E402
from mecopt.rl.saved import PolicyFileError, load_policy, read_model  # noqa: E402
from mecopt.rl.train import train  # noqa: E402


def _fake_policy(path, *, meta: dict | None = None, data: bytes | None = None,
                 files: tuple[str, ...] = ("data", "policy.pth")) -> str:
    """A zip laid out like an SB3 save whose network file is garbage."""
    scen = lt.make_scenario("default").to_dict()
    meta = {"algo": "ppo", "n_devices": 20, "n_servers": 4, "scenario": scen,
            "obs_version": OBS_VERSION} if meta is None else meta
    with zipfile.ZipFile(path, "w") as z:
        for name in files:
            if name == "data":
                z.writestr("data", data if data is not None else json.dumps(
                    {"mecopt_meta": meta}))
            else:
                z.writestr(name, b"\x80\x04garbage")
    return str(path)


# ---------------------------------------------------------------- saved policies


def test_damaged_policy_files_are_clear_errors(tmp_path):
    good = _fake_policy(tmp_path / "p.zip")
    raw = open(good, "rb").read()
    (tmp_path / "trunc.zip").write_bytes(raw[: len(raw) // 2])
    cases = {
        str(tmp_path / "trunc.zip"): "not a readable saved policy",
        _fake_policy(tmp_path / "nodata.zip", files=("policy.pth",)): "holds no data",
        _fake_policy(tmp_path / "badjson.zip", data=b"{"): "not a readable saved policy",
        _fake_policy(tmp_path / "nometa.zip", data=b"{}"): "no mecopt_meta",
        good: "not a readable saved policy",  # garbage policy.pth: SB3 cannot unpickle it
    }
    for path, match in cases.items():
        with pytest.raises(PolicyFileError, match=match):
            read_model(path, "ppo")


def test_a_trace_file_is_not_a_policy(tmp_path):
    tr = lt.trace(n_devices=2, horizon=3, seed=0)
    path = tr.save(tmp_path / "trace.npz")
    with pytest.raises(PolicyFileError, match="not a saved policy"):
        load_policy(path, "ppo")


def test_wrong_algorithm_is_named(tmp_path):
    path = _fake_policy(tmp_path / "lag.zip", meta={
        "algo": "ppo-lag", "n_devices": 2, "n_servers": 4, "obs_version": OBS_VERSION,
        "scenario": lt.make_scenario("default").to_dict()})
    with pytest.raises(PolicyFileError, match="holds a 'ppo-lag' policy"):
        load_policy(path, "wm-ppo")


def test_unknown_options_of_a_learned_policy(tmp_path):
    path = _fake_policy(tmp_path / "p.zip")
    with pytest.raises(ValueError, match="unknown option"):
        load_policy(path, "ppo", colour=1)
    with pytest.raises(ValueError, match="deterministic = 'yes'"):
        load_policy(path, "ppo", deterministic="yes")


# ---------------------------------------------------------------- train()


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": float("inf")}, "steps = inf"),
    ({"steps": 1e400}, "steps = inf"),
    ({"steps": 0}, "steps = 0"),
    ({"checkpoint_every": float("inf")}, "checkpoint_every = inf"),
    ({"n_steps": 0}, "n_steps = 0"),
    ({"n_epochs": 0}, "n_epochs = 0"),
    ({"batch_size": 0}, "batch_size = 0"),  # hung in the first update
    ({"gamma": 5}, "gamma = 5"),
    ({"clip_range": -1}, "clip_range = -1"),
    ({"ent_coef": float("nan")}, "ent_coef = nan"),
    ({"wm_hidden": 0}, "wm_hidden = 0"),
    ({"n_steps": 4}, "n_steps = 4: the world-model learner looks imag_horizon = 4"),
    ({"learning_rate": "fast"}, "learning_rate = 'fast'"),
    ({"colour": 1}, "unknown option.*colour"),
    ({"wm_hidden": 8, "algo": "ppo"}, "unknown option.*wm_hidden"),  # was a TypeError
    ({"clip_range": 1e300}, "clip_range = 1e"),  # overflowed float32 inside the update
    ({"seed": -1}, "seed = -1"),
    ({"n_eval": -1}, "n_eval = -1"),
    ({"horizon": 400}, "horizon = 400.*pool_length = 300"),
    ({"n_devices": 100_000_000}, "n_devices = 100000000"),
    ({"n_devices": 50_000}, "trace too large"),
    ({"device": "cuda"}, "set by the training run"),
    # the PID multipliers' and the cloning learner's settings
    ({"pid_kp": float("nan"), "algo": "ppo-lag"}, "pid_kp = nan"),
    ({"pid_ema": 1.0, "algo": "ppo-lag"}, "pid_ema = 1.0"),
    ({"cost_quantile": 0, "algo": "ppo-lag"}, "cost_quantile = 0"),
    ({"device_credit": 2, "algo": "ppo-lag"}, "device_credit = 2"),
    ({"bc_epochs": 0, "algo": "bc"}, "bc_epochs = 0"),
    ({"bc_time_limit": -1, "algo": "bc"}, "bc_time_limit = -1"),
])
def test_training_settings_are_checked_before_any_work(tmp_path, kwargs, match):
    out = tmp_path / "run"
    algo = kwargs.pop("algo", "wm-ppo" if "wm_hidden" in kwargs or kwargs.get("n_steps") == 4
                      else "ppo")
    with pytest.raises(ValueError, match=match):
        train(algo, out=out, progress=False, **kwargs)
    assert not out.exists()  # nothing was made


def test_output_must_be_a_directory(tmp_path):
    (tmp_path / "f").write_text("x")
    for out in ("", str(tmp_path / "f"), str(tmp_path / "f" / "sub")):
        with pytest.raises(ValueError, match="out ="):
            train("ppo", out=out, steps=1, progress=False)


def test_resume_with_another_size_is_refused(tmp_path):
    ck = tmp_path / "run" / "checkpoints"
    ck.mkdir(parents=True)
    _fake_policy(ck / "model-64.zip")  # U = 20
    with pytest.raises(PolicyFileError, match="trained for U = 20 devices"):
        train("ppo", out=tmp_path / "run", n_devices=2, resume=True, progress=False)
    with pytest.raises(PolicyFileError, match="trained by 'ppo'"):
        train("ppo-lag", out=tmp_path / "run", n_devices=20, resume=True, progress=False)


# ---------------------------------------------------------------- CLI


@pytest.mark.parametrize("argv, match", [
    (["--steps", "inf"], "--steps"),
    (["--steps", "1e400"], "--steps"),
    (["--checkpoint-every", "inf"], "--checkpoint-every"),
    (["--out", ""], "empty path"),
])
def test_cli_argument_errors(tmp_path, capsys, argv, match):
    args = ["train", "--out", str(tmp_path / "r"), *argv]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2 and match in capsys.readouterr().err


@pytest.mark.parametrize("argv, match", [
    (["--eval-traces", "-1"], "--eval-traces -1"),
    (["--horizon", "400"], "pool_length = 300"),
    (["--set", "batch_size=0"], "batch_size = 0"),
    (["--set", "seed=3"], "own flag"),
    (["--devices", "100000000"], "n_devices = 100000000"),
])
def test_cli_errors_before_training(tmp_path, capsys, argv, match):
    code = main(["train", "--out", str(tmp_path / "r"), "--no-progress", *argv])
    err = capsys.readouterr().err
    assert code == 2 and match in err
    assert not (tmp_path / "r").exists()


def test_cli_out_is_an_existing_file(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert main(["train", "--out", str(tmp_path / "f"), "--steps", "1"]) == 2
    assert "is a file" in capsys.readouterr().err


# ---------------------------------------------------------------- bench specs


def _spec(options: dict, grid: dict | None = None) -> dict:
    return {"sweep": {"name": "x"}, "grid": [{
        "kind": "train", "scenario": "default", "n_users": 3, "horizon": 5, "seeds": [0],
        "solvers": [{"name": "ppo", "options": options}], **(grid or {})}]}


@pytest.mark.parametrize("options, grid, match", [
    ({"steps": -5}, None, "steps = -5"),
    ({"n_envs": 0}, None, "n_envs = 0"),
    ({"batch_size": 0}, None, "batch_size = 0"),
    ({"out_root": ""}, None, "out_root"),
    ({"n_devices": 3}, None, "set by the grid"),
    ({}, {"options": {"profile": "nope"}}, "nope"),
    ({}, {"options": {"slot_s": -1}}, "slot_s = -1"),
])
def test_train_specs_are_checked_before_running(options, grid, match):
    with pytest.raises(ValueError, match=match):
        parse_spec(_spec(options, grid))


def test_a_valid_train_spec_passes():
    spec = parse_spec(_spec({"steps": 64, "n_envs": 2}))
    assert len(spec.tasks) == 1
