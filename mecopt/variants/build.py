"""The real compression pipeline: prune, distill, quantise and measure a trained edge model.

:func:`build_variants` takes a trained Llama-architecture model (the teacher) and a plan of
variants (:class:`VariantPlan`), produces each one for real (sliced pruning, distillation,
packed group-wise quantisation), saves it with :func:`mecopt.variants.storage_io.save_variant`
(storage = the weights file), loads it back and measures it
(:func:`mecopt.variants.measure.measure_model`). The ablations of the compact-model recipe
(arXiv 2602.13628) are plans: quantisation only, pruning only, pruning + distillation, all
three, and a model of the pruned size trained from scratch.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mecopt.datasets.qa import QARecord
from mecopt.measure._deps import import_torch, import_transformers
from mecopt.measure.harness import answer_queries
from mecopt.measure.sources import load_model
from mecopt.variants.distill import TrainSettings, encode_examples, pad_batch, train_student
from mecopt.variants.gguf_io import quantised_copy, write_gguf
from mecopt.variants.measure import measure_model
from mecopt.variants.packing import SUPPORTED_BITS
from mecopt.variants.prune import prune_llama
from mecopt.variants.storage_io import load_variant, save_variant

__all__ = ["ABLATION_PLAN", "GGUF_BITS", "VariantPlan", "build_variants"]

#: GGUF weight format per storage width.
GGUF_BITS = {32: "F32", 16: "F16", 8: "Q8_0", 4: "Q4_0"}

_ORIGINS = ("teacher", "pruned", "finetuned", "distilled", "scratch")


@dataclass(frozen=True)
class VariantPlan:
    """One variant to build.

    Attributes
    ----------
    name
        Variant name.
    origin
        ``"teacher"`` (the trained model), ``"pruned"`` (sliced, no retraining),
        ``"finetuned"`` (pruned, then trained on the task loss), ``"distilled"`` (pruned, then
        distilled from the teacher) or ``"scratch"`` (the pruned architecture trained from a
        random initialisation).
    prune
        Share of heads and MLP channels removed (0 for the teacher).
    bits
        Storage width: 32 or 16 (float), or 2, 3, 4, 8 (packed).
    recipe
        Label of the ablation row (e.g. ``"quantisation only"``).
    container
        ``"safetensors"`` (packed group-wise codes, :mod:`mecopt.variants.storage_io`) or
        ``"gguf"`` (llama.cpp's Q8_0/Q4_0/F16/F32 blocks, :mod:`mecopt.variants.gguf_io`,
        loaded back by transformers' GGUF loader).
    """

    name: str
    origin: str
    prune: float
    bits: int
    recipe: str
    container: str = "safetensors"

    def __post_init__(self) -> None:
        if self.origin not in _ORIGINS:
            raise ValueError(f"origin = {self.origin!r}: must be one of {', '.join(_ORIGINS)}")
        if not 0.0 <= self.prune < 1.0:
            raise ValueError(f"prune = {self.prune!r}: the pruning ratio must be in [0, 1)")
        if (self.origin == "teacher") != (self.prune == 0.0):
            raise ValueError(f"{self.name}: only the teacher has prune = 0")
        if self.bits not in (16, 32, *SUPPORTED_BITS):
            raise ValueError(f"bits = {self.bits!r}: must be 32, 16 or one of {SUPPORTED_BITS}")
        if self.container not in ("safetensors", "gguf"):
            raise ValueError(f"container = {self.container!r}: must be 'safetensors' or 'gguf'")
        if self.container == "gguf" and self.bits not in GGUF_BITS:
            raise ValueError(f"bits = {self.bits!r}: GGUF variants take {sorted(GGUF_BITS)}")


def _plan(name: str, origin: str, prune: float, bits: int, recipe: str) -> VariantPlan:
    return VariantPlan(name, origin, prune, bits, recipe)


#: The ablation study: reference, quantisation only, pruning only, pruning + fine-tuning,
#: pruning + distillation, all three, and the same size trained from scratch.
ABLATION_PLAN = (
    _plan("edge-f32", "teacher", 0.0, 32, "reference (uncompressed)"),
    _plan("edge-f16", "teacher", 0.0, 16, "reference, float16 storage"),
    _plan("edge-q8", "teacher", 0.0, 8, "quantisation only"),
    _plan("edge-q4", "teacher", 0.0, 4, "quantisation only"),
    _plan("edge-q3", "teacher", 0.0, 3, "quantisation only"),
    _plan("edge-q2", "teacher", 0.0, 2, "quantisation only"),
    _plan("prune50", "pruned", 0.5, 16, "pruning only"),
    _plan("prune50-ft", "finetuned", 0.5, 16, "pruning + fine-tuning (no distillation)"),
    _plan("prune50-kd", "distilled", 0.5, 16, "pruning + distillation"),
    _plan("ecld-q4", "distilled", 0.5, 4, "pruning + distillation + quantisation"),
    _plan("ecld-q3", "distilled", 0.5, 3, "pruning + distillation + quantisation"),
    _plan("scratch50", "scratch", 0.5, 16, "same size, trained from scratch"),
    _plan("scratch50-q4", "scratch", 0.5, 4, "same size from scratch + quantisation"),
)


def build_variants(
    teacher: tuple[Any, Any],
    out_dir: str | os.PathLike[str],
    train: Sequence[QARecord],
    test: Sequence[QARecord],
    hard: Sequence[QARecord],
    *,
    plan: Sequence[VariantPlan] = ABLATION_PLAN,
    recovery: TrainSettings,
    scratch: TrainSettings,
    group_size: int = 24,
    calibration: int = 256,
    keep_models: bool = False,
    progress: bool = False,
    log: Callable[[str], None] = print,
    chat: bool = False,
    measure_settings: dict[str, Any] | None = None,
    models: dict[tuple[str, float], tuple[Any, dict[str, Any] | None]] | None = None,
    gguf_tokenizer_from: str | os.PathLike[str] | None = None,
    gguf_check: int = 8,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Build, save, reload and measure every variant of ``plan``.

    Parameters
    ----------
    teacher
        ``(model, tokenizer)`` of the trained edge model.
    out_dir
        Folder for the saved variants (one sub-folder each; removed unless ``keep_models``).
    train
        Training questions (calibration batch, fine-tuning, distillation, from-scratch).
    test, hard
        Held-out questions and the harder split.
    plan
        Variants to build.
    recovery
        Training settings after pruning (fine-tuning and distillation).
    scratch
        Training settings of the same-size model trained from scratch.
    group_size
        Quantisation group size.
    calibration
        Training questions in the pruning calibration batch.
    keep_models
        Keep the saved model folders.
    progress
        Progress bars.
    log
        Where progress lines go.
    chat
        Train on chat-templated prompts (an instruct teacher; see
        :func:`~mecopt.variants.distill.encode_examples`).
    measure_settings
        Keyword arguments of :func:`~mecopt.variants.measure.measure_model` (``chat``,
        ``max_new_tokens``, ``batch_size``, ``latency_n``).
    models
        Models already built, by ``(origin, prune)`` (e.g. a distilled model made ahead),
        each with its training summary; they are used instead of being rebuilt.
    gguf_tokenizer_from
        GGUF file whose tokenizer metadata GGUF variants copy (otherwise the tokenizer's
        files are saved beside them).
    gguf_check
        Test questions answered by a GGUF variant both in memory (weights rounded as the file
        stores them, :func:`~mecopt.variants.gguf_io.quantised_copy`) and as loaded back from
        the file; the row records how many answers match (``gguf_answers_match`` of
        ``gguf_check_n``).
    on_row
        Called with each row as soon as it is measured (e.g. to save partial results).

    Returns
    -------
    list of dict
        One row per variant: the plan, parameter count, storage bytes, the training summary
        and the measured figures.
    """
    torch = import_torch()
    transformers = import_transformers()
    model, tokenizer = teacher
    model.eval()
    examples = encode_examples(train, tokenizer, chat=chat)
    pad = tokenizer.pad_token_id
    ids, mask, _ = pad_batch(examples[:calibration], pad)
    cache: dict[tuple[str, float], tuple[Any, dict[str, Any] | None]] = {
        ("teacher", 0.0): (model, None),
        **(models or {}),
    }

    def get(origin: str, prune: float) -> tuple[Any, dict[str, Any] | None]:
        key = (origin, prune)
        if key in cache:
            return cache[key]
        if origin == "pruned":
            cache[key] = (prune_llama(model, prune, ids, mask), None)
        elif origin in ("finetuned", "distilled"):
            base, _ = get("pruned", prune)
            student = copy.deepcopy(base)
            log(f"  {origin}: training the pruned model ({recovery.steps} steps)")
            summary = train_student(
                student,
                examples,
                recovery,
                pad_id=pad,
                teacher=model if origin == "distilled" else None,
                progress=progress,
            )
            cache[key] = (student, summary)
        else:  # scratch: the pruned architecture, freshly initialised
            shape, _ = get("pruned", prune)
            torch.manual_seed(scratch.seed)
            fresh = transformers.LlamaForCausalLM(shape.config)
            log(f"  scratch: training the pruned architecture from scratch ({scratch.steps} steps)")
            summary = train_student(fresh, examples, scratch, pad_id=pad, progress=progress)
            cache[key] = (fresh, summary)
        return cache[key]

    from tqdm.auto import tqdm

    out = Path(out_dir)
    rows = []
    for p in tqdm(plan, desc="variants", disable=not progress):
        log(f"variant {p.name}: {p.recipe}")
        m, summary = get(p.origin, p.prune)
        folder = out / p.name
        check: dict[str, int] = {}
        if p.container == "gguf":
            path = folder / f"{p.name}.gguf"
            storage = write_gguf(
                m, path, weight_type=GGUF_BITS[p.bits], name=p.name,
                tokenizer_from=gguf_tokenizer_from,
                tokenizer=tokenizer if gguf_tokenizer_from is None else None,
            )  # fmt: skip
            loaded, tok = load_model(path)
            sample = list(test[:gguf_check])
            if sample:  # the file must hold the model as rounded in memory: same answers
                mem = quantised_copy(m, GGUF_BITS[p.bits])
                opts = {k: v for k, v in (measure_settings or {}).items()
                        if k in ("chat", "max_new_tokens")}  # fmt: skip
                a = [x.text for x in answer_queries(mem, tokenizer, sample, **opts)]
                b = [x.text for x in answer_queries(loaded, tok, sample, **opts)]
                same = sum(x == y for x, y in zip(a, b, strict=True))
                check = {"gguf_check_n": len(sample), "gguf_answers_match": same}
        else:
            storage = save_variant(m, tokenizer, folder, bits=p.bits, group_size=group_size)
            loaded, tok = load_variant(folder)
        figures = measure_model(loaded, tok, test, hard, **(measure_settings or {}))
        row = {
            **asdict(p),
            "parameters": int(sum(t.numel() for t in m.parameters())),
            "storage_bytes": int(storage),
            "group_size": (32 if p.container == "gguf" else group_size) if p.bits < 16 else None,
            **figures,
            "training": summary,
            **check,
        }
        rows.append(row)
        if on_row is not None:
            on_row(row)
        log(
            f"  storage {storage / 1e3:.1f} kB, accuracy {figures['accuracy']:.3f}, "
            f"hallucination {figures['hallucination']:.3f}, "
            f"generalisation {figures['generalisation']:.3f}"
        )
        if not keep_models:
            shutil.rmtree(folder)
    return rows
