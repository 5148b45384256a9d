"""Knowledge distillation (and plain training) of small Llama models on QA examples.

The loss is on the answer and end-of-sequence tokens only. With a teacher, it is
``kd_weight * T^2 KL(softmax(teacher / T) || softmax(student / T)) + (1 - kd_weight) * CE``,
the logit distillation of the pruned-and-distilled compression recipes (arXiv 2407.14679);
without one it is the task cross-entropy alone (training from scratch or fine-tuning).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mecopt.datasets.qa import QARecord, format_prompt
from mecopt.measure._deps import import_torch
from mecopt.measure.harness import build_prompt

__all__ = ["TrainSettings", "encode_examples", "pad_batch", "train_student"]


@dataclass(frozen=True)
class TrainSettings:
    """Optimiser settings of :func:`train_student` (AdamW, linear warm-up then decay).

    ``kd_positions`` says where the teacher's logits are distilled: ``"answer"`` (the answer
    and end-of-sequence tokens, where the task loss is) or ``"all"`` (every next-token
    position of prompt and answer, the whole-sequence logit distillation of Minitron,
    arXiv 2407.14679: far more signal per step for a pretrained model).
    """

    steps: int
    lr: float = 1.5e-3
    batch: int = 64
    temperature: float = 2.0
    kd_weight: float = 0.5
    seed: int = 0
    kd_positions: str = "answer"

    def __post_init__(self) -> None:
        if self.kd_positions not in ("answer", "all"):
            raise ValueError(f"kd_positions = {self.kd_positions!r}: must be 'answer' or 'all'")


def encode_examples(
    records: Sequence[QARecord], tokenizer: Any, *, chat: bool = False
) -> list[tuple[list[int], int]]:
    """Token ids of prompt + answer + end-of-sequence, and where the answer starts.

    With ``chat``, the prompt is the tokenizer's chat template around the question (as
    :func:`mecopt.measure.build_prompt` builds it for measuring) and the answer is the bare
    word the assistant should reply with.
    """
    out = []
    for rec in records:
        if chat:
            text = build_prompt(rec, tokenizer, chat=True)
            prompt = tokenizer(text, add_special_tokens=False)["input_ids"]
            answer = tokenizer(rec.answer, add_special_tokens=False)["input_ids"]
        else:
            prompt = tokenizer(format_prompt(rec))["input_ids"]
            answer = tokenizer(" " + rec.answer)["input_ids"]
        out.append((prompt + answer + [tokenizer.eos_token_id], len(prompt)))
    return out


def pad_batch(examples: Sequence[tuple[list[int], int]], pad_id: int) -> tuple[Any, Any, Any]:
    """Right-padded ``input_ids``, ``attention_mask`` and ``labels`` (-100 off the answer)."""
    torch = import_torch()
    width = max(len(ids) for ids, _ in examples)
    ids = np.full((len(examples), width), pad_id, dtype=np.int64)
    labels = np.full((len(examples), width), -100, dtype=np.int64)
    mask = np.zeros((len(examples), width), dtype=np.int64)
    for i, (seq, start) in enumerate(examples):
        ids[i, : len(seq)] = seq
        mask[i, : len(seq)] = 1
        labels[i, start : len(seq)] = seq[start:]
    return torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(labels)


def train_student(
    student: Any,
    examples: Sequence[tuple[list[int], int]],
    settings: TrainSettings,
    *,
    pad_id: int,
    teacher: Any | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train ``student`` in place (distilling from ``teacher`` if given); return a summary.

    Parameters
    ----------
    student
        A causal LM to train (left in evaluation mode afterwards).
    examples
        Encoded examples (:func:`encode_examples`).
    settings
        Steps, learning rate, batch size, temperature, KD weight and seed.
    pad_id
        Padding token id.
    teacher
        Optional frozen teacher; its logits are distilled.
    progress
        Show a progress bar.

    Returns
    -------
    dict
        Steps, seconds, final loss and the settings, for provenance.
    """
    torch = import_torch()
    from tqdm.auto import tqdm

    if settings.steps < 1:
        raise ValueError(f"steps = {settings.steps}: must be >= 1")
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    opt = torch.optim.AdamW(student.parameters(), lr=settings.lr, weight_decay=0.01)
    warm = max(1, settings.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.05, 1.0 - s / settings.steps)
    )
    if teacher is not None:
        teacher.eval()
    student.train()
    t_sq = settings.temperature**2
    losses = []
    start = time.perf_counter()
    for _ in tqdm(range(settings.steps), disable=not progress, desc="training", leave=False):
        idx = rng.integers(0, len(examples), size=settings.batch)
        ids, mask, labels = pad_batch([examples[i] for i in idx], pad_id)
        out = student(input_ids=ids, attention_mask=mask, labels=labels)
        loss = out.loss
        if teacher is not None:
            with torch.no_grad():
                t_logits = teacher(input_ids=ids, attention_mask=mask).logits
            # logits at position p predict token p + 1: align with the shifted labels
            if settings.kd_positions == "all":
                sel = mask[:, 1:].bool()
            else:
                sel = labels[:, 1:] != -100
            s_log = out.logits[:, :-1][sel] / settings.temperature
            t_log = t_logits[:, :-1][sel] / settings.temperature
            kl = torch.nn.functional.kl_div(
                torch.log_softmax(s_log, -1),
                torch.log_softmax(t_log, -1),
                log_target=True,
                reduction="batchmean",
            )
            loss = settings.kd_weight * t_sq * kl + (1.0 - settings.kd_weight) * loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.item()))
    student.eval()
    return {
        "steps": settings.steps,
        "batch_size": settings.batch,
        "learning_rate": settings.lr,
        "distilled": teacher is not None,
        "temperature": settings.temperature if teacher is not None else None,
        "kd_weight": settings.kd_weight if teacher is not None else None,
        "kd_positions": settings.kd_positions if teacher is not None else None,
        "seed": settings.seed,
        "seconds": round(time.perf_counter() - start, 1),
        "final_loss": round(float(np.mean(losses[-100:])), 4),
    }
