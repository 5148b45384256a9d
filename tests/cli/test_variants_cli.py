"""The ``mecopt variants`` command line."""

from __future__ import annotations

import json

import pytest

from mecopt.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_help_lists_the_actions(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["variants", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for action in ("list", "show", "pareto", "build", "deploy"):
        assert action in out


def test_list_and_show(capsys) -> None:
    code, out, _ = run(capsys, "variants", "list")
    assert code == 0 and "llama-3.1-8b" in out and "q4_k_m" in out
    code, out, _ = run(capsys, "variants", "list", "--catalogue", "llama-3.1-8b")
    assert code == 0 and "Llama-3.1-8B-ecld" in out and "P = published" in out
    code, out, _ = run(capsys, "variants", "show", "Llama-3.1-8B-q4_k_m", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["preset"] == "q4_k_m"
    assert doc["accuracy"]["source"] == "modelled" and doc["latency_s"]["source"] == "modelled"
    assert 4.8e9 < doc["storage_bytes"] < 5.0e9


def test_pareto_json_and_plot(capsys, tmp_path) -> None:
    plot = tmp_path / "front.png"
    code, out, _ = run(capsys, "variants", "pareto", "--json", "--plot", str(plot))
    doc = json.loads(out)
    assert code == 0 and "Llama-3.1-8B-ecld" in doc["front"]
    recipes = {r["recipe"] for r in doc["comparison"]}
    assert {"quantisation only", "pruning only", "ECLD (all three)"} <= recipes
    assert plot.is_file() and plot.with_suffix(".pdf").is_file()


def test_deploy_json(capsys) -> None:
    code, out, _ = run(capsys, "variants", "deploy", "--scenario", "uniform", "--users", "4",
                       "--variants", "Llama-3.1-8B-q4_k_m,Llama-3.1-8B-ecld", "--json")
    doc = json.loads(out)
    assert code == 0 and [d["method"] for d in doc] == ["milp", "greedy"]
    assert doc[0]["status"] == "optimal" and doc[0]["objective"] <= doc[1]["objective"] + 1e-12


@pytest.mark.parametrize(
    "argv",
    [("variants", "show", "no-such-variant"), ("variants", "list", "--catalogue", "nope"),
     ("variants", "deploy", "--scenario", "uniform", "--users", "3", "--variants", "x"),
     ("variants", "deploy", "--scenario", "uniform", "--users", "3", "--devices", "toaster")],
)
def test_bad_input_is_one_line_exit_2(capsys, argv) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and "error" in err
