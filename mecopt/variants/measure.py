"""Measuring one real compressed model with the project's measurement harness.

Each model answers the held-out questions and a harder split through
:func:`mecopt.measure.answer_queries` (greedy decoding, margin uncertainty, whole-word
correctness, wall-clock latency). Reported: accuracy, hallucination rate
(:mod:`mecopt.variants.quality`), accuracy on the harder split (generalisation), AUROC of the
margin uncertainty for an error, median CPU latency per query and energy per query
``= CPU_POWER_W x latency`` (a modelled power, see :data:`CPU_POWER_W`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mecopt.datasets.qa import QARecord
from mecopt.measure.harness import answer_queries
from mecopt.profiles.statistics import auroc
from mecopt.variants.quality import hallucination_rate

__all__ = ["CPU_POWER_W", "loaded_bytes", "measure_model"]

#: Power drawn by one busy CPU core, W (modelled): the per-core share of a 64-core,
#: 280 W-TDP server processor (AMD EPYC 7763 data sheet: 64 cores, 280 W default TDP),
#: 280 / 64 = 4.4 W. The measurements run on one thread of an AMD EPYC virtual machine.
CPU_POWER_W = 280.0 / 64.0


def loaded_bytes(model: Any) -> int:
    """Bytes of the model's parameters and buffers as loaded (measured on the tensors)."""
    tensors = {id(t): t for t in (*model.parameters(), *model.buffers())}  # tied weights once
    return int(sum(t.numel() * t.element_size() for t in tensors.values()))


def measure_model(
    model: Any,
    tokenizer: Any,
    test: Sequence[QARecord],
    hard: Sequence[QARecord],
    *,
    max_new_tokens: int = 5,
    chat: bool = False,
    batch_size: int = 1,
    latency_n: int | None = None,
) -> dict[str, float]:
    """Measure ``model`` on ``test`` and on the harder split ``hard``.

    Parameters
    ----------
    model, tokenizer
        The model to measure.
    test, hard
        Held-out questions and the harder split.
    max_new_tokens, chat, batch_size
        Settings of :func:`mecopt.measure.answer_queries`.
    latency_n
        If given, the latency is the median over the first ``latency_n`` test questions
        answered one at a time (batch size 1) in a separate run; otherwise the median of the
        accuracy run's per-question latencies.

    Returns
    -------
    dict
        ``accuracy``, ``hallucination``, ``generalisation`` (accuracy on ``hard``),
        ``hallucination_hard``, ``auroc`` (margin alpha for an error; NaN if all answers are
        right or all wrong), ``latency_s`` (median per query), ``energy_j``, ``memory_bytes``
        (parameters and buffers as loaded), ``n_test``, ``n_hard``.
    """
    opts = {"max_new_tokens": max_new_tokens, "chat": chat}
    res = list(answer_queries(model, tokenizer, test, batch_size=batch_size, **opts))
    res_h = list(answer_queries(model, tokenizer, hard, batch_size=batch_size, **opts))
    if latency_n is not None:
        timed = list(answer_queries(model, tokenizer, test[:latency_n], **opts))
    else:
        timed = res
    correct = np.array([a.correct for a in res])
    alpha = np.array([a.alpha for a in res])
    lat = float(np.median([a.latency_s for a in timed]))
    return {
        "accuracy": float(correct.mean()),
        "hallucination": hallucination_rate([a.text for a in res], test),
        "generalisation": float(np.mean([a.correct for a in res_h])),
        "hallucination_hard": hallucination_rate([a.text for a in res_h], hard),
        "auroc": auroc(alpha, ~correct),
        "latency_s": lat,
        "energy_j": CPU_POWER_W * lat,
        "memory_bytes": loaded_bytes(model),
        "n_test": len(res),
        "n_hard": len(res_h),
    }
