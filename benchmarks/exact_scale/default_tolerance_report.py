"""Report of ``default_tolerance.toml``: `exact` as a user calls it, per N and per seed.

Usage (from this folder)::

    python default_tolerance_report.py [--db default_tolerance.sqlite]
        [--out default_tolerance.md]

Every figure is measured (wall-clock seconds of the whole ``mecopt.solve`` call, on a shared
machine: the 1-minute load average of each row is shown beside it).
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from pathlib import Path

from mecopt.bench import ResultStore

HERE = Path(__file__).parent


def _q(values: list[float], p: float) -> float:
    """The ``p``-quantile (linear interpolation) of ``values``."""
    s = sorted(values)
    k = (len(s) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def report(rows: list[dict]) -> str:
    """The Markdown report of ``rows`` (rows of the store's ``results_gap`` view)."""
    commits = sorted({r["git_commit"] for r in rows})
    loads = [r["load_avg"] for r in rows if r["load_avg"] is not None]
    lines = [
        "# `exact` at its defaults, as a user calls it (measured)",
        "",
        "`mecopt.solve(inst, \"exact\", time_limit=60)` (`exact-nolimit`: without the time "
        "limit) on kim2026 (M = 4, tau = 0.6, no "
        "interference), default relative gap 1e-4, threads = 2, each solve in its own "
        "process (`mecopt bench run default_tolerance.toml`). Runtime = the whole "
        "`mecopt.solve` call (s); CPU = CPU seconds of the solving process over all its "
        "threads during that call, which a busy machine distorts less. Measured on a "
        "2-core machine shared with other jobs: "
        f"1-minute load average {min(loads):.1f}-{max(loads):.1f} over the rows (each row's "
        "own in the seed table), so the times are upper figures for an idle machine. "
        f"Commit(s): {', '.join(commits)}.",
        "",
        "| N | solver | seeds | optimal (gap <= 1e-4) | stopped by | median runtime, s "
        "| quartiles, s | min-max, s | median CPU, s | CPU min-max, s | median gap | worst gap "
        "| median peak RSS, MB | median load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, solver in sorted({(r["n_users"], r["solver"]) for r in rows}):
        g = [r for r in rows if r["n_users"] == n and r["solver"] == solver]
        t = [r["runtime"] for r in g if r["runtime"] is not None]
        cpu = [r["cpu_time"] for r in g if r["cpu_time"] is not None]
        gaps = [r["gap"] for r in g if r["gap"] is not None] or [float("nan")]
        stops = Counter(r["stop"] or r["status"] for r in g)
        mem = [r["peak_rss_mb"] for r in g if r["peak_rss_mb"] is not None] or [float("nan")]
        ld = [r["load_avg"] for r in g if r["load_avg"] is not None]
        lines.append(
            f"| {n:,} | {solver} | {len(g)} | "
            f"{sum(r['status'] == 'optimal' for r in g)}/{len(g)} | "
            + ", ".join(f"{k} {v}" for k, v in sorted(stops.items()))
            + f" | {statistics.median(t):.1f} | {_q(t, 0.25):.1f}-{_q(t, 0.75):.1f} | "
            f"{min(t):.1f}-{max(t):.1f} | {statistics.median(cpu):.1f} | "
            f"{min(cpu):.1f}-{max(cpu):.1f} | {statistics.median(gaps):.1e} | {max(gaps):.1e} | "
            f"{statistics.median(mem):.0f} | {statistics.median(ld):.1f} |")
    lines += ["", "## Per seed", "",
              "| N | seed | solver | status | stop | runtime, s | CPU, s | gap | how it ended "
              "| peak RSS, MB | load |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["n_users"], r["seed"], r["solver"])):
        gap = "-" if r["gap"] is None else f"{r['gap']:.1e}"
        lines.append(f"| {r['n_users']:,} | {r['seed']} | {r['solver']} | {r['status']} | "
                     f"{r['stop']} | "
                     f"{_f(r['runtime'], '.1f')} | {_f(r['cpu_time'], '.1f')} | {gap} | "
                     f"{_bound_source(r)} | {_f(r['peak_rss_mb'], '.0f')} | "
                     f"{_f(r['load_avg'], '.1f')} |")
    return "\n".join(lines) + "\n"


def _f(value: float | None, fmt: str) -> str:
    """``value`` formatted, ``-`` when missing (a solve killed at the hard limit)."""
    return "-" if value is None else format(value, fmt)


def _bound_source(row: dict) -> str:
    """The message's first part (which method gave the answer and bound)."""
    return (row.get("message") or "").split(";")[0][:60] or "-"


def main() -> None:
    """Write the report."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=str(HERE / "default_tolerance.sqlite"))
    p.add_argument("--out", default=str(HERE / "default_tolerance.md"))
    args = p.parse_args()
    with ResultStore.open_existing(args.db) as store:
        rows = [r for r in store.rows() if r["status"] not in ("error", "crashed")]
    text = report(rows)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
