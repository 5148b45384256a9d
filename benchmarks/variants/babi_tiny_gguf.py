"""Deployable GGUF files of the bAbI-tiny variants, checked against the models in memory.

Trains the bAbI-tiny edge model exactly as ``benchmarks/uncertainty/train_babi_tiny.py`` does
(seed 0: data seed 0, edge training seed 1, 2,000 steps), builds four variants as GGUF files
(:func:`mecopt.variants.gguf_io.write_gguf`: the edge model in ``Q8_0`` and ``Q4_0``; ECLD =
half the heads and MLP channels pruned, distilled 600 steps, in ``Q8_0`` and ``Q4_0``; rows the
32-weight blocks cannot hold, the pruned 48-wide attention output, fall back to F16), loads
each back with transformers' GGUF loader and

- answers **every** held-out question with the file and with the model rounded in memory
  exactly as the file stores it (:func:`~mecopt.variants.gguf_io.quantised_copy`): the count of
  equal answers is the round-trip check;
- measures accuracy, hallucination, generalisation, AUROC and latency like the catalogue.

The ``.gguf`` files (with the word-level tokenizer beside them: GGUF cannot describe it) are
written to ``benchmarks/variants/gguf/babi-tiny/<variant>/`` and the table to
``results/babi-tiny-gguf.{md,json}``. Reproduce (a few minutes on two cores)::

    python benchmarks/variants/babi_tiny_gguf.py --seed 0

Load one: ``mecopt.measure.load_model(".../gguf/babi-tiny/ecld-q4_0/ecld-q4_0.gguf")``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _trainer():
    path = ROOT / "benchmarks" / "uncertainty" / "train_babi_tiny.py"
    spec = importlib.util.spec_from_file_location("train_babi_tiny", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "gguf" / "babi-tiny")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--quick", action="store_true", help="a few steps only (smoke test)")
    args = parser.parse_args(argv)

    import torch

    from mecopt.datasets import generate_babi
    from mecopt.measure import word_tokenizer
    from mecopt.profiles.provenance import hardware_info, software_versions
    from mecopt.variants.babi_build import HARD_SPLIT
    from mecopt.variants.build import VariantPlan, build_variants
    from mecopt.variants.distill import TrainSettings
    from mecopt.variants.measure import CPU_POWER_W

    torch.set_num_threads(args.threads)
    start, load0 = time.perf_counter(), os.getloadavg()
    tt = _trainer()
    edge_spec = tt.EDGE
    n_train, n_test, n_hard, steps = 20000, 1000, 500, 600
    if args.quick:
        edge_spec = tt.ModelSpec("edge", 32, 1, 2, steps=30, lr=2e-3, batch=16)
        n_train, n_test, n_hard, steps = 500, 40, 20, 5
    train = generate_babi(n_train, seed=args.seed, id_prefix="train")
    seen = {(r.context, r.question) for r in train}
    test = [r for r in generate_babi(n_test, seed=args.seed + 1, id_prefix="test")
            if (r.context, r.question) not in seen]  # fmt: skip
    hard = [r for r in generate_babi(n_hard, seed=args.seed + 2, id_prefix="hard", **HARD_SPLIT)
            if (r.context, r.question) not in seen]  # fmt: skip
    from mecopt.datasets import babi_vocabulary

    tok = word_tokenizer(babi_vocabulary())
    print(f"training the edge model ({edge_spec})", flush=True)
    model, training = tt.train(edge_spec, tok, tt.encode(train, tok), seed=args.seed + 1)
    plan = (
        VariantPlan("edge-q8_0", "teacher", 0.0, 8, "quantisation only (GGUF Q8_0)", "gguf"),
        VariantPlan("edge-q4_0", "teacher", 0.0, 4, "quantisation only (GGUF Q4_0)", "gguf"),
        VariantPlan("ecld-q8_0", "distilled", 0.5, 8, "all three (GGUF Q8_0)", "gguf"),
        VariantPlan("ecld-q4_0", "distilled", 0.5, 4, "all three (GGUF Q4_0)", "gguf"),
    )
    work = Path(tempfile.mkdtemp(prefix="mecopt-babi-gguf-"))
    rows = build_variants(
        (model, tok), work, train, test, hard, plan=plan, keep_models=True,
        recovery=TrainSettings(steps=steps, lr=1.5e-3, seed=args.seed),
        scratch=TrainSettings(steps=1), group_size=24, gguf_check=len(test),
        measure_settings={"latency_n": 100},
    )  # fmt: skip
    if args.out.exists():
        shutil.rmtree(args.out)
    for r in rows:
        shutil.copytree(work / r["name"], args.out / r["name"])
        path = (args.out / r["name"] / f"{r['name']}.gguf").resolve()
        r["file"] = str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    shutil.rmtree(work)
    provenance = {
        "seed": args.seed, "threads": args.threads, "teacher_training": training,
        "data": {"train": n_train, "test": len(test), "hard": len(hard), **HARD_SPLIT},
        "cpu_power_w": CPU_POWER_W, "quick": args.quick,
        "load_average_start": [round(x, 2) for x in load0],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.perf_counter() - start, 1),
        "hardware": hardware_info(),
        "software": software_versions("torch", "transformers", "gguf"),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "command": f"python benchmarks/variants/babi_tiny_gguf.py --seed {args.seed}",
    }  # fmt: skip
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "babi-tiny-gguf.json").write_text(
        json.dumps({"rows": rows, "provenance": provenance}, indent=1, default=str) + "\n",
        encoding="utf-8",
    )
    lines = [
        "# bAbI-tiny variants as GGUF files (measured)",
        "",
        f"Seed {args.seed}, {args.threads} thread(s), load average "
        f"{provenance['load_average_start']} -> {provenance['load_average_end']}, "
        f"{provenance['seconds']} s. Storage = size of the "
        "`.gguf` file; every figure measured except energy (measured latency x modelled "
        f"{CPU_POWER_W:.2f} W).",
        "",
        "| variant | file kB | params | accuracy | hallucination | generalisation | AUROC | "
        "answers equal to the in-memory model |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['storage_bytes'] / 1e3:.1f} | {r['parameters']:,} | "
            f"{r['accuracy']:.3f} | {r['hallucination']:.3f} | {r['generalisation']:.3f} | "
            f"{r['auroc']:.3f} | {r['gguf_answers_match']}/{r['gguf_check_n']} |"
        )
    (args.results / "babi-tiny-gguf.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
