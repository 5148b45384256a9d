"""Instance export, model export (LP/MPS), progress lines, scenario size options, figures."""

from __future__ import annotations

import numpy as np
import pytest

import mecopt
from mecopt.cli import main


def test_instance_export_and_check(tmp_path, capsys):
    out = tmp_path / "F.json"
    assert main(["instance", "export", "--scenario", "kim2026", "--users", "12", "--seed", "3",
                 "--tau", "0.7", "-o", str(out)]) == 0
    inst = mecopt.Instance.from_json(out)
    ref = mecopt.scenario("kim2026", 12, 3, tau=0.7)
    assert np.array_equal(inst.gain, ref.gain) and inst.tau == 0.7
    assert main(["instance", "check", str(out)]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["instance", "export", "--scenario", "kim2026", "--users", "5", "-o",
                 str(tmp_path / "F.txt")]) == 2


@pytest.mark.parametrize("suffix", [".lp", ".mps"])
def test_exported_model_solves_to_the_same_optimum(tmp_path, suffix):
    highspy = pytest.importorskip("highspy")
    inst = mecopt.scenario("kim2026", 15, seed=2, min_accuracy=0.5)
    path = tmp_path / "F.json"
    inst.to_json(path)
    model = tmp_path / f"model{suffix}"
    assert main(["export-model", str(path), "-o", str(model)]) == 0
    h = highspy.Highs()
    h.silent()
    h.readModel(str(model))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    total_ms = h.getInfo().objective_function_value
    exact = mecopt.solve(inst, "highs")
    assert total_ms / (1e3 * inst.n_users) == pytest.approx(exact.objective, rel=1e-7)
    assert main(["export-model", str(path), "-o", str(tmp_path / "m.txt")]) == 2


def test_compare_prints_progress_unless_quiet(capsys):
    args = ["compare", "--scenario", "uniform", "--users", "4", "--solvers", "goa,local-all"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "[1/2] goa ..." in err and "[2/2] local-all ..." in err
    assert main([*args, "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_kim2026_number_of_servers_and_area():
    inst = mecopt.scenario("kim2026", 20, seed=0, n_servers=9, area_m=1000.0)
    assert inst.n_servers == 9
    base = mecopt.scenario("kim2026", 20, seed=0)
    same = mecopt.scenario("kim2026", 20, seed=0, n_servers=4, area_m=500.0)
    assert np.array_equal(base.gain, same.gain)  # the published layout is unchanged
    from mecopt.scenarios.kim2026 import ES_POSITIONS, es_grid

    assert np.array_equal(es_grid(4, 500.0), np.array(ES_POSITIONS))
    with pytest.raises(ValueError, match="n_servers"):
        mecopt.scenario("kim2026", 5, seed=0, n_servers=0)


def test_kim2026_published_is_the_authors_evaluation():
    inst = mecopt.scenario("kim2026-published", 50, seed=0)
    assert inst.interference == "other-cells" and inst.tau == 0.6
    # Prompts are byte counts used as bits: whole numbers, several hundred.
    assert np.array_equal(inst.prompt_bits, np.round(inst.prompt_bits))
    assert 100 < inst.prompt_bits.mean() < 1000
    assert inst.meta["prompt_units"] == "bytes-as-bits"


def test_bench_figures_are_written_as_png_and_pdf(tmp_path):
    from mecopt.bench.plots import plot_all

    rows = []
    for seed in range(3):
        for n in (10, 20, 40):
            for solver, d in (("goa", 0.03), ("highs", 0.02)):
                rows.append({"solver": solver, "n_users": n, "status": "feasible", "seed": seed,
                             "objective": d * (1 + 0.01 * seed) * n / 10, "accuracy": 0.5,
                             "runtime": 0.01 * n, "gap_best": 0.1, "best_milp_bound": 0.01,
                             "tau": 0.6, "min_accuracy": 0.45, "mean_comm_delay": 0.001,
                             "mean_edge_delay": 0.01})
    paths = plot_all(rows, tmp_path)
    names = {p.name for p in paths}
    for stem in ("runtime", "gap", "delay", "accuracy", "delay_parts"):
        assert {f"{stem}.png", f"{stem}.pdf"} <= names
