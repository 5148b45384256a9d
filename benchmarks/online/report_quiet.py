"""Write ``hindsight_u40_quiet.md``: hindsight at U = 40, T = 100 with about a core per solve
(``hindsight_u40_quiet.sqlite``, from ``hindsight_u40_quiet.toml``) beside the same traces in
``online.sqlite`` (a shared machine) and ``priced``'s gap to the quiet run's bound.

Usage::

    python benchmarks/online/report_quiet.py
"""

from __future__ import annotations

import sqlite3
import statistics
from pathlib import Path

HERE = Path(__file__).parent
CELL = "n_users = 40 and horizon = 100"


def _rows(db: Path, solver: str, fields: str) -> dict[int, tuple]:
    with sqlite3.connect(db) as con:
        query = f"select seed, {fields} from results where {CELL} and solver = ? order by id"
        return {r[0]: r[1:] for r in con.execute(query, (solver,))}


def main() -> None:
    quiet = _rows(
        HERE / "hindsight_u40_quiet.sqlite",
        "hindsight",
        "status, bound, gap, wall_time, load_avg, git_commit",
    )
    shared = _rows(HERE / "online.sqlite", "hindsight", "gap, load_avg")
    priced = _rows(HERE / "online.sqlite", "priced", "objective, status")
    lines = [
        "# Hindsight at U = 40, T = 100 with a core per solve (measured)",
        "",
        "`mecopt bench run hindsight_u40_quiet.toml` (two solves at a time on the 2-core "
        "machine, nothing else running): the held-out traces of the online benchmark's "
        "u40-t100 cell (seeds 100-119), `hindsight` with its 120 s wall-clock limit and 1 "
        "thread, as in `online.sqlite`, where the same solves shared the machine at a load "
        "of 6-9. `priced gap` is `priced`'s mean latency (from `online.sqlite`) above this "
        "run's proven lower bound, an upper bound on its true gap. Commit: "
        f"{sorted({r[5] for r in quiet.values()})}.",
        "",
        "| seed | status | proven gap | wall, s | load | gap in online.sqlite (load) | "
        "priced gap to this bound |",
        "|---|---|---|---|---|---|---|",
    ]
    gaps, priced_gaps = [], []
    for seed in sorted(quiet):
        status, bound, gap, wall, load, _ = quiet[seed]
        old = shared.get(seed)
        p = priced.get(seed)
        pgap = (p[0] - bound) / p[0] if p and bound else None
        gaps.append(gap)
        if pgap is not None:
            priced_gaps.append(pgap)
        old_txt = "-" if old is None else f"{100 * old[0]:.3f} % ({old[1]:.1f})"
        lines.append(
            f"| {seed} | {status} | {100 * gap:.3f} % | {wall:.0f} | {load:.1f} | "
            f"{old_txt} | {'-' if pgap is None else f'{100 * pgap:.2f} %'} |"
        )
    lines += [
        "",
        f"Hindsight: proven gap <= 2 % on {sum(g <= 0.02 for g in gaps)} of {len(gaps)} "
        f"traces, within 1e-4 on {sum(g <= 1e-4 for g in gaps)}; median "
        f"{100 * statistics.median(gaps):.3f} %, worst {100 * max(gaps):.3f} %.",
        "",
        f"`priced` to this bound: mean {100 * statistics.mean(priced_gaps):.2f} %, median "
        f"{100 * statistics.median(priced_gaps):.2f} %, worst "
        f"{100 * max(priced_gaps):.2f} % over {len(priced_gaps)} traces.",
    ]
    (HERE / "hindsight_u40_quiet.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
