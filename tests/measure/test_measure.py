"""Tests of the measurement harness, end to end on tiny randomly initialised models."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from conftest import ROOT

from mecopt.datasets import ANSWER_INSTRUCTIONS, babi_vocabulary, format_prompt, generate_babi
from mecopt.errors import MissingDependencyError
from mecopt.measure import is_correct
from mecopt.measure._deps import import_torch, import_transformers


@pytest.mark.parametrize(
    ("generated", "answer", "expected"),
    [
        ("kitchen", "kitchen", True),
        ("The Kitchen.", "kitchen", True),
        ("kitchens", "kitchen", False),
        ("no, yes", "yes", True),
        ("new york city", "New York", True),
        ("york new", "new york", False),
        ("", "kitchen", False),
    ],
)
def test_whole_word_match(generated, answer, expected):
    assert is_correct(generated, answer) is expected


@pytest.mark.parametrize("module", ["torch", "transformers"])
def test_missing_extra_names_it(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes "import module" fail
    importer = import_torch if module == "torch" else import_transformers
    with pytest.raises(MissingDependencyError, match=r"pip install 'mecopt\[measure\]'"):
        importer()


# ---- end to end (needs the measure extra; CI installs it) ---------------------------------


@pytest.fixture(scope="module")
def tiny():
    """A word-level tokenizer and two tiny random Llama models (device smaller than edge)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_models import tiny_llama

    from mecopt.measure import word_tokenizer

    tok = word_tokenizer(babi_vocabulary())
    return tok, tiny_llama(tok, 16, 0), tiny_llama(tok, 32, 1)


@pytest.fixture(scope="module")
def questions():
    return generate_babi(20, seed=11)


def test_alpha_is_the_margin_of_the_first_answer_position(tiny, questions):
    torch = pytest.importorskip("torch")
    from mecopt.measure import answer_queries
    from mecopt.uncertainty import canonical_from_tokenizer, margin_uncertainty

    tok, device, _ = tiny
    answers = list(
        answer_queries(device, tok, questions[:3], max_new_tokens=2, alpha_at="start")
    )
    canon, _ = canonical_from_tokenizer(tok)
    for rec, ans in zip(questions[:3], answers, strict=True):
        ids = tok(format_prompt(rec), return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            logits = device(input_ids=ids).logits[0, -1]
        expected = margin_uncertainty(logits, canonical=canon[: logits.shape[-1]])
        assert ans.alpha == pytest.approx(expected, abs=1e-5)
        assert ans.correct == is_correct(ans.text, rec.answer, rec.task)
        assert ans.prompt_bytes == len(format_prompt(rec).encode())


def test_measure_end_to_end_and_resume(tiny, questions, tmp_path):
    from mecopt.measure import measure_profile
    from mecopt.profiles import read_profile

    tok, device, edge = tiny
    out = tmp_path / "tiny.json"
    prof = measure_profile(
        (device, tok), (edge, tok), questions, out, progress=False, max_new_tokens=3
    )
    r = prof.records
    assert len(prof) == 20 and r.id == tuple(q.id for q in questions)
    assert np.all((r.alpha >= 0) & (r.alpha <= 1))
    assert np.all(r.local_latency_s > 0) and np.all(r.edge_latency_s > 0)
    assert np.all((r.output_tokens >= 0) & (r.output_tokens <= 3))
    assert not prof.synthetic
    assert (
        prof.provenance.models["local"]["parameters"] < prof.provenance.models["edge"]["parameters"]
    )
    assert prof.provenance.software["torch"] != "not installed"

    # Correctness recorded in the partial file agrees with the answer parser.
    lines = (tmp_path / "tiny.local.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["role"] == "local"
    for q, line in zip(questions, lines[1:], strict=True):
        ans = json.loads(line)
        assert ans["correct"] == is_correct(ans["text"], q.answer, q.task)

    # The written profile reads back identically.
    back = read_profile(out)
    np.testing.assert_array_equal(back.records.alpha, r.alpha)

    # Resume: drop the last 5 edge answers (and tear the last line); only those are re-run.
    edge_file = tmp_path / "tiny.edge.jsonl"
    kept = edge_file.read_text().splitlines()[:-5]
    edge_file.write_text("\n".join(kept) + "\n" + '{"id": "torn')
    again = measure_profile(
        (device, tok), (edge, tok), questions, out, progress=False, max_new_tokens=3
    )
    np.testing.assert_array_equal(again.records.local_latency_s, r.local_latency_s)
    np.testing.assert_array_equal(again.records.edge_latency_s[:15], r.edge_latency_s[:15])
    np.testing.assert_array_equal(again.records.edge_correct, r.edge_correct)  # deterministic
    assert len(edge_file.read_text().splitlines()) == 21

    # Other settings must not silently reuse the partial answers.
    with pytest.raises(ValueError, match="different measurement"):
        measure_profile(
            (device, tok), (edge, tok), questions, out, progress=False, max_new_tokens=4
        )


def test_load_model_missing_folder(tmp_path):
    pytest.importorskip("transformers")
    from mecopt.measure import load_model

    with pytest.raises(FileNotFoundError, match="model folder not found"):
        load_model(tmp_path / "nope")


@pytest.mark.slow
def test_babi_tiny_script_smoke(tmp_path, monkeypatch):
    """The committed measurement script runs end to end (a few training steps only)."""
    pytest.importorskip("transformers")
    import importlib.util

    script = ROOT / "benchmarks" / "uncertainty" / "train_babi_tiny.py"
    spec = importlib.util.spec_from_file_location("train_babi_tiny", script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    assert module.main(["--seed", "0", "--quick", "--threads", "1", "--out", str(tmp_path)]) == 0
    for suffix in (".json", ".csv", "-stats.json", "-stats.md", "-reliability.png"):
        assert (tmp_path / f"babi-tiny{suffix}").is_file()
    stats = json.loads((tmp_path / "babi-tiny-stats.json").read_text())
    assert stats["statistics"]["n"] > 0 and set(stats["training"]) == {"local", "edge"}


def test_build_prompt_plain_and_chat(tiny, questions):
    from mecopt.measure import build_prompt

    tok = tiny[0]
    rec = questions[0]
    assert build_prompt(rec, tok) == format_prompt(rec)
    with pytest.raises(ValueError, match="no chat template"):
        build_prompt(rec, tok, chat=True)
    tok.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}\nAnswer:"
    try:
        prompt = build_prompt(rec, tok, chat=True)
    finally:
        tok.chat_template = None
    assert prompt.startswith(rec.context) and rec.question in prompt
    assert ANSWER_INSTRUCTIONS[rec.task] in prompt and prompt.endswith("Answer:")
