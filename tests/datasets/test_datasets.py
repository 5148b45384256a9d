"""Tests of the bAbI-style generator and the QA file format."""

from __future__ import annotations

import json
import re

import pytest

from mecopt.datasets import (
    BABI_TASKS,
    QARecord,
    babi_vocabulary,
    format_prompt,
    generate_babi,
    read_qa_jsonl,
    write_qa_jsonl,
)
from mecopt.datasets.babi import NUMBER_WORDS, PLACES


def test_deterministic_by_seed():
    assert generate_babi(40, seed=7) == generate_babi(40, seed=7)
    assert generate_babi(40, seed=7) != generate_babi(40, seed=8)


def test_tasks_cycle_and_ids_unique():
    recs = generate_babi(12, seed=0)
    assert [r.task for r in recs] == list(BABI_TASKS) * 3
    assert len({r.id for r in recs}) == 12


@pytest.mark.parametrize("task", BABI_TASKS)
def test_answers_have_the_task_type(task):
    recs = generate_babi(50, seed=1, tasks=[task])
    valid = {
        "single-fact": set(PLACES),
        "two-facts": set(PLACES),
        "yes-no": {"yes", "no"},
        "counting": set(NUMBER_WORDS),
    }[task]
    assert {r.answer for r in recs} <= valid
    assert len({r.answer for r in recs}) >= 2


def _replay_location(context: str, person: str) -> str:
    """Where the story last puts ``person``."""
    place = None
    for sentence in context.split(". "):
        m = re.match(rf"{person} (?:went|moved|journeyed|travelled) to the (\w+)", sentence)
        if m:
            place = m.group(1)
    assert place is not None
    return place


def test_single_fact_answer_is_the_last_move():
    for rec in generate_babi(30, seed=3, tasks=["single-fact"]):
        person = rec.question.removeprefix("Where is ").removesuffix("?")
        assert rec.answer == _replay_location(rec.context, person)


def test_yes_no_answer_is_consistent_with_the_story():
    for rec in generate_babi(30, seed=4, tasks=["yes-no"]):
        m = re.match(r"Is (\w+) in the (\w+)\?", rec.question)
        assert m is not None
        where = _replay_location(rec.context, m.group(1))
        assert rec.answer == ("yes" if where == m.group(2) else "no")


def test_vocabulary_covers_every_prompt_word():
    vocab = set(babi_vocabulary())
    for rec in generate_babi(200, seed=5):
        words = re.findall(r"\w+|[.?:]", (format_prompt(rec) + " " + rec.answer).lower())
        assert set(words) <= vocab


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tasks": ["nope"]}, "unknown task"),
        ({"min_sentences": 5, "max_sentences": 2}, "min_sentences"),
        ({"n_people": 1}, "n_people"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_babi(3, seed=0, **kwargs)


def test_jsonl_round_trip(tmp_path):
    recs = generate_babi(9, seed=2)
    path = write_qa_jsonl(recs, tmp_path / "qa.jsonl")
    assert read_qa_jsonl(path) == recs


def test_format_prompt():
    rec = QARecord("q1", "single-fact", "Mary went to the park.", "Where is Mary?", "park")
    assert format_prompt(rec) == "Mary went to the park.\nQuestion: Where is Mary?\nAnswer:"


def _write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = {"id": "a", "task": "t", "context": "c", "question": "q", "answer": "x"}


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("{not json", "line 2: not valid JSON"),
        ("[1, 2]", "line 2: expected a JSON object"),
        (
            json.dumps({k: v for k, v in GOOD.items() if k != "answer"} | {"id": "b"}),
            "line 2: missing field 'answer'",
        ),
        (json.dumps(GOOD | {"id": "b", "answer": 3}), "line 2: field 'answer' must be"),
        (json.dumps(GOOD), "line 2: duplicate id 'a'"),
    ],
)
def test_malformed_qa_lines_name_the_line_and_field(tmp_path, line, match):
    path = _write_lines(tmp_path / "qa.jsonl", [json.dumps(GOOD), line])
    with pytest.raises(ValueError, match=match):
        read_qa_jsonl(path)


def test_missing_qa_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_qa_jsonl(tmp_path / "none.jsonl")
