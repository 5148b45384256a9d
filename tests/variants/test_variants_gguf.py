"""Tests of GGUF export: write a (pruned) Llama model, load it back with transformers' loader."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("gguf")


@pytest.fixture(scope="module")
def tiny():
    """A word-level tokenizer and a 2-layer Llama with grouped-query attention (rows of 64)."""
    import torch
    import transformers

    from mecopt.datasets import babi_vocabulary
    from mecopt.measure import word_tokenizer

    tok = word_tokenizer(babi_vocabulary())
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, tie_word_embeddings=False,
    )  # fmt: skip
    return tok, transformers.LlamaForCausalLM(cfg).eval()


def _logits(model, ids):
    import torch

    with torch.inference_mode():
        return model(input_ids=ids).logits.numpy()


@pytest.mark.parametrize(("weight_type", "tol"), [("F32", 1e-5), ("Q8_0", 0.05), ("Q4_0", 0.5)])
def test_write_and_load_back(tiny, tmp_path, weight_type, tol):
    import torch

    from mecopt.measure import load_model
    from mecopt.variants.gguf_io import write_gguf

    tok, model = tiny
    path = tmp_path / f"m-{weight_type}.gguf"
    size = write_gguf(model, path, weight_type=weight_type, tokenizer=tok)
    assert size == path.stat().st_size > 0
    back, back_tok = load_model(path)
    assert back.config.num_key_value_heads == 2 and back.config.intermediate_size == 128
    ids = torch.tensor([tok("mary went to the kitchen . where is mary ?")["input_ids"]])
    a, b = _logits(model, ids), _logits(back, ids)
    assert np.max(np.abs(a - b)) < tol
    assert back_tok("kitchen")["input_ids"] == tok("kitchen")["input_ids"]


def test_quantised_files_are_smaller(tiny, tmp_path):
    from mecopt.variants.gguf_io import write_gguf

    _, model = tiny
    sizes = {t: write_gguf(model, tmp_path / f"{t}.gguf", weight_type=t)
             for t in ("F32", "F16", "Q8_0", "Q4_0")}  # fmt: skip
    assert sizes["F32"] > sizes["F16"] > sizes["Q8_0"] > sizes["Q4_0"]
    # Q4_0: 18 bytes per 32 weights; Q8_0: 34 bytes per 32 weights (plus metadata).
    n2d = sum(p.numel() for n, p in model.named_parameters() if p.ndim == 2)
    assert sizes["Q4_0"] == pytest.approx(n2d * 18 / 32, rel=0.2)


def test_pruned_model_round_trips(tiny, tmp_path):
    import torch

    from mecopt.measure import load_model
    from mecopt.variants.gguf_io import write_gguf
    from mecopt.variants.prune import prune_llama

    tok, model = tiny
    ids = torch.tensor([tok("john went to the garden . where is john ?")["input_ids"]] * 2)
    small = prune_llama(model, 0.5, ids, torch.ones_like(ids))
    path = tmp_path / "pruned.gguf"
    write_gguf(small, path, weight_type="F32", tokenizer=tok)
    back, _ = load_model(path)
    assert back.config.num_key_value_heads == 1 and back.config.num_attention_heads == 2
    assert back.config.head_dim == 16
    np.testing.assert_allclose(_logits(small, ids), _logits(back, ids), atol=1e-5)


def test_bad_weight_type(tiny, tmp_path):
    from mecopt.variants.gguf_io import write_gguf

    with pytest.raises(ValueError, match="weight_type = 'Q3_K'"):
        write_gguf(tiny[1], tmp_path / "x.gguf", weight_type="Q3_K")


def test_build_writes_gguf_rows_with_the_file_size(tiny, tmp_path):
    from mecopt.datasets import generate_babi
    from mecopt.variants.build import VariantPlan, build_variants
    from mecopt.variants.distill import TrainSettings

    tok, model = tiny
    plan = (
        VariantPlan("q8_0", "teacher", 0.0, 8, "quantisation only", "gguf"),
        VariantPlan("ecld-q4_0", "distilled", 0.5, 4, "all three", "gguf"),
    )
    rows = build_variants(
        (model, tok), tmp_path, generate_babi(16, seed=0), generate_babi(4, seed=1),
        generate_babi(2, seed=2), plan=plan, keep_models=True,
        recovery=TrainSettings(steps=2, batch=4, kd_positions="all"),
        scratch=TrainSettings(steps=2, batch=4), calibration=8, log=lambda s: None,
        measure_settings={"max_new_tokens": 2, "batch_size": 2, "latency_n": 2},
    )  # fmt: skip
    for r in rows:
        assert r["storage_bytes"] == (tmp_path / r["name"] / f"{r['name']}.gguf").stat().st_size
        assert r["memory_bytes"] > 0 and r["container"] == "gguf" and r["n_test"] == 4
    assert rows[1]["storage_bytes"] < rows[0]["storage_bytes"]
    assert rows[1]["training"]["kd_positions"] == "all"
    for r in rows:  # answers of the file equal those of the model rounded in memory
        assert r["gguf_answers_match"] == r["gguf_check_n"] == 4


def test_gguf_plan_validation():
    from mecopt.variants.build import VariantPlan
    from mecopt.variants.distill import TrainSettings

    with pytest.raises(ValueError, match="GGUF variants take"):
        VariantPlan("x", "teacher", 0.0, 3, "r", "gguf")
    with pytest.raises(ValueError, match="container"):
        VariantPlan("x", "teacher", 0.0, 4, "r", "zip")
    with pytest.raises(ValueError, match="kd_positions"):
        TrainSettings(steps=1, kd_positions="some")


@pytest.mark.slow
def test_variants_build_accepts_a_gguf_teacher(tiny, tmp_path, capsys):
    from mecopt.cli import main
    from mecopt.variants.gguf_io import write_gguf

    tok, model = tiny
    teacher = tmp_path / "teacher" / "tiny.gguf"
    write_gguf(model, teacher, weight_type="F32", tokenizer=tok)
    out = tmp_path / "out"
    code = main(["variants", "build", "--teacher", str(teacher), "-o", str(out), "--quick",
                 "--name", "tiny", "--no-progress", "--group-size", "16"])  # fmt: skip
    assert code == 0
    import json

    doc = json.loads((out / "tiny.json").read_text())
    assert doc["provenance"]["teacher"] == str(teacher)
    assert doc["provenance"]["architecture"]["kv_heads"] == 2
    assert {r["recipe"] for r in doc["rows"]} >= {"quantisation only", "pruning only"}


@pytest.mark.parametrize("weight_type", ["Q8_0", "Q4_0"])
def test_quantised_copy_equals_the_file(tiny, tmp_path, weight_type):
    import torch

    from mecopt.measure import load_model
    from mecopt.variants.gguf_io import quantised_copy, write_gguf

    tok, model = tiny
    path = tmp_path / "m.gguf"
    write_gguf(model, path, weight_type=weight_type, tokenizer=tok)
    back, _ = load_model(path)
    mem = quantised_copy(model, weight_type)
    ids = torch.tensor([tok("sandra went to the office . where is sandra ?")["input_ids"]])
    np.testing.assert_allclose(_logits(mem, ids), _logits(back, ids), atol=1e-5)
    assert np.max(np.abs(_logits(mem, ids) - _logits(model, ids))) > 1e-4  # it did round


def test_rows_the_blocks_cannot_hold_fall_back_to_f16(tmp_path):
    import torch
    import transformers

    from mecopt.variants.gguf_io import quantised_copy, write_gguf

    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(vocab_size=40, hidden_size=64, intermediate_size=48,
                                   num_hidden_layers=1, num_attention_heads=2,
                                   num_key_value_heads=2)  # fmt: skip
    model = transformers.LlamaForCausalLM(cfg).eval()  # down_proj rows of 48: not 32-divisible
    with pytest.raises(ValueError, match="tensor model.layers.0.mlp.down_proj.weight"):
        write_gguf(model, tmp_path / "strict.gguf", weight_type="Q4_0", fallback=None)
    size = write_gguf(model, tmp_path / "q4.gguf", weight_type="Q4_0")
    assert size == (tmp_path / "q4.gguf").stat().st_size
    down = quantised_copy(model, "Q4_0").model.layers[0].mlp.down_proj.weight
    ref = model.model.layers[0].mlp.down_proj.weight.half().float()
    assert torch.equal(down, ref)
