"""Tests of the answer parser: one-word answers inside an instruct model's sentences."""

from __future__ import annotations

import pytest

from mecopt.datasets import ANSWER_WORDS, BABI_TASKS
from mecopt.measure import is_correct, parse_answer


@pytest.mark.parametrize(
    ("text", "task", "word"),
    [
        ("Mary moved to the office.", "single-fact", "office"),
        ("office", "single-fact", "office"),
        ('The answer is "The bedroom".', "single-fact", "bedroom"),
        ("The apple is in the kitchen, not the garden.", "two-facts", "kitchen"),
        ("Sandra", "single-fact", None),  # a person is no place
        ("No, John is not in the hallway.", "yes-no", "no"),
        ("Yes.", "yes-no", "yes"),
        ("Mary is carrying 2 objects.", "counting", "two"),
        ("She is carrying nothing.", "counting", "none"),
        ("", "counting", None),
        ("The officer left.", "single-fact", None),  # whole words only
    ],
)
def test_parse_answer(text, task, word):
    assert parse_answer(text, task).word == word


def test_parse_answer_offset_points_at_the_word():
    text = "Mary moved to the office."
    parsed = parse_answer(text, "single-fact")
    assert text[parsed.start : parsed.start + len("office")] == "office"


def test_every_task_has_answer_words():
    assert set(ANSWER_WORDS) == set(BABI_TASKS)


def test_is_correct_uses_the_first_answer_word_for_known_tasks():
    # Whole-word matching would accept "kitchen" here; the parser reads "garden".
    assert not is_correct("Mary went to the garden from the kitchen.", "kitchen", "single-fact")
    assert is_correct("Mary went to the garden from the kitchen.", "garden", "single-fact")
    # Unknown task: whole-word match.
    assert is_correct("It is in Paris.", "Paris", "capitals")
    assert is_correct("no, yes", "yes")


def test_parse_answer_unknown_task():
    with pytest.raises(ValueError, match="task = 'capitals'"):
        parse_answer("Paris", "capitals")
