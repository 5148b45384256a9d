"""The real compression pipeline on tiny models: packing, pruning, saving, distillation, build."""

from __future__ import annotations

import numpy as np
import pytest

from mecopt.datasets import babi_vocabulary, generate_babi
from mecopt.variants.packing import pack_matrix, packed_bytes, unpack_matrix
from mecopt.variants.quality import hallucinated, hallucination_rate


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_packing_round_trip_within_half_a_step(bits: int) -> None:
    rng = np.random.default_rng(bits)
    w = rng.normal(size=(6, 48)).astype(np.float32)
    pm = pack_matrix(w, bits, 16)
    assert pm.codes.nbytes == -(-w.size * bits // 8)  # bits per weight, no padding
    assert pm.nbytes == packed_bytes(w.size, bits, 16)
    back = unpack_matrix(pm)
    step = pm.scale.astype(np.float32).repeat(16, axis=1)
    assert np.all(np.abs(back - w) <= 0.5 * step + 2e-3 * np.abs(w).max())


def test_packing_constant_group_is_exact() -> None:
    w = np.full((2, 8), 0.25, dtype=np.float32)
    assert np.array_equal(unpack_matrix(pack_matrix(w, 3, 4)), w)


@pytest.mark.parametrize(
    ("bits", "group", "match"), [(5, 8, "bits"), (4, 7, "does not divide"), (4, 0, "group_size")]
)
def test_packing_rejects_bad_settings(bits: int, group: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pack_matrix(np.zeros((2, 16)), bits, group)


def test_hallucination_means_an_absent_entity() -> None:
    rec = generate_babi(1, seed=3, tasks=["single-fact"])[0]
    present = next(w for w in rec.context.lower().replace(".", " ").split()
                   if w in ("kitchen", "garden", "office", "hallway", "bedroom", "bathroom"))
    absent = next(p for p in ("cinema", "park", "kitchen", "garden")
                  if p not in (rec.context + rec.question).lower())
    assert not hallucinated(present, rec)
    assert hallucinated(absent, rec)
    assert not hallucinated("yes", rec)  # not an entity
    assert hallucination_rate([present, absent], [rec, rec]) == 0.5


# ---------------------------------------------------------------- torch parts
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny():
    from tiny_models import tiny_llama

    from mecopt.measure import word_tokenizer

    torch.set_num_threads(1)
    tok = word_tokenizer(babi_vocabulary())
    return tiny_llama(tok, 24, seed=0), tok


def _batch(tok, n=8):
    from mecopt.variants.distill import encode_examples, pad_batch

    return pad_batch(encode_examples(generate_babi(n, seed=5), tok), tok.pad_token_id)


def test_pruning_nothing_keeps_the_function(tiny) -> None:
    from mecopt.variants.prune import prune_llama

    model, tok = tiny
    ids, mask, _ = _batch(tok)
    same = prune_llama(model, 0.0, ids, mask)
    with torch.no_grad():
        a = model(input_ids=ids, attention_mask=mask).logits
        b = same(input_ids=ids, attention_mask=mask).logits
    assert torch.allclose(a, b, atol=1e-5)


def test_pruning_gives_a_smaller_model_that_saves_and_loads(tiny, tmp_path) -> None:
    from mecopt.variants.prune import prune_llama
    from mecopt.variants.storage_io import load_variant, save_variant

    model, tok = tiny
    ids, mask, _ = _batch(tok)
    small = prune_llama(model, 0.5, ids, mask)
    assert small.config.num_attention_heads == 1
    assert small.config.intermediate_size == model.config.intermediate_size // 2
    n_small = sum(p.numel() for p in small.parameters())
    assert n_small < sum(p.numel() for p in model.parameters())
    sizes = {b: save_variant(small, tok, tmp_path / f"b{b}", bits=b, group_size=12)
             for b in (32, 16, 8, 4, 3, 2)}
    assert sizes[32] > sizes[16] > sizes[8] > sizes[4] > sizes[3] > sizes[2]
    loaded, _ = load_variant(tmp_path / "b16")
    assert sum(p.numel() for p in loaded.parameters()) == n_small
    with torch.no_grad():
        a = small(input_ids=ids, attention_mask=mask).logits
        b = loaded(input_ids=ids, attention_mask=mask).logits
    assert torch.allclose(a, b, atol=5e-2)  # float16 storage


def test_group_size_must_divide_rows(tiny, tmp_path) -> None:
    from mecopt.variants.storage_io import save_variant

    model, tok = tiny
    with pytest.raises(ValueError, match="does not divide.*tensor"):
        save_variant(model, tok, tmp_path / "bad", bits=4, group_size=7)


def test_distillation_lowers_the_kl_to_the_teacher(tiny) -> None:
    import transformers

    from mecopt.variants.distill import TrainSettings, encode_examples, train_student
    from mecopt.variants.prune import prune_llama

    model, tok = tiny
    ids, mask, labels = _batch(tok)
    shape = prune_llama(model, 0.5, ids, mask).config
    torch.manual_seed(1)
    student = transformers.LlamaForCausalLM(shape).eval()
    answer = labels[:, 1:] != -100  # the distilled positions

    def kl() -> float:
        with torch.no_grad():
            t = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits[:, :-1], -1)
            s = torch.log_softmax(student(input_ids=ids, attention_mask=mask).logits[:, :-1], -1)
        return float((t.exp() * (t - s)).sum(-1)[answer].mean())

    before = kl()
    ex = encode_examples(generate_babi(8, seed=5), tok)
    summary = train_student(student, ex, TrainSettings(steps=40, lr=1e-2, batch=8, kd_weight=1.0),
                            pad_id=tok.pad_token_id, teacher=model)
    assert summary["distilled"] and summary["steps"] == 40
    assert kl() < 0.5 * before


def test_build_smoke(tiny, tmp_path) -> None:
    from mecopt.variants.build import VariantPlan, build_variants
    from mecopt.variants.distill import TrainSettings

    model, tok = tiny
    plan = (
        VariantPlan("q4", "teacher", 0.0, 4, "quantisation only"),
        VariantPlan("p50", "pruned", 0.5, 16, "pruning only"),
        VariantPlan("ecld", "distilled", 0.5, 3, "pruning + distillation + quantisation"),
        VariantPlan("scratch", "scratch", 0.5, 16, "same size, trained from scratch"),
    )
    rows = build_variants(
        (model, tok), tmp_path, generate_babi(32, seed=0), generate_babi(4, seed=1),
        generate_babi(2, seed=2, max_sentences=8), plan=plan,
        recovery=TrainSettings(steps=2, batch=4), scratch=TrainSettings(steps=2, batch=4),
        group_size=12, calibration=8, log=lambda s: None,
    )
    assert [r["name"] for r in rows] == ["q4", "p50", "ecld", "scratch"]
    by = {r["name"]: r for r in rows}
    assert by["ecld"]["storage_bytes"] < by["p50"]["storage_bytes"]
    assert by["p50"]["parameters"] == by["scratch"]["parameters"] < by["q4"]["parameters"]
    for r in rows:
        assert 0 <= r["accuracy"] <= 1 and 0 <= r["hallucination"] <= 1
        assert r["latency_s"] > 0 and r["energy_j"] > 0 and r["n_test"] == 4
    assert not any(tmp_path.iterdir())  # saved models removed


def test_plan_validation() -> None:
    from mecopt.variants.build import VariantPlan

    with pytest.raises(ValueError, match="bits"):
        VariantPlan("x", "pruned", 0.5, 5, "r")
    with pytest.raises(ValueError, match="prune"):
        VariantPlan("x", "pruned", 1.0, 4, "r")
    with pytest.raises(ValueError, match="origin"):
        VariantPlan("x", "magic", 0.5, 4, "r")
