#!/bin/sh
# Remake results/ from scratch: run the three sweeps into fresh stores, then the reports.
# Usage (from benchmarks/sweeps): sh remake.sh [REPLAY_SEEDS]
set -eu
cd "$(dirname "$0")"
mkdir -p results
for S in goa_speed scaling replay; do
    if [ -e "results/$S.sqlite" ]; then
        echo "results/$S.sqlite exists: move it away to remake it from scratch" >&2
        exit 2
    fi
done
mecopt bench run goa_speed.toml --db results/goa_speed.sqlite --workers 1
mecopt bench run scaling.toml --db results/scaling.sqlite --workers 1
mecopt bench run replay.toml --db results/replay.sqlite --workers 2
sh make_results.sh "${1:-$(python -c "print(','.join(map(str, range(30))))")}"
