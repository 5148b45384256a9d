"""Build and measure real compressed variants of the trained bAbI-tiny edge model.

Input: the edge model trained by ``benchmarks/uncertainty/train_babi_tiny.py`` (pass its
``--model-dir``; the edge model is ``<dir>/edge``). The ablation plan of
:data:`mecopt.variants.build.ABLATION_PLAN` is built for real (sliced pruning of half the heads
and MLP channels, distillation from the edge model, packed 8/4/3/2-bit group-wise
quantisation, the pruned size trained from scratch), every variant is saved, loaded back and
measured on the held-out questions and on a harder split. Written to ``--out``:

- ``babi-tiny.csv`` / ``babi-tiny.json``: the measured table (the JSON holds provenance);
- ``babi-tiny.md``: the table as Markdown;
- ``babi-tiny.png`` / ``.pdf``: accuracy and hallucination versus storage.

``--ship`` also writes the measured catalogue into ``mecopt/data/variants/babi-tiny.json``.

Reproduce (about 12 minutes on one core of a shared 2-core machine)::

    python benchmarks/uncertainty/train_babi_tiny.py --seed 0 --threads 1 --model-dir M --out /tmp/o
    python benchmarks/variants/build_babi_tiny.py --teacher M/edge --seed 0 --threads 1 --ship
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from mecopt.datasets import generate_babi
from mecopt.measure import load_model
from mecopt.measure._deps import import_torch
from mecopt.profiles.provenance import hardware_info, software_versions
from mecopt.variants.build import ABLATION_PLAN, build_variants
from mecopt.variants.catalogue_io import CATALOGUE_DIR, write_measured_catalogue
from mecopt.variants.distill import TrainSettings
from mecopt.variants.measure import CPU_POWER_W
from mecopt.variants.plot import save_measured_plot

NAME = "babi-tiny"
HARD = {"min_sentences": 7, "max_sentences": 10, "n_people": 4}


def held_out(records, seen):
    """Drop questions whose (story, question) occurs in the training set."""
    return [r for r in records if (r.context, r.question) not in seen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teacher", type=Path, required=True, help="trained edge model folder")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-train", type=int, default=20000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--n-hard", type=int, default=500)
    parser.add_argument("--recovery-steps", type=int, default=600)
    parser.add_argument("--scratch-steps", type=int, default=2600)
    parser.add_argument("--group-size", type=int, default=24)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--ship", action="store_true", help="write the shipped catalogue")
    args = parser.parse_args(argv)

    torch = import_torch()
    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()
    train = generate_babi(args.n_train, seed=args.seed, id_prefix="train")
    seen = {(r.context, r.question) for r in train}
    test = held_out(generate_babi(args.n_test, seed=args.seed + 1, id_prefix="test"), seen)
    hard = held_out(generate_babi(args.n_hard, seed=args.seed + 2, id_prefix="hard", **HARD), seen)
    teacher = load_model(args.teacher)
    cfg = teacher[0].config
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mecopt-variants-") as work:
        rows = build_variants(
            teacher, work, train, test, hard,
            plan=ABLATION_PLAN,
            recovery=TrainSettings(steps=args.recovery_steps, lr=1.5e-3, seed=args.seed),
            scratch=TrainSettings(steps=args.scratch_steps, lr=1.5e-3, seed=args.seed + 10),
            group_size=args.group_size,
        )
    provenance = {
        "description": "real compressed variants of the bAbI-tiny edge model (Llama "
        "architecture, 3 layers, width 96), measured on held-out bAbI-style questions",
        "script": "benchmarks/variants/build_babi_tiny.py",
        "teacher": "benchmarks/uncertainty/train_babi_tiny.py --seed 0 (edge model)",
        "seed": args.seed,
        "architecture": {
            "layers": cfg.num_hidden_layers, "hidden": cfg.hidden_size,
            "heads": cfg.num_attention_heads, "kv_heads": cfg.num_key_value_heads,
            "head_dim": cfg.hidden_size // cfg.num_attention_heads,
            "intermediate": cfg.intermediate_size, "vocab": cfg.vocab_size,
        },
        "threads": args.threads,
        "data": {
            "train": {"n": len(train), "seed": args.seed},
            "test": {"n": len(test), "seed": args.seed + 1, "held_out": True},
            "hard": {"n": len(hard), "seed": args.seed + 2, **HARD, "held_out": True},
        },
        "recovery_steps": args.recovery_steps,
        "scratch_steps": args.scratch_steps,
        "group_size": args.group_size,
        "cpu_power_w": CPU_POWER_W,
        "energy": "energy_j = cpu_power_w x median latency (modelled power, measured time)",
        "hallucination": "answer names a person, place or object absent from story and question",
        "latency": "median wall-clock seconds per query, greedy decoding, <= 5 new tokens, "
        "one torch thread, weights dequantised to float32 at load",
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.perf_counter() - start, 1),
        "hardware": hardware_info(),
        "software": software_versions("torch", "transformers", "safetensors"),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_measured_catalogue(NAME, rows, provenance, args.out)
    if args.ship:
        write_measured_catalogue(NAME, rows, provenance, CATALOGUE_DIR, markdown=False)
    save_measured_plot(rows, args.out / f"{NAME}.png")
    print(json.dumps({"seconds": provenance["seconds"], "rows": len(rows)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
