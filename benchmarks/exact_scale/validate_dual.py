"""Check the per-ES Lagrangian interference bound against proven optima of the
count-intervals method (kim2026-published, N = 20-30).

Usage (from this folder)::

    python validate_dual.py [--cases 20:0,20:1,24:0,26:1,30:0] [--out validate_dual.md]

For each case: ``highs`` with ``formulation="count-intervals"`` (exact, 600 s limit, one
thread) proves the optimum; then
:func:`mecopt.formulations.interference_dual.dual_bound` runs from the optimum's congestion
prices and interference (60 bundle steps, no time limit, the grid focused on the optimum's
interference as the driver focuses it on its incumbent's). The bound must not exceed the
optimum; the gap between them is what the bound leaves. Every figure is measured on a
shared machine (the load average is in the table).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

import mecopt
from mecopt.channel import INTERFERENCE
from mecopt.formulations.interference_dual import dual_bound
from mecopt.formulations.layers import LayerCosts
from mecopt.formulations.pricing import start_multipliers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="20:0,20:1,24:0,26:1,30:0")
    parser.add_argument("--out", default="validate_dual.md")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "# The per-ES Lagrangian interference bound against proven optima (measured)",
        "",
        'kim2026-published (tau 0.6); optimum: `highs`, `formulation="count-intervals"`, '
        "600 s limit, 1 thread; bound: `dual_bound` from the optimum's congestion prices, "
        "grid focused on its interference, 60 bundle steps; commit "
        f"{commit}. Remake with `python validate_dual.py`.",
        "",
        "| N | seed | count-intervals status | optimum (ms) | its gap | time (s) | dual bound "
        "(ms) | bound <= optimum | bound below optimum | bound time (s) | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in args.cases.split(","):
        n, seed = (int(x) for x in case.split(":"))
        inst = mecopt.scenario("kim2026-published", n, seed=seed)
        t0 = time.perf_counter()
        ref = mecopt.solve(inst, "highs", formulation="count-intervals", time_limit=600, threads=1)
        t_ref = time.perf_counter() - t0
        u0 = start_multipliers(LayerCosts.of(inst.replace(interference="none")), ref.assignment)
        t0 = time.perf_counter()
        focus = INTERFERENCE.get("other-cells").interference(inst, ref.assignment)
        b = dual_bound(inst, u0, ref.objective, deadline=None, max_iter=60, focus=focus)
        t_b = time.perf_counter() - t0
        ok = b <= ref.objective * (1 + 1e-9)
        lines.append(
            f"| {n} | {seed} | {ref.status} | {1e3 * ref.objective:.4f} | "
            f"{ref.gap:.1e} | {t_ref:.1f} | {1e3 * b:.4f} | {'yes' if ok else 'NO'} | "
            f"{100 * (ref.objective - b) / ref.objective:.3f} % | {t_b:.1f} | "
            f"{os.getloadavg()[0]:.1f} |"
        )
        print(lines[-1], flush=True)
        if not ok:
            raise SystemExit(
                f"bound {b} exceeds the optimum {ref.objective} (N = {n}, seed {seed})"
            )
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
