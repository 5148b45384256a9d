"""Before/after comparison of two mecopt installs on the exact_scale solves, interleaved.

Usage::

    python benchmarks/exact_scale/ab.py --before /path/to/other/venv/bin/python \
        [--parts proof accuracy binding lns large interference] [--seeds 0 1 2 3 4] \
        [--out benchmarks/exact_scale/ab]

Each solve of ``run.py``'s parts runs twice, once with ``--before`` (an interpreter whose
``mecopt`` is the older install, e.g. a clone of an earlier commit installed editable in
its own virtual environment) and once with this interpreter, one right after the other, so
both see the same machine load. Both run this tree's ``run.py --one`` in a fresh process.
Rows go to ``OUT/ab.jsonl`` (resumable); ``--report`` writes ``OUT/ab.md``: per solve the
status, objective, bound and CPU seconds of both, and per part the median ratio of CPU
seconds (after / before) and whether every objective and bound agree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from run import SPEC_KEYS, specs  # noqa: E402

#: Relative difference up to which two objectives (or bounds) count as equal.
AGREE = 1e-6


def _one(python: str, spec: dict, hard: float) -> dict:
    cmd = [python, str(HERE / "run.py"), "--one", json.dumps(spec)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=hard, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "killed", "load_average": os.getloadavg()}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"status": "error", "message": out.stderr[-500:]}
    row = json.loads(lines[-1])
    row.pop("trace", None)
    return row


def _version(python: str) -> str:
    code = "import mecopt, pathlib; print(pathlib.Path(mecopt.__file__).parent.parent)"
    tree = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    ).stdout.strip()
    return (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=tree,
        ).stdout.strip()
        or tree
    )


def run(before: str, parts: list[str], seeds: list[int], out: Path) -> None:
    """Run every solve with both installs, appending rows to ``out/ab.jsonl``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "ab.jsonl"
    done = set()
    if path.exists():
        done = {
            json.dumps(json.loads(ln)["spec"], sort_keys=True)
            for ln in path.read_text().splitlines()
        }
    commits = {"before": _version(before), "after": _version(sys.executable)}
    for i, spec in enumerate(specs(parts, seeds)):
        key = {k: spec[k] for k in SPEC_KEYS if k in spec}
        if json.dumps(key, sort_keys=True) in done:
            continue
        hard = 3.0 * (spec.get("time_limit") or 60.0) + 60.0
        # Alternate which install goes first, so neither always meets the warmer cache.
        order = ("before", "after") if i % 2 == 0 else ("after", "before")
        pythons = {"before": before, "after": sys.executable}
        rows = {side: _one(pythons[side], spec, hard) for side in order}
        record = {"spec": key, "commits": commits, **rows}
        with path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        print(
            f"{spec['part']:<12} N={spec['n']:<6} seed={spec['seed']} {spec['solver']:<8} "
            + " ".join(
                f"{s}={rows[s].get('status')}/{rows[s].get('cpu', float('nan')):.2f}s"
                for s in ("before", "after")
            ),
            flush=True,
        )


def _agree(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= AGREE * max(abs(a), abs(b), 1e-12)


def _fmt(x: float | None, spec: str = ".6g") -> str:
    return "-" if x is None else format(x, spec)


def report(out: Path) -> str:
    """Write ``out/ab.md`` from ``out/ab.jsonl`` and return its text."""
    recs = [json.loads(ln) for ln in (out / "ab.jsonl").read_text().splitlines()]
    commits = recs[0]["commits"] if recs else {}
    lines = [
        "# exact_scale before and after, interleaved (measured)",
        "",
        f"Before: commit `{commits.get('before')}`; after: commit `{commits.get('after')}`. "
        "Every solve ran once with each install, one right after the other in fresh "
        "processes (`ab.py`), on a 2-core machine shared with other jobs (1-minute load "
        "per row). CPU seconds are the solving process's own (threads = 2). "
        "`same` says whether the objectives and the bounds agree within 1e-6 relative; "
        "where a time limit stopped either run, its incumbent and bound may differ.",
        "",
        "| part | N | solver | options | seed | status before / after | objective before / "
        "after | bound before / after | same | CPU s before / after | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios: dict[str, list[float]] = {}
    agree: dict[str, list[bool]] = {}
    for r in recs:
        s, b, a = r["spec"], r["before"], r["after"]
        same = _agree(b.get("objective"), a.get("objective")) and _agree(
            b.get("bound"), a.get("bound")
        )
        part = s["part"]
        agree.setdefault(part, []).append(same)
        if b.get("cpu") and a.get("cpu"):
            ratios.setdefault(part, []).append(a["cpu"] / b["cpu"])
        lines.append(
            f"| {part} | {s['n']} | {s['solver']} | {json.dumps(s.get('options', {}))} | "
            f"{s['seed']} | {b.get('status')} / {a.get('status')} | "
            f"{_fmt(b.get('objective'))} / {_fmt(a.get('objective'))} | "
            f"{_fmt(b.get('bound'))} / {_fmt(a.get('bound'))} | {'yes' if same else 'no'} | "
            f"{_fmt(b.get('cpu'), '.2f')} / {_fmt(a.get('cpu'), '.2f')} | "
            f"{_fmt((a.get('load_average') or [None])[0], '.1f')} |"
        )
    lines += [
        "",
        "| part | solves | objective and bound agree | median CPU ratio after/before |",
        "|---|---|---|---|",
    ]
    for part, flags in agree.items():
        med = statistics.median(ratios[part]) if ratios.get(part) else None
        lines.append(f"| {part} | {len(flags)} | {sum(flags)}/{len(flags)} | {_fmt(med, '.2f')} |")
    text = "\n".join(lines) + "\n"
    (out / "ab.md").write_text(text)
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="interpreter of the older mecopt install")
    ap.add_argument(
        "--parts",
        nargs="+",
        default=["proof", "accuracy", "binding", "lns", "large", "interference"],
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--out", type=Path, default=HERE / "ab")
    ap.add_argument("--report", action="store_true", help="only write ab.md")
    args = ap.parse_args()
    if not args.report:
        if not args.before:
            ap.error("--before is required to run (or pass --report)")
        run(args.before, args.parts, args.seeds, args.out)
    print(report(args.out))


if __name__ == "__main__":
    main()
