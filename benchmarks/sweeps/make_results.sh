#!/bin/sh
# Rebuild the committed reports, figures and CSV exports from the SQLite stores in results/.
# Usage: sh make_results.sh [REPLAY_SEEDS]   (REPLAY_SEEDS: comma-separated complete seeds)
set -eu
cd "$(dirname "$0")"
R=results
P=$R/plots
SEEDS=${1:-$(python -c "print(','.join(map(str, range(30))))")}

# 1. The published setting replayed (complete seeds only).
for I in none other-cells; do
    mecopt bench report $R/replay.sqlite --where interference=$I --where seed=$SEEDS \
        --by solver --by n_users --out $R/replay_${I}_by_n.md
    mecopt bench report $R/replay.sqlite --where interference=$I --where seed=$SEEDS \
        --where solver=goa,highs --by solver --by tau --by n_users \
        --out $R/replay_${I}_goa_vs_highs_by_tau.md
    mecopt bench report $R/replay.sqlite --where interference=$I --where seed=$SEEDS \
        --by solver --by tau --out $R/replay_${I}_by_tau.md
    mecopt bench plot $R/replay.sqlite --out $P --where interference=$I --where seed=$SEEDS \
        --prefix replay_${I}_ --tau 0.6 --n 120
done
mecopt bench export $R/replay.sqlite $R/replay.csv --where seed=$SEEDS

# 2. Scaling.
mecopt bench report $R/scaling.sqlite --by solver --by n_users --out $R/scaling_by_n.md
mecopt bench plot $R/scaling.sqlite --out $P --prefix scaling_
mecopt bench export $R/scaling.sqlite $R/scaling.csv

# 3. GOA engines.
mecopt bench report $R/goa_speed.sqlite --by solver --by n_users --out $R/goa_speed_by_n.md
mecopt bench export $R/goa_speed.sqlite $R/goa_speed.csv
python - <<'PY'
import sqlite3
import statistics

con = sqlite3.connect("results/goa_speed.sqlite")
med = {}
for solver, n in con.execute("SELECT DISTINCT solver, n_users FROM results"):
    times = [r[0] for r in con.execute(
        "SELECT runtime FROM results WHERE solver = ? AND n_users = ?", (solver, n))]
    med[solver, n] = statistics.median(times)
same = con.execute(
    "SELECT COUNT(*) FROM results a JOIN results b USING (instance_key) "
    "WHERE a.solver = 'goa-fast' AND b.solver != 'goa-fast' "
    "AND (a.objective != b.objective OR a.n_offloaded != b.n_offloaded)").fetchone()[0]
lines = ["| engine | N | median runtime (s) |", "|---|---|---|"]
lines += [f"| {s} | {n} | {t:.4g} |" for (s, n), t in sorted(med.items(), key=lambda x: x[0][1])]
ratio = med["goa-loop", 120] / med["goa-fast", 120]
lines += ["", f"Median loop / fast runtime at N = 120 (same run): {ratio:.1f}x.",
          f"Rows where an engine's answer differs from goa-fast's: {same}."]
commit = con.execute("SELECT DISTINCT git_commit FROM results").fetchall()
lines += [f"Commit(s): {', '.join(c[0] for c in commit)}."]
open("results/goa_speed_summary.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY

# Headline tables (replay: complete seeds only).
python headlines.py "$SEEDS" > $R/HEADLINES.md
