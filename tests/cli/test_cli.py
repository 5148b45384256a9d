"""The command line: solve, compare, demo, solvers, and its error handling."""

import json

import pytest

import mecopt
from mecopt.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_solve_text(capsys):
    code, out, _ = run(capsys, "solve", "--scenario", "kim2026", "--users", "15", "--solver",
                       "highs")
    assert code == 0
    assert "status     optimal" in out
    assert "mean delay" in out


def test_solve_json_matches_api(capsys):
    code, out, _ = run(capsys, "solve", "--scenario", "uniform", "--users", "6", "--seed", "4",
                       "--solver", "highs", "--json")
    assert code == 0
    doc = json.loads(out)
    ref = mecopt.solve(mecopt.scenario("uniform", 6, 4), "highs", seed=4)
    assert doc["status"] == ref.status == "optimal"
    assert doc["objective"] == pytest.approx(ref.objective, rel=1e-9)
    assert doc["seed"] == 4 and doc["solver"] == "highs"
    assert doc["instance"]["scenario"] == "uniform"


def test_solve_instance_file_and_output(capsys, tmp_path):
    inst = mecopt.scenario("uniform", 5, seed=2)
    path = tmp_path / "inst.json"
    inst.to_json(path)
    out_file = tmp_path / "res.json"
    code, _, _ = run(capsys, "solve", "--instance", str(path), "--solver", "bruteforce",
                     "-o", str(out_file))
    assert code == 0
    doc = json.loads(out_file.read_text())
    assert doc["status"] == "optimal"
    assert doc["objective"] == pytest.approx(mecopt.solve(inst, "highs").objective, rel=1e-7)


def test_solve_gap_option_is_honoured_and_recorded(capsys):
    code, out, _ = run(capsys, "solve", "--scenario", "kim2026", "--users", "40", "--gap",
                       "0.02", "--json", "--quiet")
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "optimal" and doc["stop"] == "gap"
    assert doc["gap_tol"] == 0.02 and doc["gap"] <= 0.02
    code, out, _ = run(capsys, "solve", "--scenario", "kim2026", "--users", "40", "--json",
                       "--quiet")
    assert json.loads(out)["gap_tol"] == mecopt.result.DEFAULT_GAP
    code, _, err = run(capsys, "solve", "--scenario", "kim2026", "--users", "40", "--gap",
                       "1.5")
    assert code == 2 and "gap = 1.5: must be a number in [0, 1)" in err
    code, _, err = run(capsys, "solve", "--scenario", "kim2026", "--users", "40", "--solver",
                       "goa", "--gap", "0.01")
    assert code == 2 and "--gap 0.01: solver 'goa' proves no gap" in err


def test_solve_json_of_an_answer_that_breaks_a_constraint(capsys):
    # Min delay ignores the uncertainty rule (tau = 0.6) on kim2026 at N = 200.
    code, out, _ = run(capsys, "solve", "--scenario", "kim2026", "--users", "200", "--solver",
                       "min-delay", "--json")
    doc = json.loads(out)
    assert code == 1 and doc["status"] == "violates" and doc["stop"] == "heuristic"
    assert doc["assignment"] is not None and doc["objective"] > 0
    assert doc["feasible"] is False and doc["violations"][0].startswith("uncertainty rule")
    code, out, _ = run(capsys, "compare", "--scenario", "kim2026", "--users", "200",
                       "--solvers", "goa,min-delay", "--json", "--quiet")
    rows = {r["solver"]: r for r in json.loads(out)["rows"]}
    assert rows["min-delay"]["status"] == "violates" and rows["min-delay"]["violations"]
    assert rows["goa"]["status"] == "feasible" and rows["goa"]["violations"] == []


def test_compare_json_gap_to_best_bound(capsys):
    code, out, _ = run(capsys, "compare", "--scenario", "uniform", "--users", "6", "--solvers",
                       "bruteforce,highs,goa,local-all", "--json")
    assert code == 0
    doc = json.loads(out)
    rows = {r["solver"]: r for r in doc["rows"]}
    assert rows["highs"]["gap_to_best_bound"] == pytest.approx(0.0, abs=1e-6)
    assert rows["goa"]["gap_to_best_bound"] >= -1e-9
    assert rows["bruteforce"]["mean_delay_ms"] == pytest.approx(rows["highs"]["mean_delay_ms"],
                                                                rel=1e-6)
    assert doc["best_bound"] * 1e3 == pytest.approx(rows["highs"]["mean_delay_ms"], rel=1e-6)


def test_compare_table_and_plot(capsys, tmp_path):
    png = tmp_path / "cmp.png"
    code, out, _ = run(capsys, "compare", "--scenario", "kim2026", "--users", "12",
                       "--solvers", "highs,goa,edge-all", "--min-accuracy", "0.5",
                       "--plot", str(png))
    assert code == 0
    assert "best proven bound" in out and "goa" in out
    assert png.stat().st_size > 10_000


def test_solvers_lists_versions(capsys):
    code, out, _ = run(capsys, "solvers")
    assert code == 0
    assert "ortools-cpsat" in out and "9.15" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["solve", "--scenario", "kim2026", "--users", "5", "--solver", "gurobi-ish"],
         "unknown solver 'gurobi-ish'; valid names:"),
        (["solve", "--scenario", "nowhere", "--users", "5"], "unknown scenario 'nowhere'"),
        (["solve", "--scenario", "kim2026"], "--users N is required"),
        (["solve"], "no instance"),
        (["solve", "--scenario", "kim2026", "--users", "5", "--queue", "mg1"],
         "unknown queue model 'mg1'"),
        (["solve", "--scenario", "kim2026", "--users", "5", "--min-accuracy", "1.5"],
         "min_accuracy = 1.5"),
        (["solve", "--scenario", "kim2026", "--users", "5", "--time-limit", "-1"],
         "time_limit = -1.0"),
        (["solve", "--scenario", "kim2026", "--users", "5", "--set", "bogus=1"],
         "unknown override(s) for scenario 'kim2026': bogus"),
        (["compare", "--scenario", "kim2026", "--users", "5", "--solvers", "highs,nope"],
         "unknown solver 'nope'"),
    ],
)
def test_bad_input_is_one_line_error(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_malformed_instance_file(capsys, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"schema": "mecopt.instance", "version": 1, "instance": {')
    code, _, err = run(capsys, "solve", "--instance", str(path))
    assert code == 2
    assert "not valid JSON" in err and str(path) in err


def test_missing_instance_file(capsys, tmp_path):
    code, _, err = run(capsys, "solve", "--instance", str(tmp_path / "none.json"))
    assert code == 2
    assert "instance file not found" in err


def test_infeasible_reported(capsys):
    code, out, _ = run(capsys, "solve", "--scenario", "kim2026", "--users", "8",
                       "--min-accuracy", "1.0", "--json")
    doc = json.loads(out)
    assert doc["status"] == "infeasible"
    assert "cannot be reached" in doc["message"]
    assert code == 0
