"""A procedural generator of bAbI-style question answering tasks.

Short stories of people moving between places and picking up, dropping and carrying objects,
each followed by a question with a known one-word answer. Four task types:

- ``"single-fact"``: "Where is Mary?" -- one supporting fact (the person's last move).
- ``"two-facts"``: "Where is the apple?" -- two supporting facts (who holds it, where they are).
- ``"yes-no"``: "Is Mary in the garden?" -- "yes" or "no".
- ``"counting"``: "How many objects is Mary carrying?" -- "none", "one", "two", ...

Generation is deterministic given the seed (a ``numpy.random.Generator`` drives every choice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mecopt.datasets.qa import QARecord

__all__ = ["ANSWER_INSTRUCTIONS", "ANSWER_WORDS", "BABI_TASKS", "babi_vocabulary", "generate_babi"]

#: The task types, in the order questions cycle through them.
BABI_TASKS = ("single-fact", "two-facts", "yes-no", "counting")

PEOPLE = ("Mary", "John", "Sandra", "Daniel", "Bill", "Fred", "Julie", "Jeff")
PLACES = ("kitchen", "garden", "office", "hallway", "bedroom", "bathroom", "cinema", "park")
OBJECTS = ("apple", "football", "milk", "book", "key", "box")
MOVE_VERBS = ("went to", "moved to", "journeyed to", "travelled to")
GRAB_VERBS = ("picked up", "grabbed", "got", "took")
DROP_VERBS = ("dropped", "put down", "discarded", "left")
NUMBER_WORDS = ("none", "one", "two", "three", "four", "five", "six")
#: The words that can answer each task (lower case): an answer parser looks for these.
ANSWER_WORDS: dict[str, tuple[str, ...]] = {
    "single-fact": PLACES,
    "two-facts": PLACES,
    "yes-no": ("yes", "no"),
    "counting": NUMBER_WORDS,
}
#: The instruction an instruct model gets per task: the one-word answer and its kind.
ANSWER_INSTRUCTIONS: dict[str, str] = {
    "single-fact": "Answer with one word: the place.",
    "two-facts": "Answer with one word: the place.",
    "yes-no": "Answer with one word: yes or no.",
    "counting": "Answer with one word: how many.",
}
_FIXED_WORDS = (
    "the", "where", "is", "in", "how", "many", "objects", "carrying", "yes", "no",
    "question", "answer", ".", "?", ":",
)  # fmt: skip


def babi_vocabulary() -> list[str]:
    """Every word (lower-case) and punctuation mark the generator and the prompt format use.

    Returns
    -------
    list of str
        Sorted unique words, suitable for a word-level tokenizer.
    """
    words: set[str] = set(_FIXED_WORDS)
    for group in (PEOPLE, PLACES, OBJECTS, MOVE_VERBS, GRAB_VERBS, DROP_VERBS, NUMBER_WORDS):
        for phrase in group:
            words.update(phrase.lower().split())
    return sorted(words)


@dataclass
class _World:
    """The state a story describes: where people are and who holds which object."""

    location: dict[str, str] = field(default_factory=dict)
    holder: dict[str, str] = field(default_factory=dict)  # object -> person
    dropped_at: dict[str, str] = field(default_factory=dict)  # object -> place

    def carrying(self, person: str) -> list[str]:
        return [o for o, p in self.holder.items() if p == person]

    def object_place(self, obj: str) -> str | None:
        if obj in self.holder:
            return self.location.get(self.holder[obj])
        return self.dropped_at.get(obj)


def _pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    return items[int(rng.integers(len(items)))]


def _story(
    rng: np.random.Generator,
    n_sentences: int,
    people: Sequence[str],
    with_objects: bool,
) -> tuple[list[str], _World]:
    """Simulate ``n_sentences`` events and return their sentences and the final world."""
    world = _World()
    sentences: list[str] = []
    while len(sentences) < n_sentences:
        person = _pick(rng, people)
        held = world.carrying(person)
        free = [o for o in OBJECTS if o not in world.holder]
        placed = person in world.location
        action = "move"
        if with_objects and placed:
            u = rng.random()
            if u < 0.35 and free:
                action = "grab"
            elif u < 0.55 and held:
                action = "drop"
        if action == "move":
            place = _pick(rng, [p for p in PLACES if p != world.location.get(person)])
            world.location[person] = place
            sentences.append(f"{person} {_pick(rng, MOVE_VERBS)} the {place}.")
        elif action == "grab":
            obj = _pick(rng, free)
            world.holder[obj] = person
            world.dropped_at.pop(obj, None)
            sentences.append(f"{person} {_pick(rng, GRAB_VERBS)} the {obj}.")
        else:
            obj = _pick(rng, held)
            del world.holder[obj]
            world.dropped_at[obj] = world.location[person]
            sentences.append(f"{person} {_pick(rng, DROP_VERBS)} the {obj}.")
    return sentences, world


def _question(
    rng: np.random.Generator,
    task: str,
    min_sentences: int,
    max_sentences: int,
    people: Sequence[str],
) -> tuple[str, str, str]:
    """Draw stories until one supports a question of ``task``; return context, question, answer."""
    while True:
        n = int(rng.integers(min_sentences, max_sentences + 1))
        sentences, world = _story(rng, n, people, with_objects=task in ("two-facts", "counting"))
        context = " ".join(sentences)
        if task in ("single-fact", "yes-no"):
            known = sorted(world.location)
            if not known:
                continue
            person = _pick(rng, known)
            place = world.location[person]
            if task == "single-fact":
                return context, f"Where is {person}?", place
            if rng.random() < 0.5:
                return context, f"Is {person} in the {place}?", "yes"
            other = _pick(rng, [p for p in PLACES if p != place])
            return context, f"Is {person} in the {other}?", "no"
        if task == "two-facts":
            located = sorted(o for o in OBJECTS if world.object_place(o) is not None)
            if not located:
                continue
            obj = _pick(rng, located)
            return context, f"Where is the {obj}?", str(world.object_place(obj))
        if task == "counting":
            mentioned = sorted(world.location)
            if not mentioned:
                continue
            carriers = [p for p in mentioned if world.carrying(p)]
            # Ask about someone carrying objects more often than chance, so "none" is not
            # the answer to almost every counting question.
            pool = carriers if carriers and rng.random() < 0.65 else mentioned
            person = _pick(rng, pool)
            count = len(world.carrying(person))
            return context, f"How many objects is {person} carrying?", NUMBER_WORDS[count]
        raise ValueError(f"unknown task {task!r}; valid tasks: {', '.join(BABI_TASKS)}")


def generate_babi(
    n: int,
    *,
    seed: int,
    tasks: Sequence[str] | None = None,
    min_sentences: int = 2,
    max_sentences: int = 6,
    n_people: int = 4,
    id_prefix: str = "babi",
) -> list[QARecord]:
    """Generate ``n`` bAbI-style questions, cycling through ``tasks``.

    Parameters
    ----------
    n
        Number of questions.
    seed
        Seed of the generator's own ``numpy.random.Generator``; equal seeds give equal output.
    tasks
        Task types to cycle through (default: all of :data:`BABI_TASKS`).
    min_sentences, max_sentences
        Range of story lengths, in sentences (inclusive).
    n_people
        How many of the people may appear in the stories (2 to 8); more people make stories
        harder.
    id_prefix
        Prefix of the record ids (``"<prefix>-<seed>-<index>"``).

    Returns
    -------
    list of QARecord
        The questions.

    Raises
    ------
    ValueError
        If ``n`` is negative, a task is unknown, or a length or people count is out of range.
    """
    tasks = tuple(BABI_TASKS if tasks is None else tasks)
    unknown = [t for t in tasks if t not in BABI_TASKS]
    if unknown or not tasks:
        raise ValueError(f"unknown task(s) {unknown}; valid tasks: {', '.join(BABI_TASKS)}")
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if not 1 <= min_sentences <= max_sentences:
        raise ValueError(
            f"need 1 <= min_sentences <= max_sentences, got {min_sentences}, {max_sentences}"
        )
    if not 2 <= n_people <= len(PEOPLE):
        raise ValueError(f"n_people must be in [2, {len(PEOPLE)}], got {n_people}")
    rng = np.random.default_rng(seed)
    people = PEOPLE[:n_people]
    out = []
    for i in range(n):
        task = tasks[i % len(tasks)]
        context, question, answer = _question(rng, task, min_sentences, max_sentences, people)
        out.append(QARecord(f"{id_prefix}-{seed}-{i:06d}", task, context, question, answer))
    return out
