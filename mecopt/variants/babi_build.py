"""Build the measured ``babi-tiny`` catalogue from a trained bAbI-tiny edge model.

Used by ``mecopt variants build`` and ``benchmarks/variants/build_babi_tiny.py``. Data: the
training questions of the edge model (``generate_babi(n_train, seed)``), held-out test
questions (seed + 1, questions seen in training removed) and a harder split for
generalisation (seed + 2, stories of 7-10 sentences instead of 2-6, same people).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from mecopt.datasets import generate_babi
from mecopt.measure import load_model, uses_chat
from mecopt.measure._deps import import_torch
from mecopt.profiles.provenance import hardware_info, software_versions
from mecopt.variants.build import ABLATION_PLAN, build_variants
from mecopt.variants.catalogue_io import write_measured_catalogue
from mecopt.variants.distill import TrainSettings
from mecopt.variants.measure import CPU_POWER_W

__all__ = ["HARD_SPLIT", "build_babi_catalogue"]

#: Generator settings of the harder (generalisation) split.
HARD_SPLIT = {"min_sentences": 7, "max_sentences": 10, "n_people": 4}


def build_babi_catalogue(
    teacher: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    name: str = "babi-tiny",
    seed: int = 0,
    threads: int = 1,
    n_train: int = 20000,
    n_test: int = 1000,
    n_hard: int = 500,
    recovery_steps: int = 600,
    scratch_steps: int = 2600,
    group_size: int = 24,
    plan: Any = ABLATION_PLAN,
    progress: bool = True,
    extra_out: str | os.PathLike[str] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Build, measure and write the catalogue; return its rows and provenance.

    Parameters
    ----------
    teacher
        The edge model to compress: a folder (``save_pretrained`` with its tokenizer), a
        ``.gguf`` file or a shipped model name (see :func:`mecopt.measure.load_model`). A
        tokenizer with a chat template is trained and measured through it.
    out
        Folder for ``<name>.json``, ``.csv``, ``.md``.
    extra_out
        Optional second folder (e.g. the shipped catalogues) for the JSON and CSV.
    """
    torch = import_torch()
    torch.set_num_threads(threads)
    load_start = os.getloadavg()
    train = generate_babi(n_train, seed=seed, id_prefix="train")
    seen = {(r.context, r.question) for r in train}

    def held_out(records):
        return [r for r in records if (r.context, r.question) not in seen]

    test = held_out(generate_babi(n_test, seed=seed + 1, id_prefix="test"))
    hard = held_out(generate_babi(n_hard, seed=seed + 2, id_prefix="hard", **HARD_SPLIT))
    model = load_model(teacher)
    cfg = model[0].config
    chat = uses_chat(model[1], "auto")  # an instruct model answers through its chat template
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mecopt-variants-") as work:
        rows = build_variants(
            model,
            work,
            train,
            test,
            hard,
            plan=plan,
            recovery=TrainSettings(steps=recovery_steps, lr=1.5e-3, seed=seed),
            scratch=TrainSettings(steps=scratch_steps, lr=1.5e-3, seed=seed + 10),
            group_size=group_size,
            progress=progress,
            chat=chat,
            measure_settings={"chat": chat, "max_new_tokens": 8 if chat else 5},
        )
    provenance = {
        "description": "real compressed variants of the bAbI-tiny edge model (Llama "
        f"architecture, {cfg.num_hidden_layers} layers, width {cfg.hidden_size}), measured on "
        "held-out bAbI-style questions",
        "teacher": str(teacher),
        "chat_template": chat,
        "seed": seed,
        "architecture": {
            "name": f"{name}-base",
            "tied": bool(getattr(cfg, "tie_word_embeddings", False)),
            "source": str(teacher),
            "layers": cfg.num_hidden_layers,
            "hidden": cfg.hidden_size,
            "heads": cfg.num_attention_heads,
            "kv_heads": cfg.num_key_value_heads,
            "head_dim": getattr(cfg, "head_dim", None)
            or cfg.hidden_size // cfg.num_attention_heads,
            "intermediate": cfg.intermediate_size,
            "vocab": cfg.vocab_size,
        },
        "threads": threads,
        "data": {
            "train": {"n": len(train), "seed": seed},
            "test": {"n": len(test), "seed": seed + 1, "held_out": True},
            "hard": {"n": len(hard), "seed": seed + 2, **HARD_SPLIT, "held_out": True},
        },
        "recovery_steps": recovery_steps,
        "scratch_steps": scratch_steps,
        "group_size": group_size,
        "cpu_power_w": CPU_POWER_W,
        "energy": "energy_j = cpu_power_w x median latency (modelled power, measured time)",
        "hallucination": "answer names a person, place or object absent from story and question",
        "latency": "median wall-clock seconds per query, greedy decoding, <= 5 new tokens, "
        f"{threads} torch thread(s), weights dequantised to float32 at load",
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.perf_counter() - start, 1),
        "hardware": hardware_info(),
        "software": software_versions("torch", "transformers", "safetensors"),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    write_measured_catalogue(name, rows, provenance, Path(out))
    if extra_out is not None:
        write_measured_catalogue(name, rows, provenance, Path(extra_out), markdown=False)
    return rows, provenance
