"""Regression tests of the ``mecopt variants`` input defects found by fuzzing (issue 22,
section 3). Each test failed before its fix; none builds or solves anything large.
"""

from __future__ import annotations

import json

import pytest

import mecopt
from mecopt.cli import main


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["variants", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def teacher(tmp_path):
    folder = tmp_path / "teacher"
    folder.mkdir()
    return folder


def test_build_checks_threads_before_any_work(teacher, tmp_path, capsys):
    (teacher / "config.json").write_text('{"model_type": "llama"}')
    code, _, err = _cli(capsys, "build", "--teacher", str(teacher), "-o", str(tmp_path / "o"),
                        "--threads", "0")
    assert code == 2 and "--threads 0" in err


@pytest.mark.parametrize("config, match", [
    (None, "no config.json"),
    ("{bad", "config.json is not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    ("{}", "names no model_type"),
])
def test_build_checks_the_teacher_config(teacher, tmp_path, capsys, config, match):
    if config is not None:
        (teacher / "config.json").write_text(config)
    code, _, err = _cli(capsys, "build", "--teacher", str(teacher), "-o", str(tmp_path / "o"))
    assert code == 2 and match in err and "internal error" not in err


@pytest.mark.parametrize("argv, match", [
    (["--time-limit", "-1"], "--time-limit -1"),
    (["--time-limit", "nan"], "--time-limit nan"),
    (["--users", "100000000"], "--users 100000000"),
    (["--users", "200000"], "at most 100,000 users"),
    (["--devices", ","], "at least one device class"),
])
def test_deploy_errors(capsys, argv, match):
    code, _, err = _cli(capsys, "deploy", "--method", "greedy", *argv)
    assert code == 2 and match in err


def test_deploy_with_an_instance_file(tmp_path, capsys):
    path = tmp_path / "i.json"
    path.write_text(mecopt.scenario("kim2026", 4, seed=0).to_json())
    code, out, err = _cli(capsys, "deploy", "--instance", str(path), "--method", "greedy",
                          "--json")
    assert code == 0, err
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))
    assert doc[0]["method"] == "greedy"
    code, _, err = _cli(capsys, "deploy", "--instance", str(path), "--users", "5")
    assert code == 2 and "would be ignored" in err
    code, _, err = _cli(capsys, "deploy", "--instance", str(path), "--seed", "-1")
    assert code == 2 and "--seed -1" in err
