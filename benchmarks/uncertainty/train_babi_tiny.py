"""Train two small causal LMs on generated bAbI-style questions and measure the "babi-tiny" profile.

A small "device" model and a larger, longer-trained "edge" model (transformers Llama
architecture, word-level tokenizer over the generator's vocabulary) are trained from scratch on
the CPU, saved, loaded back through the measurement harness exactly as
``mecopt profile measure`` loads models, and measured on held-out questions. Written:

- ``<out>/babi-tiny.json`` + ``.csv``: the profile (also copied into the package's shipped
  profiles with ``--ship``);
- ``<out>/babi-tiny-stats.json`` and ``.md``: statistics, per-task accuracy, binned table;
- ``<out>/babi-tiny-reliability.png``: accuracy versus alpha for both models.

Run (about ten minutes on two CPU cores)::

    python benchmarks/uncertainty/train_babi_tiny.py --seed 0 --ship

``--quick`` trains for a few steps only (a smoke test of the pipeline, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mecopt.datasets import (
    BABI_TASKS,
    QARecord,
    babi_vocabulary,
    format_prompt,
    generate_babi,
    write_qa_jsonl,
)
from mecopt.measure import measure_profile, word_tokenizer
from mecopt.measure._deps import import_torch, import_transformers
from mecopt.profiles import PROFILE_DIR, Profile, write_profile
from mecopt.profiles.plot import save_reliability_plot

NAME = "babi-tiny"


@dataclass(frozen=True)
class ModelSpec:
    """Size and training budget of one model."""

    role: str
    hidden: int
    layers: int
    heads: int
    steps: int
    lr: float
    batch: int = 64


DEVICE = ModelSpec("local", hidden=48, layers=2, heads=2, steps=1200, lr=2e-3)
EDGE = ModelSpec("edge", hidden=96, layers=3, heads=4, steps=2000, lr=1.5e-3)


def encode(records: list[QARecord], tokenizer) -> list[tuple[list[int], int]]:
    """Token ids of prompt + answer + <eos>, and where the answer starts."""
    out = []
    for rec in records:
        prompt = tokenizer(format_prompt(rec))["input_ids"]
        answer = tokenizer(" " + rec.answer)["input_ids"]
        out.append((prompt + answer + [tokenizer.eos_token_id], len(prompt)))
    return out


def batch_tensors(torch, examples, pad_id: int):
    """Right-padded input ids, attention mask and labels (loss on answer and <eos> only)."""
    width = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, (seq, start) in enumerate(examples):
        ids[i, : len(seq)] = torch.tensor(seq)
        mask[i, : len(seq)] = 1
        labels[i, start : len(seq)] = torch.tensor(seq[start:])
    return ids, mask, labels


def train(spec: ModelSpec, tokenizer, examples, seed: int, log_every: int = 200):
    """Train one model from scratch; return it and a training summary."""
    torch = import_torch()
    transformers = import_transformers()
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden,
        intermediate_size=2 * spec.hidden,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        num_key_value_heads=spec.heads,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    model = transformers.LlamaForCausalLM(config)
    opt = torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=0.01)
    warm = max(1, spec.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.05, 1.0 - s / spec.steps)
    )
    rng = np.random.default_rng(seed)
    model.train()
    start = time.perf_counter()
    losses = []
    for step in range(spec.steps):
        idx = rng.integers(0, len(examples), size=spec.batch)
        ids, mask, labels = batch_tensors(torch, [examples[i] for i in idx], tokenizer.pad_token_id)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == spec.steps:
            print(
                f"  {spec.role} step {step + 1}/{spec.steps} "
                f"loss {np.mean(losses[-log_every:]):.3f}",
                flush=True,
            )
    seconds = time.perf_counter() - start
    model.eval()
    summary = {
        "trained": "from scratch on generated bAbI-style questions (loss on answer tokens)",
        "training_steps": spec.steps,
        "batch_size": spec.batch,
        "learning_rate": spec.lr,
        "optimizer": "AdamW, weight decay 0.01, linear warm-up and decay",
        "training_seed": seed,
        "training_seconds": round(seconds, 1),
        "final_loss": round(float(np.mean(losses[-100:])), 4),
    }
    return model, summary


def per_task(profile: Profile) -> dict[str, dict[str, float]]:
    """Accuracy of both models per task type."""
    r = profile.records
    tasks = np.asarray(r.task)
    out = {}
    for t in sorted(set(tasks)):
        sel = tasks == t
        out[t] = {
            "n": int(sel.sum()),
            "acc_local": float(r.local_correct[sel].mean()),
            "acc_edge": float(r.edge_correct[sel].mean()),
            "alpha_mean": float(r.alpha[sel].mean()),
        }
    return out


def write_report(profile: Profile, training: dict, out: Path) -> None:
    """Write the statistics as JSON and Markdown."""
    stats = profile.statistics().to_dict()
    tasks = per_task(profile)
    table = profile.table(10)
    (out / f"{NAME}-stats.json").write_text(
        json.dumps(
            {
                "statistics": stats,
                "per_task": tasks,
                "binned": table.rows(),
                "training": training,
                "provenance": profile.provenance.to_dict(),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    lines = [
        f"# Profile `{NAME}`: measured statistics",
        "",
        f"{profile.provenance.description}. Measured {profile.provenance.date}; "
        f"{stats['n']} held-out questions.",
        "",
        "| statistic | value |",
        "| --- | --- |",
    ]
    lines += [
        f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in stats.items()
    ]
    lines += [
        "",
        "## Per task",
        "",
        "| task | n | acc device | acc edge | mean alpha |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {t} | {v['n']} | {v['acc_local']:.3f} | {v['acc_edge']:.3f} | {v['alpha_mean']:.3f} |"
        for t, v in tasks.items()
    ]
    lines += [
        "",
        "## Accuracy by alpha bin (95 % Wilson intervals)",
        "",
        "```",
        table.format(),
        "```",
        "",
        "## Training",
        "",
        "| | device | edge |",
        "| --- | --- | --- |",
    ]
    for key in training["local"]:
        lines.append(f"| {key} | {training['local'][key]} | {training['edge'][key]} |")
    lines.append("")
    (out / f"{NAME}-stats.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, required=True, help="seed of data and training")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--n-train", type=int, default=20000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="where to save the trained models (default: a temporary folder)",
    )
    parser.add_argument(
        "--ship", action="store_true", help=f"also write the profile into {PROFILE_DIR}"
    )
    parser.add_argument("--quick", action="store_true", help="a few steps only (smoke test)")
    args = parser.parse_args(argv)

    torch = import_torch()
    torch.set_num_threads(args.threads)
    device, edge = DEVICE, EDGE
    n_train, n_test = args.n_train, args.n_test
    if args.quick:
        device = ModelSpec("local", 16, 1, 2, steps=20, lr=2e-3, batch=16)
        edge = ModelSpec("edge", 32, 1, 2, steps=30, lr=2e-3, batch=16)
        n_train, n_test = 500, 40

    gen = {
        "generator": "mecopt.datasets.generate_babi",
        "tasks": list(BABI_TASKS),
        "min_sentences": 2,
        "max_sentences": 6,
        "n_people": 4,
    }
    train_set = generate_babi(n_train, seed=args.seed, id_prefix="train")
    seen = {(r.context, r.question) for r in train_set}
    test_set = [
        r
        for r in generate_babi(n_test, seed=args.seed + 1, id_prefix="test")
        if (r.context, r.question) not in seen
    ]
    tokenizer = word_tokenizer(babi_vocabulary())
    examples = encode(train_set, tokenizer)

    model_dir = args.model_dir or Path(tempfile.mkdtemp(prefix="mecopt-babi-tiny-"))
    args.out.mkdir(parents=True, exist_ok=True)
    test_file = write_qa_jsonl(test_set, model_dir / "test.jsonl")
    training = {}
    for k, spec in enumerate((device, edge)):
        print(f"training {spec.role} model ({spec})", flush=True)
        model, summary = train(spec, tokenizer, examples, seed=args.seed + k)
        training[spec.role] = summary
        model.save_pretrained(model_dir / spec.role)
        tokenizer.save_pretrained(model_dir / spec.role)

    desc = (
        "bAbI-style QA (4 task types), two Llama-architecture models trained from scratch "
        "on CPU: a small device model and a larger, longer-trained edge model"
    )
    work = model_dir / "measure" / NAME
    if work.parent.exists():
        shutil.rmtree(work.parent)
    profile = measure_profile(
        model_dir / "local",
        model_dir / "edge",
        test_file,
        work,
        name=NAME,
        description=desc,
        max_new_tokens=5,
        threads=args.threads,
        model_info={
            role: {"name": f"babi-tiny-{'device' if role == 'local' else 'edge'}", **training[role]}
            for role in training
        },
        dataset_info={
            **gen,
            "test_seed": args.seed + 1,
            "train_seed": args.seed,
            "n_train": n_train,
            "n_test_generated": n_test,
            "held_out": "test questions whose (context, question) occur in the "
            "training set are removed",
            "file": "generated by benchmarks/uncertainty/train_babi_tiny.py",
        },
    )
    write_profile(profile, args.out / f"{NAME}.json")
    if args.ship:
        write_profile(profile, PROFILE_DIR / f"{NAME}.json")
    write_report(profile, training, args.out)
    save_reliability_plot(profile, args.out / f"{NAME}-reliability.png")
    print(profile.summary())
    print(json.dumps(per_task(profile), indent=1))
    if args.model_dir is None:
        shutil.rmtree(model_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
