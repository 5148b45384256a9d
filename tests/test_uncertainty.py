"""Tests of the margin-based uncertainty metric."""

from __future__ import annotations

import numpy as np
import pytest

from mecopt.uncertainty import (
    canonical_classes,
    canonical_from_tokenizer,
    margin_uncertainty,
    normalise_token,
)


def test_one_hot_is_certain():
    assert margin_uncertainty(np.array([0.0, 1.0, 0.0, 0.0])) == 0.0


def test_tie_at_top_is_maximally_uncertain():
    assert margin_uncertainty(np.array([0.4, 0.1, 0.4, 0.1])) == pytest.approx(1.0)


def test_value_renormalised_over_top_k():
    p = np.array([0.5, 0.2, 0.1, 0.1, 0.1])
    # top-2 mass 0.7: alpha = 1 - (0.5 - 0.2) / 0.7
    assert margin_uncertainty(p, k=2) == pytest.approx(1 - 0.3 / 0.7)
    assert margin_uncertainty(p, k=10) == pytest.approx(1 - 0.3)


def test_logits_equal_their_softmax():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 40))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    a = margin_uncertainty(logits, aggregate="none", kind="logits")
    b = margin_uncertainty(probs, aggregate="none", kind="probs")
    np.testing.assert_allclose(a, b)
    assert margin_uncertainty(logits, aggregate="none").shape == (6,)


def test_large_logits_are_stable():
    assert margin_uncertainty(np.array([1000.0, 0.0, -1000.0])) == pytest.approx(0.0)


@pytest.mark.parametrize("k", [3, 4, 100])
def test_k_at_or_above_vocabulary_uses_whole_vocabulary(k):
    p = np.array([0.6, 0.3, 0.1])
    assert margin_uncertainty(p, k=k) == pytest.approx(0.7)


def test_single_token_vocabulary():
    assert margin_uncertainty(np.array([1.0])) == 0.0
    assert margin_uncertainty(np.array([5.0]), kind="logits") == 0.0


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_logits_raise(bad):
    with pytest.raises(ValueError, match="finite"):
        margin_uncertainty(np.array([1.0, bad, 0.5]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"k": 0}, "k must"), ({"aggregate": "median"}, "aggregate"), ({"kind": "odds"}, "kind")],
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        margin_uncertainty(np.array([2.0, 1.0, 0.0]), **kwargs)


def test_empty_vocabulary_raises():
    with pytest.raises(ValueError, match="non-empty"):
        margin_uncertainty(np.zeros((3, 0)))


def test_normalise_token():
    assert normalise_token("  Paris\n") == "paris"
    assert normalise_token(" \t") == ""


def test_canonical_classes_merge_and_drop():
    canon, names = canonical_classes(["Paris", " paris", "London", " ", "PARIS "])
    np.testing.assert_array_equal(canon, [0, 0, 1, -1, 0])
    assert names == ["paris", "london"]


def test_merging_sums_variants_of_one_answer():
    canon, _ = canonical_classes(["Paris", " paris", "London", " ", "Rome"])
    p = np.array([0.3, 0.3, 0.35, 0.05, 0.0])
    # Without merging "London" leads narrowly; merged, "paris" (0.6) leads "london" (0.35)
    # and the empty token is dropped before renormalising over 0.95.
    assert margin_uncertainty(p) == pytest.approx(1 - (0.35 - 0.3))
    assert margin_uncertainty(p, canonical=canon) == pytest.approx(1 - 0.25 / 0.95)


