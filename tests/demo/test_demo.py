"""``mecopt demo``: its three parts on reduced settings, their tables and figures."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import mecopt.longterm as lt
from mecopt.cli import main
from mecopt.cli.demo_cmd import figure_path
from mecopt.demo import LEARNED_DEVICES, DemoSettings, learned_policy_file
from mecopt.demo.longterm_part import run_longterm, short_reason
from mecopt.demo.plot_deployment import plot_deployment_demo
from mecopt.demo.plot_longterm import plot_longterm_demo
from mecopt.demo.variants_part import run_deployment

HAS_RL = all(
    importlib.util.find_spec(m) is not None
    for m in ("torch", "gymnasium", "stable_baselines3", "sb3_contrib")
)


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_single_slot_part(capsys, tmp_path):
    png = tmp_path / "demo.png"
    code, out, _ = run(capsys, "demo", "--users", "10", "--parts", "single-slot", "-o", str(png))
    assert code == 0
    for name in ("highs", "ortools-mip", "ortools-cpsat", "pyomo", "cvxpy", "goa", "random"):
        assert name in out
    assert out.count("optimal ") >= 5
    assert png.stat().st_size > 10_000 and png.with_suffix(".pdf").is_file()
    assert not figure_path(png, "longterm").exists()  # only the part asked for ran


def test_variants_part_from_the_command_line(capsys, tmp_path):
    png = tmp_path / "demo.png"
    code, out, _ = run(capsys, "demo", "--parts", "variants", "--quiet", "-o", str(png))
    assert code == 0
    assert "milp    optimal" in out and "hosts" in out
    assert (tmp_path / "demo-variants.png").is_file() and not png.exists()


def test_figures_sit_beside_the_output():
    assert figure_path("out/mecopt-demo.png", "single-slot").as_posix() == "out/mecopt-demo.png"
    assert figure_path("out/mecopt-demo.png", "longterm").name == "mecopt-demo-longterm.png"
    assert figure_path("x.svg", "variants").name == "x-variants.svg"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--parts", "single-slot,nope"], "parts = ['single-slot', 'nope']: choose from"),
        (["--horizon", "0"], "lt_horizon = 0: must be a whole number"),
        (["--time-limit", "nan"], "time_limit = nan: must be a finite number > 0"),
    ],
)
def test_bad_settings_exit_2(capsys, argv, needle):
    code, _, err = run(capsys, "demo", *argv)
    assert code == 2 and needle in err and "Traceback" not in err


@pytest.fixture(scope="module")
def longterm_demo():
    # T = 30: hindsight is proven in about 5 s (past 20 s its bound is the reference); no
    # learned policies here (see the tests below).
    settings = DemoSettings(lt_horizon=30, lt_seed=0, learned=(), hindsight_limit=20.0, workers=1)
    return run_longterm(settings, progress=False)


@pytest.mark.slow
def test_longterm_rows_match_direct_runs(longterm_demo):
    demo = longterm_demo
    online = ["greedy", "goa", "lyapunov", "priced"]
    assert [r["policy"] for r in demo.rows] == [*online, "hindsight"]
    tr = lt.trace("default", n_devices=LEARNED_DEVICES, horizon=30, seed=0)
    scen = demo.scenario
    for row in demo.rows[:-1]:  # the bench rows are the runs themselves, constraint by constraint
        r = lt.run(tr, row["policy"], seed=0)
        assert row["latency_ms"] == pytest.approx(1e3 * r.mean_latency, rel=1e-12)
        assert row["met"] == {
            "energy": bool((r.energy <= r.energy_budget * (1 + 1e-9)).all()),
            "accuracy": r.accuracy >= scen.min_accuracy - 1e-9,
            "hallucination": r.hallucination <= scen.max_hallucination + 1e-9,
        }
        assert all(row["met"].values()) == r.feasible
    hind = demo.rows[-1]
    assert hind["kind"] == "hindsight" and all(hind["met"].values())
    assert hind["bound_ms"] <= hind["latency_ms"] + 1e-9
    ref = hind["latency_ms"] if hind["status"] == "optimal" else hind["bound_ms"]
    for row in demo.rows[:-1]:
        assert row["gap"] == pytest.approx((row["latency_ms"] - ref) / row["latency_ms"])
        if all(row["met"].values()):  # nothing feasible beats the proven bound
            assert row["latency_ms"] >= hind["bound_ms"] - 1e-9
    table = demo.table()
    assert "hindsight: " in table and "accuracy >= 0.52" in table


@pytest.mark.slow
def test_longterm_figure(longterm_demo, tmp_path):
    written = plot_longterm_demo(longterm_demo, tmp_path / "lt.png")
    assert [p.suffix for p in written] == [".png", ".pdf"]
    assert written[0].stat().st_size > 20_000


def test_packaged_learned_policies_run():
    path = learned_policy_file("ppo-lag")
    assert path.name == f"ppo-lag-u{LEARNED_DEVICES}.zip"
    if not HAS_RL:
        pytest.skip("the rl extra is not installed")
    from mecopt.rl.saved import PolicyFileError

    tr = lt.trace("default", n_devices=LEARNED_DEVICES, horizon=5, seed=0)
    for algo in DemoSettings().learned:
        try:
            r = lt.run(tr, f"{algo}:{learned_policy_file(algo)}", seed=0)
        except PolicyFileError as exc:
            pytest.fail(
                f"the demo's packaged policy is stale ({exc}): copy the retrained "
                "benchmarks/rl/policies/ file to mecopt/data/policies/"
            )
        assert r.n_queries > 0 and np.isfinite(r.mean_latency)


def test_unknown_learned_policy_names_the_packaged_ones():
    with pytest.raises(FileNotFoundError, match="packaged: .*ppo-lag-u20.zip"):
        learned_policy_file("nope")


def test_deployment_part_and_figure(tmp_path):
    demo = run_deployment(DemoSettings(deploy_users=9))
    exact, greedy = demo.results["milp"], demo.results["greedy"]
    assert exact.status == "optimal"
    assert exact.objective <= greedy.objective + 1e-12
    rows = demo.per_class("milp")
    assert [r["class"] for r in rows] == ["phone", "jetson-orin-nano", "laptop"]
    assert sum(r["users"] for r in rows) == 9
    # The per-class delays average (weighted by users) to the evaluated mean delay.
    mean = sum(r["delay_ms"] * r["users"] for r in rows) / 9
    assert mean == pytest.approx(1e3 * exact.metrics.mean_delay)
    assert sum(r["local"] for r in rows) == 9 - exact.metrics.n_offloaded
    assert "ecld" in demo.table() or "edge" in demo.table()
    written = plot_deployment_demo(demo, tmp_path / "dep.png")
    assert written[0].stat().st_size > 20_000


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (
            "mecopt.rl.saved.PolicyFileError: /x/data/policies/ppo-lag-u20.zip: layout version 1",
            "PolicyFileError: ppo-lag-u20.zip: layout version 1",
        ),
        ("hard limit 300 s reached", "hard limit 300 s reached"),
        ("", "no message"),
        ("x" * 200, "x" * 87 + "..."),
    ],
)
def test_error_rows_say_why_briefly(message, shown):
    assert short_reason(message) == shown


@pytest.mark.skipif(not HAS_RL, reason="the rl extra is not installed")
def test_a_policy_file_that_does_not_load_is_left_out_with_its_reason(monkeypatch, tmp_path):
    import mecopt.demo.learned as learned

    bad = tmp_path / "ppo-lag-u20.zip"
    bad.write_bytes(b"not a zip")
    monkeypatch.setattr(learned, "learned_policy_file", lambda algo: bad)
    entries, left_out = learned.learned_entries(["ppo-lag"])
    assert entries == []
    ((label, reason),) = left_out
    assert label == "ppo-lag (learned)" and "PolicyFileError" in reason
    assert "refresh mecopt/data/policies/" in reason


_SWEEP_SCRIPT = """
import json, pathlib, sys
import mecopt.demo.learned as learned
learned.learned_policy_file = lambda algo: pathlib.Path(sys.argv[1])
from mecopt.demo.longterm_part import run_longterm
from mecopt.demo.settings import DemoSettings
settings = DemoSettings(parts=("longterm",), lt_horizon=6, lt_policies=("greedy",),
                        learned=("ppo-lag",), hindsight_limit=5.0, run_limit=60.0)
