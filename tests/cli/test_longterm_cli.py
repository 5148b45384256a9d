"""``mecopt longterm`` and the ``longterm`` task kind of mecopt.bench."""

import dataclasses
import json

import pytest

from mecopt.bench import ResultStore, parse_spec, run_sweep
from mecopt.cli import main
from mecopt.longterm.policy_comparison import compare, summarise, to_markdown


def test_simulate_json(capsys, tmp_path):
    trace = tmp_path / "tr.npz"
    code = main(["longterm", "simulate", "--devices", "4", "--horizon", "30", "--seed", "2",
                 "--policy", "random", "--option", "p_offload=0.8", "--json", "--no-progress",
                 "--save-trace", str(trace), "--save", str(tmp_path / "r.npz")])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["policy"] == "random" and out["options"] == {"p_offload": 0.8}
    assert out["trace_seed"] == 2 and len(out["energy"]) == 4
    # The saved trace gives the same figures.
    assert main(["longterm", "simulate", "--trace", str(trace), "--policy", "random",
                 "--option", "p_offload=0.8", "--json", "--no-progress"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["mean_latency"] == out["mean_latency"]


@pytest.mark.parametrize("argv, message", [
    (["--set", "energy_budget_j=-0.1"], "energy_budget_j = -0.1: must be >= 0"),
    (["--set", "fading_rho=1"], "fading_rho = 1"),
    (["--set", "min_accuracy=0.95"], "min_accuracy = 0.95 is infeasible"),
    (["--policy", "nope"], "unknown long-term policy 'nope'"),
    (["--option", "V=-1", "--policy", "lyapunov"], "V = -1"),
])
def test_bad_parameters_one_line_exit_2(capsys, argv, message):
    code = main(["longterm", "simulate", "--devices", "3", "--horizon", "5", "--no-progress",
                 *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_hindsight_command(capsys):
    import mecopt.longterm as lt

    if "hindsight" not in lt.available_policies():
        assert main(["longterm", "hindsight", "--devices", "2", "--horizon", "3"]) == 2
        assert "not available" in capsys.readouterr().err
        return
    assert main(["longterm", "hindsight", "--devices", "3", "--horizon", "6", "--json",
                 "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["policy"] == "hindsight" and out["info"]["status"] == ["optimal"]
    local = lt.run(lt.trace(n_devices=3, horizon=6, seed=0), "local")
    if local.feasible:
        assert out["mean_latency"] <= local.mean_latency + 1e-12


def test_compare_runs_through_bench(capsys, tmp_path):
    plot = tmp_path / "cmp.png"
    code = main(["longterm", "compare", "--devices-list", "3", "5", "--horizon", "20",
                 "--seeds", "0", "1", "--policies", "local,offload,random",
                 "--option", "random.p_offload=0.3", "--plot", str(plot), "--no-progress",
                 "--db", str(tmp_path / "lt.sqlite")])
    assert code == 0
    out = capsys.readouterr().out
    assert "| local | 3 | 2/2 |" in out
    assert plot.is_file() and plot.with_suffix(".pdf").is_file()
    with ResultStore(tmp_path / "lt.sqlite") as db:
        rows = db.rows()
    assert len(rows) == 12 and {r["task_kind"] for r in rows} == {"longterm"}
    assert all(r["horizon"] == 20 for r in rows)


def test_compare_is_resumable_and_summarised(tmp_path):
    db = tmp_path / "s.sqlite"
    rows = compare(["local", "greedy"], devices=[4], horizon=15, seeds=[0, 1], store=db,
                   progress=False)
    assert len(rows) == 4 and all(r["status"] in ("feasible", "violates") for r in rows)
    spec_rows = compare(["local", "greedy"], devices=[4], horizon=15, seeds=[0, 1], store=db,
                        progress=False)
    assert [r["id"] for r in spec_rows] == [r["id"] for r in rows]   # nothing ran again
    summary = summarise(rows)
    local = next(s for s in summary if s["policy"] == "local")
    assert local["feasible"] == 0.0 and local["offload_share"] == 0.0
    assert local["gap_to_hindsight"] is None
    assert "| greedy | 4 | 2/2 |" in to_markdown(summary)


def test_summary_gap_to_hindsight():
    rows = [{"solver": s, "n_users": 5, "seed": k, "objective": obj, "bound": bound,
             "status": status, "metrics": {}}
            for s, k, obj, bound, status in (
                ("hindsight", 0, 0.02, 0.02, "optimal"), ("local", 0, 0.04, None, "feasible"),
                ("hindsight", 1, 0.035, 0.03, "feasible"), ("local", 1, 0.03, None, "feasible"))]
    local = next(s for s in summarise(rows) if s["policy"] == "local")
    # Seed 1's hindsight is not proven optimal: the gap is taken to its bound (0.03).
    assert local["gap_to_hindsight"] == pytest.approx((0.5 + 0.0) / 2)


@pytest.mark.parametrize("grid, message", [
    ({"solvers": ["nope"]}, "unknown long-term policy"),
    ({"horizon": None}, "needs 'horizon'"),
    ({"options": {"bogus": 1}}, "unknown option"),
    ({"kind": "weird"}, "unknown task kind"),
])
def test_longterm_spec_errors(grid, message):
    base = {"kind": "longterm", "scenario": "default", "n_users": [3], "horizon": 5,
            "seeds": [0], "solvers": ["local"]}
    base.update(grid)
    if base["horizon"] is None:
        del base["horizon"]
    with pytest.raises(ValueError, match=message):
        parse_spec({"grid": [base]})


def test_longterm_task_error_is_a_row():
    # a bad value no longer passes the spec (issue 22); put it into the task after checking
    spec = parse_spec({"grid": [{"kind": "longterm", "scenario": "default", "n_users": [3],
                                 "horizon": 5, "seeds": [0], "solvers": ["local"]}]})
    spec = dataclasses.replace(spec, tasks=tuple(
        dataclasses.replace(t, overrides={"fading_rho": 2.0}) for t in spec.tasks))
    store = ResultStore(":memory:")
    run_sweep(spec, store, progress=False)
    (row,) = store.rows()
    assert row["status"] == "error" and "fading_rho" in row["message"]
