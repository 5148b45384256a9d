"""Answering questions with a causal language model: answer text, alpha, correctness, latency."""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from typing import Any, Literal

import numpy as np

from mecopt.datasets.babi import ANSWER_INSTRUCTIONS, ANSWER_WORDS
from mecopt.datasets.qa import QARecord, format_prompt
from mecopt.measure._deps import import_torch
from mecopt.measure.answers import is_correct, parse_answer
from mecopt.uncertainty import canonical_from_tokenizer, margin_uncertainty

__all__ = ["Answer", "answer_queries", "build_prompt", "is_correct", "uses_chat"]

#: Instruction appended to the prompt when a chat template is used (tasks of
#: :data:`mecopt.datasets.ANSWER_INSTRUCTIONS` get theirs, which name the kind of answer).
CHAT_INSTRUCTION = "Answer with one word."


@dataclass(frozen=True)
class Answer:
    """One model's answer to one question.

    Attributes
    ----------
    id
        The question's id.
    text
        The generated answer (special tokens removed).
    alpha
        Margin uncertainty of the answer (aggregated over its tokens).
    correct
        Whether the answer is right (:func:`mecopt.measure.answers.is_correct`).
    latency_s
        Wall-clock generation time, seconds (in a batch: the batch's time divided by its
        questions).
    output_tokens
        Number of generated answer tokens (before an end-of-sequence token).
    prompt_bytes
        UTF-8 size of the prompt, bytes.
    parsed
        The answer word read from the text (bAbI-style tasks; "" if none was found or the
        task has no known answer words).
    """

    id: str
    text: str
    alpha: float
    correct: bool
    latency_s: float
    output_tokens: int
    prompt_bytes: int
    parsed: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the answer as a JSON-able dictionary."""
        return asdict(self)


def build_prompt(record: QARecord, tokenizer: Any, *, chat: bool = False) -> str:
    """Return the prompt text for ``record``: :func:`format_prompt`, or a chat-templated one.

    Parameters
    ----------
    record
        The question.
    tokenizer
        The model's tokenizer (its chat template is used when ``chat`` is true).
    chat
        Wrap the prompt and :data:`CHAT_INSTRUCTION` in the tokenizer's chat template.

    Returns
    -------
    str
        The prompt.
    """
    prompt = format_prompt(record)
    if not chat:
        return prompt
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("chat=True but the tokenizer has no chat template")
    instruction = ANSWER_INSTRUCTIONS.get(record.task, CHAT_INSTRUCTION)
    message = f"{record.context}\n{record.question}\n{instruction}"
    return tokenizer.apply_chat_template(
        [{"role": "user", "content": message}], add_generation_prompt=True, tokenize=False
    )


def _stop_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), tokenizer):
        eos = getattr(source, "eos_token_id", None) if source is not None else None
        if isinstance(eos, int):
            ids.add(eos)
        elif isinstance(eos, list | tuple):
            ids.update(int(e) for e in eos)
    pad = getattr(tokenizer, "pad_token_id", None)
    if pad is not None:
        ids.add(int(pad))
    return ids


_CANONICAL: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _canonical(tokenizer: Any) -> Any:
    """:func:`canonical_from_tokenizer`, computed once per tokenizer object (49k decodes for a
    real vocabulary) while its vocabulary size stays the same."""
    try:
        hit = _CANONICAL.get(tokenizer)
    except TypeError:  # not weak-referenceable
        return canonical_from_tokenizer(tokenizer)[0]
    if hit is None or hit.shape[0] != len(tokenizer):
        hit = canonical_from_tokenizer(tokenizer)[0]
        _CANONICAL[tokenizer] = hit
    return hit


def uses_chat(tokenizer: Any, chat: bool | Literal["auto"]) -> bool:
    """Resolve ``chat="auto"``: use the chat template when the tokenizer has one."""
    if chat == "auto":
        return bool(getattr(tokenizer, "chat_template", None))
    return bool(chat)


def _answer_token(tokenizer: Any, tokens: Sequence[int], start: int) -> int:
    """Index of the generated token in which the character offset ``start`` of the text lies."""
    if start <= 0:
        return 0
    lead = len(tokenizer.decode(tokens, skip_special_tokens=True)) - len(
        tokenizer.decode(tokens, skip_special_tokens=True).lstrip()
    )
    for i in range(len(tokens)):
        if len(tokenizer.decode(tokens[: i + 1], skip_special_tokens=True)) - lead > start:
            return i
    return 0


def _batches(records: Iterable[QARecord], size: int) -> Iterator[list[QARecord]]:
    it = iter(records)
    while batch := list(islice(it, size)):
        yield batch


def answer_queries(
    model: Any,
    tokenizer: Any,
    records: Iterable[QARecord],
    *,
    max_new_tokens: int = 5,
    k: int = 10,
    aggregate: Literal["first", "mean", "max"] = "first",
    alpha_at: Literal["answer", "start"] = "answer",
    chat: bool | Literal["auto"] = False,
    batch_size: int = 1,
    warmup: bool = True,
) -> Iterator[Answer]:
    """Answer each question greedily and measure its uncertainty, correctness and latency.

    One ``generate`` call per batch (greedy, at most ``max_new_tokens`` new tokens) returns the
    answers and the raw logits of every generated position. alpha is the published
    margin-based metric (:func:`mecopt.uncertainty.margin_uncertainty`, tokens merged by their
    stripped, lower-cased decoded strings), taken from the answer's tokens: with
    ``alpha_at="answer"`` they start at the token holding the parsed answer word (an instruct
    model's "Mary moved to the office." is scored at "office", not at the copied "Mary"; the
    first token when no answer word is found), with ``"start"`` at the first generated token.

    Parameters
    ----------
    model
        A Hugging Face causal LM (in evaluation mode on the CPU or another device).
    tokenizer
        Its tokenizer.
    records
        The questions.
    max_new_tokens
        Generation limit (the published setting is 5; an instruct model's sentence needs ~10).
    k
        Candidates kept by the margin metric.
    aggregate
        Aggregation of alpha over the answer's tokens: "first", "mean" or "max".
    alpha_at
        Where the answer's tokens start: at the parsed answer word or at the first token.
    chat
        Use the tokenizer's chat template (see :func:`build_prompt`); "auto" uses it when the
        tokenizer has one.
    batch_size
        Questions per ``generate`` call (left-padded). Throughput rises with it; each
        question's latency is then its batch's time divided by the batch's questions.
    warmup
        Run one untimed generation first, so one-off start-up costs do not enter the latencies.

    Yields
    ------
    Answer
        One per question, in order.

    Raises
    ------
    ValueError
        If ``batch_size`` or ``alpha_at`` is invalid.
    MissingDependencyError
        If torch is not installed.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size = {batch_size!r}: must be a positive integer")
    if alpha_at not in ("answer", "start"):
        raise ValueError(f"alpha_at = {alpha_at!r}: must be 'answer' or 'start'")
    torch = import_torch()
    chat = uses_chat(tokenizer, chat)
    canonical = _canonical(tokenizer)
    stop = _stop_ids(model, tokenizer)
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(stop or {0})
    model.eval()

    def generate(prompts: list[str]) -> tuple[int, Any, float]:
        # A chat template already holds the special tokens; do not add a second BOS.
        side = tokenizer.padding_side
        tokenizer.padding_side = "left"
        try:
            enc = tokenizer(
                prompts, return_tensors="pt", add_special_tokens=not chat, padding=True
            ).to(device)
        finally:
            tokenizer.padding_side = side
        start = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                output_logits=True,
                return_dict_in_generate=True,
                pad_token_id=pad_id,
            )
        elapsed = time.perf_counter() - start
        return enc["input_ids"].shape[1], out, elapsed

    first = True
    for batch in _batches(records, batch_size):
        prompts = [build_prompt(rec, tokenizer, chat=chat) for rec in batch]
        if first and warmup:
            generate(prompts[:1])
        first = False
        n_in, out, elapsed = generate(prompts)
        all_logits = torch.stack(list(out.logits)).float().cpu().numpy()  # (steps, batch, vocab)
        vocab = all_logits.shape[-1]
        canon = canonical
        if canon.shape[0] < vocab:  # embedding rows beyond the tokenizer: never an answer
            canon = np.concatenate([canon, np.full(vocab - canon.shape[0], -1, np.int64)])
        canon = canon[:vocab]
        for j, (rec, prompt) in enumerate(zip(batch, prompts, strict=True)):
            new = out.sequences[j, n_in:].tolist()
            n_ans = next((i for i, t in enumerate(new) if t in stop), len(new))
            text = tokenizer.decode(new[:n_ans], skip_special_tokens=True).strip()
            parsed = parse_answer(text, rec.task) if rec.task in ANSWER_WORDS else None
            at = 0
            if alpha_at == "answer" and parsed is not None and parsed.word is not None:
                at = _answer_token(tokenizer, new[:n_ans], parsed.start)
            mask = np.zeros(all_logits.shape[0], dtype=bool)
            mask[at : max(n_ans, at + 1)] = True  # an immediate end-of-sequence: first position
            alpha = margin_uncertainty(
                all_logits[:, j],
                k=k,
                canonical=canon,
                aggregate=aggregate,
                mask=mask,
                kind="logits",
            )
            yield Answer(
                id=rec.id,
                text=text,
                alpha=float(alpha),
                correct=is_correct(text, rec.answer, rec.task),
                latency_s=elapsed / len(batch),
                output_tokens=n_ans,
                prompt_bytes=len(prompt.encode("utf-8")),
                parsed=(parsed.word or "") if parsed is not None else "",
            )
