"""Reading the answer out of a model's text: one word, also inside an instruct model's sentence.

An instruct model asked "Where is Mary? Answer with one word." often replies with a sentence
("Mary moved to the office.", 'The answer is "office".'). For the generated bAbI-style tasks the
possible answers are known (:data:`mecopt.datasets.ANSWER_WORDS`: places, yes/no, counts), so
the parsed answer is the **first word of the output that can answer the question's task**
(digits and "zero"/"nothing" read as count words). Naming a person, or no answer word at all,
parses to ``None`` and counts as wrong. For other tasks (a QA file of your own) the rule is the
whole-word match of :func:`whole_word_match`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from mecopt.datasets.babi import ANSWER_WORDS, NUMBER_WORDS

__all__ = ["ParsedAnswer", "is_correct", "parse_answer", "whole_word_match"]

_WORD = re.compile(r"[a-z0-9]+")
#: Other spellings of the count words.
_COUNT_ALIASES = {
    **{str(i): w for i, w in enumerate(NUMBER_WORDS)},
    "zero": "none",
    "nothing": "none",
}


class ParsedAnswer(NamedTuple):
    """The answer word read from a model's text, and where it starts."""

    #: The parsed answer (lower case), or ``None`` if the text holds no answer word.
    word: str | None
    #: Character offset of the answer word in the text (0 when there is none).
    start: int


def whole_word_match(generated: str, answer: str) -> bool:
    """Does ``generated`` contain ``answer`` as a separate word (or contiguous run of words)?

    Both are lower-cased and split into alphanumeric words.
    """
    out = _WORD.findall(generated.lower())
    ans = _WORD.findall(answer.lower())
    if not ans:
        return False
    n = len(ans)
    return any(out[i : i + n] == ans for i in range(len(out) - n + 1))


def parse_answer(text: str, task: str) -> ParsedAnswer:
    """The first word of ``text`` that can answer a question of ``task``.

    Parameters
    ----------
    text
        The model's output.
    task
        A task of :data:`mecopt.datasets.ANSWER_WORDS`.

    Returns
    -------
    ParsedAnswer
        The answer word (count words normalised: "2" -> "two") and where it starts.

    Raises
    ------
    ValueError
        If ``task`` has no known answer words.

    Examples
    --------
    >>> parse_answer("Mary moved to the office.", "single-fact").word
    'office'
    >>> parse_answer("No, John is not in the hall.", "yes-no").word
    'no'
    >>> parse_answer("Sandra is carrying 2 objects.", "counting").word
    'two'
    >>> parse_answer("Sandra", "single-fact").word is None
    True
    """
    if task not in ANSWER_WORDS:
        raise ValueError(
            f"task = {task!r}: no known answer words; known tasks: {', '.join(ANSWER_WORDS)}"
        )
    words = set(ANSWER_WORDS[task])
    counting = task == "counting"
    lower = text.lower()
    for m in _WORD.finditer(lower):
        w = m.group(0)
        if counting:
            w = _COUNT_ALIASES.get(w, w)
        if w in words:
            return ParsedAnswer(w, m.start())
    return ParsedAnswer(None, 0)


def is_correct(generated: str, answer: str, task: str | None = None) -> bool:
    """Is ``generated`` a right answer?

    With a ``task`` of known answer words (the bAbI-style tasks), the parsed answer
    (:func:`parse_answer`) must equal ``answer``; otherwise ``answer`` must occur as a whole
    word (:func:`whole_word_match`).

    Parameters
    ----------
    generated
        The model's output text.
    answer
        The known answer.
    task
        The question's task, or ``None``.

    Returns
    -------
    bool
        Whether the answer is right.
    """
    if task is not None and task in ANSWER_WORDS:
        return parse_answer(generated, task).word == answer.lower()
    return whole_word_match(generated, answer)
