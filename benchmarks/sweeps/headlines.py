"""Print the headline tables of the committed results (Markdown), from the SQLite stores.

Usage: python headlines.py REPLAY_SEEDS   (comma-separated complete seeds of the replay)
"""

from __future__ import annotations

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


def scaling() -> list[str]:
    with ResultStore.open_existing(HERE / "scaling.sqlite") as store:
        rows = store.rows()
    stats = {s.key: s for s in aggregate(rows, ("solver", "n_users"))}
    solvers = sorted({k[0] for k in stats}, key=lambda s: (s in ("goa", "local-all", "edge-all",
                                                                 "min-delay", "random"), s))
    sizes = sorted({k[1] for k in stats})
    seeds = sorted({r["seed"] for r in rows})
    out = [f"Scaling: {len(seeds)} seeds, {len(rows)} rows, commit(s) "
           f"{', '.join(sorted({r['git_commit'] for r in rows}))}. Median runtime (s); "
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
    out += ["", "Median gap to the best bound known (MILP bound up to N = 1,000, the per-user "
            "bound beyond):", "", "| solver | " + " | ".join(str(n) for n in sizes) + " |",
            "|---|" + "---|" * len(sizes)]
    for solver in solvers:
        cells = [pct(stats[solver, n].median_gap) if (solver, n) in stats else ""
                 for n in sizes]
        out.append(f"| {solver} | " + " | ".join(cells) + " |")
    return out


def main() -> int:
    seeds = [int(s) for s in sys.argv[1].split(",")]
    print("\n".join(replay(seeds) + [""] + scaling()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
