"""Decision time per slot of ``priced`` on one core: wall-clock and CPU time.

Usage::

    python benchmarks/online/timing.py      # -> timing.md, timing.json

On a shared machine the wall-clock time per slot measures the contention as much as the
policy, so the CPU time of the process (``time.process_time``; one thread: HiGHS runs
with ``threads = 1``) is recorded beside it, with the load average. Held-out traces
(seeds 100-102, as in the benchmark), T = 100.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

import mecopt
import mecopt.longterm as lt

HERE = Path(__file__).parent
SIZES = (10, 20, 40)
SEEDS = (100, 101, 102)
HORIZON = 100
POLICIES = ("priced", "lyapunov")


def main() -> None:
    rows = []
    for n in SIZES:
        for seed in SEEDS:
            tr = lt.trace(n_devices=n, horizon=HORIZON, seed=seed)
            for name in POLICIES:
                load = os.getloadavg()[0]
                c0, w0 = time.process_time(), time.perf_counter()
                r = lt.run(tr, name, seed=seed)
                cpu, wall = time.process_time() - c0, time.perf_counter() - w0
                rows.append(
                    {
                        "policy": name,
                        "n_devices": n,
                        "seed": seed,
                        "decide_ms_per_slot_wall": 1e3 * r.runtime / HORIZON,
                        "run_ms_per_slot_cpu": 1e3 * cpu / HORIZON,
                        "run_ms_per_slot_wall": 1e3 * wall / HORIZON,
                        "load": load,
                    }
                )
                print(rows[-1], flush=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    meta = {
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "mecopt": mecopt.__version__,
        "threads": 1,
        "horizon": HORIZON,
    }
    (HERE / "timing.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [
        "# Decision time per slot (measured)",
        "",
        f"Commit `{commit}`, {meta['date']}, T = {HORIZON}, seeds {list(SEEDS)}, HiGHS "
        "1 thread. CPU: process time of the whole rollout (policy and simulator) per "
        "slot; wall: the policy's decisions only. The machine's 2 cores were shared "
        "with other jobs (load: 1-minute load average at the start of each run), so "
        "wall-clock times are inflated; the CPU time is the one-core cost.",
        "",
        "| policy | U | CPU ms/slot (median, max) | wall ms/slot (median) | load |",
        "|---|---|---|---|---|",
    ]
    for name in POLICIES:
        for n in SIZES:
            g = [r for r in rows if r["policy"] == name and r["n_devices"] == n]
            cpu = [r["run_ms_per_slot_cpu"] for r in g]
            lines.append(
                f"| {name} | {n} | {np.median(cpu):.1f}, {np.max(cpu):.1f} | "
                f"{np.median([r['decide_ms_per_slot_wall'] for r in g]):.1f} | "
                f"{np.median([r['load'] for r in g]):.1f} |"
            )
    (HERE / "timing.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
