"""Answer quality of a model on bAbI-style questions: accuracy, hallucination, AUROC.

**Hallucination** (defined here, for the generated bAbI-style tasks): an answer hallucinates
when it names an entity of the story world (a person, place or object of
:mod:`mecopt.datasets.babi`) that occurs neither in the story nor in the question. A wrong
answer that names a place the story mentions is an error, not a hallucination; the rate is
the share of all questions with a hallucinated answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from mecopt.datasets.babi import OBJECTS, PEOPLE, PLACES
from mecopt.datasets.qa import QARecord

__all__ = ["ENTITIES", "hallucinated"]

#: Entity words of the story world (lower case).
ENTITIES = frozenset(w.lower() for w in (*PEOPLE, *PLACES, *OBJECTS))
_WORD = re.compile(r"[a-z0-9]+")


def hallucinated(answer: str, record: QARecord) -> bool:
    """Does ``answer`` name an entity absent from ``record``'s story and question?"""
    seen = set(_WORD.findall((record.context + " " + record.question).lower()))
    return any(w in ENTITIES and w not in seen for w in _WORD.findall(answer.lower()))


def hallucination_rate(answers: Sequence[str], records: Sequence[QARecord]) -> float:
    """Share of ``answers`` that hallucinate (see :func:`hallucinated`)."""
    if len(answers) != len(records):
        raise ValueError(f"{len(answers)} answers for {len(records)} questions")
    if not records:
        raise ValueError("no questions")
    return float(np.mean([hallucinated(a, r) for a, r in zip(answers, records, strict=True)]))
