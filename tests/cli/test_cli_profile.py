"""Tests of ``mecopt profile``: fit, show, plot, list, measure."""

from __future__ import annotations

import json

import pytest
from conftest import DATA

from mecopt.cli import main


def test_fit_then_show_and_plot(tmp_path, capsys):
    out = tmp_path / "small.json"
    assert main(["profile", "fit", str(DATA / "records_small.csv"), "-o", str(out)]) == 0
    assert out.is_file() and (tmp_path / "small.csv").is_file()
    assert "auroc_local_error" in capsys.readouterr().out

    assert main(["profile", "show", str(out), "--bins", "4"]) == 0
    text = capsys.readouterr().out
    assert "profile 'small'" in text and "[0.25, 0.50)" in text

    assert main(["profile", "show", str(out), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["statistics"]["n"] == 8

    png = tmp_path / "small.png"
    assert main(["profile", "plot", str(out), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fit_with_provenance_file(tmp_path, capsys):
    prov = {
        "description": "hand-made",
        "synthetic": False,
        "models": {"local": "a", "edge": "b"},
        "dataset": {"name": "d"},
        "date": "2026-01-01",
        "hardware": {"cpu": "x"},
        "software": {"python": "3.11"},
    }
    (tmp_path / "prov.json").write_text(json.dumps(prov))
    out = tmp_path / "p.json"
    code = main(
        [
            "profile",
            "fit",
            str(DATA / "records_small.csv"),
            "-o",
            str(out),
            "--provenance",
            str(tmp_path / "prov.json"),
            "--name",
            "mine",
        ]
    )
    assert code == 0
    meta = json.loads(out.read_text())
    assert meta["name"] == "mine" and meta["provenance"]["date"] == "2026-01-01"


def test_show_shipped_profiles(capsys):
    assert main(["profile", "list"]) == 0
    names = capsys.readouterr().out.split()
    assert "synthetic" in names and "babi-tiny" in names
    assert main(["profile", "show", "synthetic"]) == 0
    assert "SYNTHETIC" in capsys.readouterr().out


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_bad_record_is_one_line_naming_row_and_column(tmp_path, capsys):
    lines = (DATA / "records_small.csv").read_text().splitlines()
    lines[3] = lines[3].replace("0.435", "nan")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    assert main(["profile", "fit", str(bad), "-o", str(tmp_path / "x.json")]) == 2
    err = _err(capsys)
    assert "row 3, column 'alpha': must be finite" in err


def test_unknown_profile_lists_valid_names(capsys):
    assert main(["profile", "show", "bogus"]) == 2
    assert "valid names: 'synthetic'" in _err(capsys)


def test_missing_records_file(tmp_path, capsys):
    assert main(["profile", "fit", str(tmp_path / "none.csv"), "-o", str(tmp_path / "o")]) == 2
    assert "records file not found" in _err(capsys)


def test_measure_command_loads_saved_models(tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_models import tiny_llama

    from mecopt.datasets import babi_vocabulary, generate_babi, write_qa_jsonl
    from mecopt.measure import word_tokenizer

    tok = word_tokenizer(babi_vocabulary())
    for role, hidden in (("local", 16), ("edge", 24)):
        tiny_llama(tok, hidden, seed=hidden).save_pretrained(tmp_path / role)
        tok.save_pretrained(tmp_path / role)
    data = write_qa_jsonl(generate_babi(8, seed=5), tmp_path / "qa.jsonl")
    out = tmp_path / "measured.json"
    code = main(
        [
            "profile",
            "measure",
            "--local",
            str(tmp_path / "local"),
            "--edge",
            str(tmp_path / "edge"),
            "--data",
            str(data),
            "-o",
            str(out),
            "--max-new-tokens",
            "2",
            "--no-progress",
        ]
    )
    assert code == 0
    meta = json.loads(out.read_text())
    assert meta["statistics"]["n"] == 8
    assert meta["provenance"]["models"]["local"]["name"] == str(tmp_path / "local")
    assert "measured" in capsys.readouterr().out


def test_measure_missing_model_folder(tmp_path, capsys):
    pytest.importorskip("transformers")
    from mecopt.datasets import generate_babi, write_qa_jsonl

    data = write_qa_jsonl(generate_babi(2, seed=5), tmp_path / "qa.jsonl")
    code = main(
        [
            "profile",
            "measure",
            "--local",
            str(tmp_path / "no"),
            "--edge",
            str(tmp_path / "no"),
            "--data",
            str(data),
            "-o",
            str(tmp_path / "o.json"),
        ]
    )
    assert code == 2
    assert "model folder not found" in _err(capsys)
