"""Tables and plots of the modelled big-model catalogues (no training; seconds).

Writes to ``results/``:

- ``gguf-sizes.md``: Llama-3.1-8B storage model against the published GGUF file sizes;
- ``llama-3.1-8b.md``: the catalogue, its Pareto front, and ECLD against quantisation-only and
  pruning-only variants, every figure with its source;
- ``llama-3.1-8b-pareto.png`` / ``.pdf``: quality versus storage with the front.

Run: ``python benchmarks/variants/modelled_tables.py``
"""

from __future__ import annotations

import math
from pathlib import Path

import mecopt.variants as mv
from mecopt.variants.formats import PUBLISHED_GGUF_SOURCE, preset_storage_bytes
from mecopt.variants.pareto import recipe_comparison
from mecopt.variants.plot import save_pareto_plot

OUT = Path(__file__).parent / "results"
SRC = {"measured": "measured", "published": "published", "modelled": "modelled"}


def fig(f) -> str:
    return "n/a" if not math.isfinite(f.value) else f"{f.value:.3f} ({SRC[f.source]})"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    base = mv.base_model("Llama-3.1-8B")
    lines = ["# Llama-3.1-8B: storage model against published GGUF file sizes", "",
             f"Published sizes: {PUBLISHED_GGUF_SOURCE}. Modelled: per-tensor llama.cpp "
             "formats (`mecopt.variants.formats`) plus 61 bytes of metadata per vocabulary "
             "entry. GB = 1e9 bytes.", "",
             "| preset | modelled GB | published GB | error |", "| --- | --- | --- | --- |"]
    worst = 0.0
    for preset, gb in mv.PUBLISHED_GGUF_GB.items():
        m = preset_storage_bytes(base, preset) / 1e9
        err = 100 * (m / gb - 1)
        worst = max(worst, abs(err))
        lines.append(f"| {preset} | {m:.3f} | {gb:.2f} | {err:+.2f} % |")
    e = mv.ecld(base)
    lines += ["", f"Largest error {worst:.2f} % (target: 3 %).", "",
              f"ECLD default (`mv.ecld()`: {mv.ECLD_DEFAULT}): {e.storage_bytes / 1e9:.3f} GB "
              f"against the published 3.3 GB ({100 * (e.storage_bytes / 3.3e9 - 1):+.1f} %; "
              "target 10 %); float16 base "
              f"{mv.compress(base).storage_bytes / 1e9:.2f} GB (published 15.3-16.1 GB).", ""]
    (OUT / "gguf-sizes.md").write_text("\n".join(lines), encoding="utf-8")

    variants = mv.catalogue("llama-3.1-8b")
    front = {v.name for v in mv.pareto_front(variants)}
    rows = ["# Catalogue `llama-3.1-8b` (modelled storage and speed; quality sources per cell)",
            "", "Latency and energy: phone (`mecopt.variants.hardware`), 256 prompt and 128 "
            "output tokens, modelled. Accessibility: share of the default phone population "
            "(modelled) that can host the variant at a 4096-token context.", "",
            "| variant | front | storage GB | memory GB | accessibility | accuracy | "
            "hallucination | generalisation | latency s | energy J |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for v in variants:
        rows.append(
            f"| {v.name} | {'yes' if v.name in front else ''} | {v.storage_bytes / 1e9:.3f} | "
            f"{v.runtime_memory() / 1e9:.2f} | {v.accessibility():.2f} | {fig(v.accuracy)} | "
            f"{fig(v.hallucination)} | {fig(v.generalisation)} | "
            f"{v.latency_s('phone', 256, 128):.2f} | {v.energy_j('phone', 256, 128):.1f} |")
    rows += ["", "## ECLD against quantisation-only and pruning-only", "",
             "| recipe | variant | storage GB | accuracy | hallucination | generalisation |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in recipe_comparison(variants):
        def cell(d):
            return "n/a" if d["value"] is None else f"{d['value']:.3f} ({d['source']})"
        rows.append(f"| {r['recipe']} | {r['variant']} | {r['storage_bytes'] / 1e9:.3f} | "
                    f"{cell(r['accuracy'])} | {cell(r['hallucination'])} | "
                    f"{cell(r['generalisation'])} |")
    rows.append("")
    (OUT / "llama-3.1-8b.md").write_text("\n".join(rows), encoding="utf-8")
    save_pareto_plot(variants, mv.pareto_front(variants), OUT / "llama-3.1-8b-pareto.png",
                     title="Llama-3.1-8B")
    print((OUT / "gguf-sizes.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
