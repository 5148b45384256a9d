#!/bin/sh
# Remake this folder's results from scratch (from benchmarks/replay):
#   calibration (about 15 minutes), the replay sweep (about 1 hour on 2 workers), the report.
set -eu
cd "$(dirname "$0")"
if [ -e results/replay.sqlite ]; then
    echo "results/replay.sqlite exists: move it away to remake it from scratch" >&2
    exit 2
fi
python calibrate.py --runs 2000
mecopt bench run replay.toml --db results/replay.sqlite --workers 2
python report.py --db results/replay.sqlite --out results
