"""Reading and writing measured variant catalogues (JSON with provenance, CSV, Markdown)."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "CATALOGUE_DIR",
    "MEASURED_COLUMNS",
    "read_measured_catalogue",
    "write_measured_catalogue",
]

#: Folder of the shipped measured catalogues.
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "data" / "variants"

#: Columns of the measured table, in order.
MEASURED_COLUMNS = (
    "name", "recipe", "origin", "prune", "bits", "group_size", "parameters", "storage_bytes",
    "accuracy", "hallucination", "generalisation", "hallucination_hard", "auroc", "latency_s",
    "energy_j", "n_test", "n_hard", "memory_bytes", "format", "gguf_answers_match",
    "gguf_check_n",
)  # fmt: skip


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_measured_catalogue(
    name: str,
    rows: Sequence[dict[str, Any]],
    provenance: dict[str, Any],
    folder: str | os.PathLike[str],
    *,
    markdown: bool = True,
) -> Path:
    """Write ``<folder>/<name>.json`` (rows + provenance), ``.csv`` and optionally ``.md``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "name": name,
        "source": "measured",
        "provenance": provenance,
        "rows": [{k: _clean(v) for k, v in r.items()} for r in rows],
    }
    path = out / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(MEASURED_COLUMNS)
        for r in rows:
            w.writerow([_clean(r.get(c)) for c in MEASURED_COLUMNS])
    if markdown:
        (out / f"{name}.md").write_text(measured_markdown(name, rows, provenance), encoding="utf-8")
    return path


def measured_markdown(name: str, rows: Sequence[dict[str, Any]], provenance: dict[str, Any]) -> str:
    """The measured table as Markdown (every figure measured except the energy's power)."""
    lines = [
        f"# Variant catalogue `{name}` (measured)",
        "",
        f"{provenance.get('description', '')}. Seed {provenance.get('seed')}, "
        f"{provenance.get('threads')} thread(s), load average at start "
        f"{provenance.get('load_average_start')}, {provenance.get('seconds')} s in all.",
        "",
        "Every figure is **measured** on this machine, except the energy per query, which is "
        "the measured latency times a modelled CPU power of "
        f"{provenance.get('cpu_power_w', 0):.2f} W.",
        "",
        "| variant | recipe | params | storage kB | accuracy | hallucination | "
        "generalisation | AUROC | latency ms | energy mJ |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        au = r.get("auroc")
        au_text = f"{au:.3f}" if isinstance(au, float) and math.isfinite(au) else "n/a"
        lines.append(
            f"| {r['name']} | {r['recipe']} | {r['parameters']:,} | "
            f"{r['storage_bytes'] / 1e3:.1f} | {r['accuracy']:.3f} | {r['hallucination']:.3f} | "
            f"{r['generalisation']:.3f} | {au_text} | {1e3 * r['latency_s']:.2f} | "
            f"{1e3 * r['energy_j']:.1f} |"
        )
    lines += [
        "",
        f"Held-out questions: {rows[0]['n_test'] if rows else 0}; harder split "
        f"(generalisation): {rows[0]['n_hard'] if rows else 0}.",
        "",
    ]
    extra = [r for r in rows if r.get("memory_bytes") is not None]
    if extra:
        lines += ["| variant | format | memory MB (loaded, float32) | GGUF file check |",
                  "| --- | --- | --- | --- |"]  # fmt: skip
        for r in extra:
            check = (f"{r['gguf_answers_match']}/{r['gguf_check_n']} answers equal"
                     if r.get("gguf_check_n") else "")  # fmt: skip
            lines.append(f"| {r['name']} | {r.get('format') or ''} | "
                         f"{r['memory_bytes'] / 1e6:.1f} | {check} |")  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def read_measured_catalogue(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a measured catalogue JSON.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not a measured catalogue.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"variant catalogue not found: {p}")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict) or "rows" not in data or data.get("source") != "measured":
        raise ValueError(f"{p}: not a measured variant catalogue (needs 'rows', source 'measured')")
    return data
