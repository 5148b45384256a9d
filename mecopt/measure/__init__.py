"""Measuring models: answers, margin uncertainty, correctness and latency per question.

Needs the optional extra ``measure`` (torch and transformers), imported lazily: without it,
the functions raise :class:`mecopt.errors.MissingDependencyError` naming
``pip install 'mecopt[measure]'``.
"""

from mecopt.measure.harness import Answer, answer_queries, build_prompt, is_correct
from mecopt.measure.run import describe_model, load_model, measure_profile
from mecopt.measure.tokenizer import SPECIAL_TOKENS, word_tokenizer

__all__ = [
    "SPECIAL_TOKENS",
    "Answer",
    "answer_queries",
    "build_prompt",
    "describe_model",
    "is_correct",
    "load_model",
    "measure_profile",
    "word_tokenizer",
]