def test_merging_only_considers_top_3k_tokens():
    # k = 1: only the top 3 tokens are merged; the low-probability "a" variants outside them
    # cannot lift class "a" above class "b".
    tokens = ["b", "B", "c", "a", "A", " a", "a ", "A "]
    canon, _ = canonical_classes(tokens)
    p = np.array([0.3, 0.2, 0.1, 0.09, 0.08, 0.08, 0.08, 0.07])
    # Top 3: b, B, c -> classes {b: 0.5, c: 0.1}; top-1 kept -> alpha = 0.
    assert margin_uncertainty(p, k=1, canonical=canon) == pytest.approx(0.0)
    # k = 3 looks at all 8 tokens: a = 0.4, b = 0.5, c = 0.1.
    assert margin_uncertainty(p, k=3, canonical=canon) == pytest.approx(1 - 0.1 / 1.0)


def test_identity_canonical_matches_no_merging():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(5, 2, 30))
    plain = margin_uncertainty(logits, aggregate="none")
    merged = margin_uncertainty(logits, aggregate="none", canonical=np.arange(30))
    np.testing.assert_allclose(plain, merged)


def test_all_top_tokens_empty_gives_one():
    canon = np.array([-1, -1, 0])
    assert margin_uncertainty(np.array([0.6, 0.4, 0.0]), k=1, canonical=canon) == 1.0


def test_bad_canonical_shape_raises():
    with pytest.raises(ValueError, match="canonical"):
        margin_uncertainty(np.array([0.5, 0.5]), canonical=np.array([0, 1, 2]))


def test_aggregation_over_answer_tokens():
    steps = np.array([[0.9, 0.1, 0.0], [0.5, 0.5, 0.0], [0.7, 0.3, 0.0]])  # alpha .2, 1, .6
    assert margin_uncertainty(steps) == pytest.approx(0.2)
    assert margin_uncertainty(steps, aggregate="first") == pytest.approx(0.2)
    assert margin_uncertainty(steps, aggregate="mean") == pytest.approx(0.6)
    assert margin_uncertainty(steps, aggregate="max") == pytest.approx(1.0)
    np.testing.assert_allclose(margin_uncertainty(steps, aggregate="none"), [0.2, 1.0, 0.6])


def test_aggregation_with_mask_over_a_batch():
    steps = np.array([[0.9, 0.1, 0.0], [0.5, 0.5, 0.0], [0.7, 0.3, 0.0]])
    batch = np.stack([steps, steps[::-1]])  # (2 queries, 3 tokens, vocab 3)
    mask = np.array([[True, False, False], [False, True, True]])
    np.testing.assert_allclose(margin_uncertainty(batch, aggregate="first", mask=mask), [0.2, 1.0])
    np.testing.assert_allclose(margin_uncertainty(batch, aggregate="mean", mask=mask), [0.2, 0.6])
    np.testing.assert_allclose(margin_uncertainty(batch, aggregate="max", mask=mask), [0.2, 1.0])


def test_mask_errors():
    steps = np.full((2, 3, 4), 0.25)
    with pytest.raises(ValueError, match="mask must have shape"):
        margin_uncertainty(steps, mask=np.ones((2, 2), dtype=bool))
    with pytest.raises(ValueError, match="no answer token"):
        margin_uncertainty(steps, mask=np.array([[1, 0, 0], [0, 0, 0]], dtype=bool))


def test_accepts_torch_tensors():
    torch = pytest.importorskip("torch")
    x = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.bfloat16)
    got = margin_uncertainty(x, aggregate="none")
    np.testing.assert_allclose(got, margin_uncertainty(x.float().numpy(), aggregate="none"))
    assert got[1] == pytest.approx(1.0)


class _Tok:
    """A minimal tokenizer stand-in: ``decode`` of single ids."""

    pieces = ["<s>", " Yes", "yes", "No", " no ", "</s>"]

    def __len__(self):
        return len(self.pieces)

    def decode(self, ids, skip_special_tokens=False):
        piece = self.pieces[ids[0]]
        if skip_special_tokens and piece.startswith("<"):
            return ""
        return piece


def test_canonical_from_tokenizer():
    canon, names = canonical_from_tokenizer(_Tok())
    np.testing.assert_array_equal(canon, [-1, 0, 0, 1, 1, -1])
    assert names == ["yes", "no"]