print(json.dumps(run_longterm(settings, progress=False).rows))
"""


@pytest.mark.slow
@pytest.mark.skipif(not HAS_RL, reason="the rl extra is not installed")
def test_learned_policy_runs_in_the_sweep(tmp_path):
    # Regression: the sweep reads the policy file in the parent process, then forks a child
    # per run; the child hung in its first torch call until the hard limit. A fresh process,
    # as `mecopt demo` is, since a test process may have set torch's threads already.
    import json
    import subprocess
    import sys

    from mecopt.rl.train import train

    out = tmp_path / "run"
    train(
        "ppo-lag",
        n_devices=LEARNED_DEVICES,
        steps=64,
        n_envs=2,
        horizon=8,
        pool_size=2,
        pool_length=16,
        n_eval=0,
        out=out,
        progress=False,
        plot=False,
    )
    done = subprocess.run(
        [sys.executable, "-c", _SWEEP_SCRIPT, str(out / "model.zip")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    row = next(r for r in rows if r["policy"] == "ppo-lag (learned)")
    assert row["kind"] == "learned" and row["status"] not in ("timeout", "error", "crashed")
    assert row["latency_ms"] > 0 and set(row["met"]) == {"energy", "accuracy", "hallucination"}


@pytest.mark.skipif(not HAS_RL, reason="mecopt.rl cannot be imported without the rl extra")
def test_without_the_rl_extra_the_learned_rows_are_left_out(monkeypatch):
    import mecopt.rl._deps as deps
    from mecopt.demo.learned import learned_entries
    from mecopt.errors import MissingDependencyError

    def missing() -> None:
        raise MissingDependencyError("learned policies need the 'rl' extra (torch is missing)")

    monkeypatch.setattr(deps, "require_rl", missing)
    entries, left_out = learned_entries(["ppo-lag", "wm-ppo"])
    assert entries == []
    assert [label for label, _ in left_out] == ["ppo-lag (learned)", "wm-ppo (learned)"]
    assert all("'rl' extra" in reason for _, reason in left_out)
