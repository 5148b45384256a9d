"""Answering questions with a causal language model: answer text, alpha, correctness, latency."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from mecopt.datasets.qa import QARecord, format_prompt
from mecopt.measure._deps import import_torch
from mecopt.uncertainty import canonical_from_tokenizer, margin_uncertainty

__all__ = ["Answer", "answer_queries", "build_prompt", "is_correct"]

_WORD = re.compile(r"[a-z0-9]+")

#: Instruction appended to the prompt when a chat template is used.
CHAT_INSTRUCTION = "Answer with one word."


def is_correct(generated: str, answer: str) -> bool:
    """Whole-word match: does the generated text contain the answer as a separate word?

    Both are lower-cased and split into alphanumeric words; a multi-word answer must appear as
    a contiguous run of words.

    Parameters
    ----------
    generated
        The model's output text.
    answer
        The known answer.

    Returns
    -------
    bool
        ``True`` if the answer's words occur in order, as whole words, in the output.
    """
    out = _WORD.findall(generated.lower())
    ans = _WORD.findall(answer.lower())
    if not ans:
        return False
    n = len(ans)
    return any(out[i : i + n] == ans for i in range(len(out) - n + 1))


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
        Whole-word match with the known answer.
    latency_s
        Wall-clock generation time, seconds.
    output_tokens
        Number of generated answer tokens (before an end-of-sequence token).
    prompt_bytes
        UTF-8 size of the prompt, bytes.
    """

    id: str
    text: str
    alpha: float
    correct: bool
    latency_s: float
    output_tokens: int
    prompt_bytes: int

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
    message = f"{record.context}\n{record.question}\n{CHAT_INSTRUCTION}"
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


def answer_queries(
    model: Any,
    tokenizer: Any,
    records: Iterable[QARecord],
    *,
    max_new_tokens: int = 5,
    k: int = 10,
    aggregate: Literal["first", "mean", "max"] = "first",
    chat: bool = False,
    warmup: bool = True,
) -> Iterator[Answer]:
    """Answer each question greedily and measure its uncertainty, correctness and latency.

    One ``generate`` call per question (greedy, at most ``max_new_tokens`` new tokens) returns
    the answer and the raw logits of every generated position; alpha is the published
    margin-based metric (:func:`mecopt.uncertainty.margin_uncertainty`, tokens merged by their
    stripped, lower-cased decoded strings) aggregated over the answer's tokens.

    Parameters
    ----------
    model
        A Hugging Face causal LM (in evaluation mode on the CPU or another device).
    tokenizer
        Its tokenizer.
    records
        The questions.
    max_new_tokens
        Generation limit (the published setting is 5).
    k
        Candidates kept by the margin metric.
    aggregate
        Aggregation of alpha over the answer's tokens: "first", "mean" or "max".
    chat
        Use the tokenizer's chat template (see :func:`build_prompt`).
    warmup
        Run one untimed generation first, so one-off start-up costs do not enter the latencies.

    Yields
    ------
    Answer
        One per question, in order.

    Raises
    ------
    MissingDependencyError
        If torch is not installed.
    """
    torch = import_torch()
    canonical, _ = canonical_from_tokenizer(tokenizer)
    stop = _stop_ids(model, tokenizer)
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(stop or {0})
    model.eval()

    def generate(prompt: str) -> tuple[Any, Any, float]:
        # A chat template already holds the special tokens; do not add a second BOS.
        enc = tokenizer(prompt, return_tensors="pt", add_special_tokens=not chat).to(device)
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
    for rec in records:
        prompt = build_prompt(rec, tokenizer, chat=chat)
        if first and warmup:
            generate(prompt)
        first = False
        n_in, out, elapsed = generate(prompt)
        new = out.sequences[0, n_in:].tolist()
        n_ans = next((i for i, t in enumerate(new) if t in stop), len(new))
        logits = torch.stack([step[0] for step in out.logits]).float().cpu().numpy()
        vocab = logits.shape[-1]
        canon = canonical
        if canon.shape[0] < vocab:  # embedding rows beyond the tokenizer: never an answer
            canon = np.concatenate([canon, np.full(vocab - canon.shape[0], -1, np.int64)])
        canon = canon[:vocab]
        mask = np.zeros(logits.shape[0], dtype=bool)
        mask[: max(n_ans, 1)] = True  # an immediate end-of-sequence: use the first position
        alpha = margin_uncertainty(
            logits, k=k, canonical=canon, aggregate=aggregate, mask=mask, kind="logits"
        )
        text = tokenizer.decode(new[:n_ans], skip_special_tokens=True).strip()
        yield Answer(
            id=rec.id,
            text=text,
            alpha=float(alpha),
            correct=is_correct(text, rec.answer),
            latency_s=elapsed,
            output_tokens=n_ans,
            prompt_bytes=len(prompt.encode("utf-8")),
        )
