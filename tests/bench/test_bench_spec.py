"""Sweep specs: TOML parsing, expansion, validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from mecopt.bench import load_spec, parse_spec
from mecopt.errors import UnknownNameError

SPEC = """
[sweep]
name = "t"
db = "out/t.sqlite"
threads = 2
grace = 5

[[grid]]
scenario = "kim2026"
n_users = { start = 10, stop = 30, step = 10 }
seeds = { start = 3, count = 2 }
solvers = ["goa", { name = "highs", time_limit = 7, max_n = 20 },
           { name = "goa", label = "goa-loop", options = { engine = "loop" } }]
[grid.options]
tau = [0.6, 1.0]
interference = "other-cells"
"""


def test_expansion(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(SPEC)
    spec = load_spec(path)
    assert spec.name == "t"
    assert spec.db == tmp_path / "out" / "t.sqlite"
    # 2 seeds x 3 sizes x 2 tau x (goa, goa-loop) + highs only at N <= 20.
    assert len(spec) == 2 * 3 * 2 * 2 + 2 * 2 * 2
    assert [t.seed for t in spec.tasks] == sorted(t.seed for t in spec.tasks)  # seed first
    highs = [t for t in spec.tasks if t.label == "highs"]
    assert {t.n_users for t in highs} == {10, 20}
    assert all(t.time_limit == 7 and t.hard_limit == 12 and t.threads == 2 for t in highs)
    loop = [t for t in spec.tasks if t.label == "goa-loop"]
    assert all(t.solver == "goa" and t.solver_options == {"engine": "loop"} for t in loop)
    assert all(t.overrides["interference"] == "other-cells" for t in spec.tasks)
    assert len({t.key for t in spec.tasks}) == len(spec)


def _grid(**changes: object) -> dict:
    grid = {"scenario": "kim2026", "n_users": [5], "seeds": [0], "solvers": ["goa"]}
    grid.update(changes)
    return {"grid": [grid]}


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_grid(solvers=["gao"]), "valid names"),
        (_grid(scenario="nope"), "valid names"),
        (_grid(options={"taux": 0.5}), "valid: "),
        (_grid(solvers=[{"name": "goa", "options": {"engin": "fast"}}]), "valid: tau"),
        (_grid(colour=1), "unknown key"),
        (_grid(seeds={"start": 0}), "stop"),
        (_grid(solvers=["goa", "goa"]), "unique"),
        ({"grid": []}, "at least one"),
        ({"sweep": {"nam": "x"}, **_grid()}, "unknown key"),
        (_grid(solvers=[{"name": "highs", "time_limit": -1}]), "> 0"),
    ],
)
def test_bad_specs_name_the_problem(data: dict, match: str) -> None:
    with pytest.raises((ValueError, UnknownNameError), match=match):
        parse_spec(data)


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_spec(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[sweep\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_spec(bad)


def test_committed_specs_parse() -> None:
    root = ROOT / "benchmarks" / "sweeps"
    specs = sorted(root.glob("*.toml"))
    assert specs
    for path in specs:
        assert len(load_spec(path)) > 0
