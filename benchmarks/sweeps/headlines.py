"""Print the headline tables of the committed results (Markdown), from the SQLite stores.

Usage: python headlines.py REPLAY_SEEDS   (comma-separated complete seeds of the replay)
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from mecopt.bench import ResultStore, aggregate

HERE = Path(__file__).resolve().parent / "results"


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def replay(seeds: list[int]) -> list[str]:
    with ResultStore.open_existing(HERE / "replay.sqlite") as store:
        rows = store.rows({"seed": seeds})
    commits = sorted({r["git_commit"] for r in rows})
    out = [f"Replay: {len(seeds)} complete seeds ({min(seeds)}..{max(seeds)}), "
           f"{len(rows)} rows, commit(s) {', '.join(commits)}.", ""]
    for interference in ("none", "other-cells"):
        sub = [r for r in rows if r["interference"] == interference]
        stats = {s.key: s for s in aggregate(sub, ("solver", "n_users"))}
        sizes = sorted({k[1] for k in stats})
        kind = ("the proven optimum" if interference == "none"
                else "the best bound known (interference-free MILP optimum)")
        out += [f"GOA and the exact solve vs {kind}, interference {interference!r}, all five "
                "tau pooled (median / worst gap):", "",
                "| N | " + " | ".join(str(n) for n in sizes) + " |",
                "|---|" + "---|" * len(sizes)]
        for solver in ("goa", "min-delay", "random", "edge-all", "highs"):
            cells = [f"{pct(stats[solver, n].median_gap)} / {pct(stats[solver, n].worst_gap)}"
                     for n in sizes]
            out.append(f"| {solver} | " + " | ".join(cells) + " |")
        cells = [f"{stats['highs', n].median_runtime:.2f}" for n in sizes]
        out += ["| highs median runtime (s) | " + " | ".join(cells) + " |", ""]
    return out


def _median_table(rows: list[dict], solvers: list[str], sizes: list[int], column: str,
                  fmt: str) -> list[str]:
    """One row per solver: the median of ``column`` over the non-failed rows per size."""
    out = ["| solver | " + " | ".join(str(n) for n in sizes) + " |",
           "|---|" + "---|" * len(sizes)]
    for solver in solvers:
        cells = []
        for n in sizes:
            vals = [r[column] for r in rows if r["solver"] == solver and r["n_users"] == n
                    and r[column] is not None and r["status"] not in ("error", "crashed")]
            cells.append(format(statistics.median(vals), fmt) if vals else "")
        out.append(f"| {solver} | " + " | ".join(cells) + " |")
    return out


def scaling() -> list[str]:
    with ResultStore.open_existing(HERE / "scaling.sqlite") as store:
        rows = store.rows()
    stats = {s.key: s for s in aggregate(rows, ("solver", "n_users"))}
    solvers = sorted({k[0] for k in stats}, key=lambda s: (s in ("goa", "local-all", "edge-all",
                                                                 "min-delay", "random"), s))
    sizes = sorted({k[1] for k in stats})
    seeds = sorted({r["seed"] for r in rows})
    loads = [r["load_avg"] for r in rows if r.get("load_avg") is not None]
    load = (f" 1-minute load average {min(loads):.1f}-{max(loads):.1f} (median "
            f"{statistics.median(loads):.1f}) over the rows." if loads else "")
    out = [f"Scaling: {len(seeds)} seeds, {len(rows)} rows, commit(s) "
           f"{', '.join(sorted({r['git_commit'] for r in rows}))}.{load} Median runtime (s); "
           "T = every solve of that size hit the hard limit:", "",
           "| solver | " + " | ".join(str(n) for n in sizes) + " |",
           "|---|" + "---|" * len(sizes)]
    for solver in solvers:
        cells = []
        for n in sizes:
            s = stats.get((solver, n))
            if s is None:
                cells.append("")
            elif all(r["status"] == "timeout" for r in rows
                     if r["solver"] == solver and r["n_users"] == n):
                cells.append("T")
            else:
                cells.append(f"{s.median_runtime:.3g}")
        out.append(f"| {solver} | " + " | ".join(cells) + " |")
    if any(r.get("cpu_time") is not None for r in rows):
        out += ["", "Median CPU time of the solving process (s, all threads; less distorted "
                "by the load than the runtime):", ""]
        out += _median_table(rows, solvers, sizes, "cpu_time", ".3g")
    out += ["", "Median gap to the best bound known (the largest bound proven by an exact "
            "solve of the instance, or the per-user bound where larger):", "",
            "| solver | " + " | ".join(str(n) for n in sizes) + " |",
            "|---|" + "---|" * len(sizes)]
    for solver in solvers:
        cells = [pct(stats[solver, n].median_gap) if (solver, n) in stats else ""
                 for n in sizes]
        out.append(f"| {solver} | " + " | ".join(cells) + " |")
    if any(r.get("peak_rss_mb") is not None for r in rows):
        out += ["", "Median peak resident memory of the solving process (MB; the instance "
                "is built in it):", ""]
        out += _median_table(rows, solvers, sizes, "peak_rss_mb", ".0f")
    return out


def main() -> int:
    seeds = [int(s) for s in sys.argv[1].split(",")]
    print("\n".join(replay(seeds) + [""] + scaling()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
