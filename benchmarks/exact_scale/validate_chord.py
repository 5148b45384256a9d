"""Check the interference search with the chord model against proven optima of the
count-intervals method (kim2026-published, N = 20-30, tau 0.6 and 1.0).

Usage (from this folder)::

    python validate_chord.py [--cases 20:0,20:1,...] [--taus 0.6,1.0] [--out validate_chord.md]

For each case: ``highs`` with ``formulation="count-intervals"`` (exact, 600 s limit, one
thread) proves the optimum. Then :func:`mecopt.solvers.exact.interference_dual.search`
runs from the ``lns`` answer (2 s), with two threads and no deadline (its own 60 s
budget): the Lagrangian ascent over all count vectors, the listing of the vectors still
below the incumbent and the chord model's branch and bound over them. Its answer must be
the optimum (within the requested gap, 1e-4) and its bound must not exceed the optimum.
Every figure is measured (the load average is in the table).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

import mecopt
from mecopt.solvers.exact.interference_dual import search

CASES = "20:0,20:1,24:0,26:1,30:0,30:1"
GAP = 1e-4


def _case(n_users: int, seed: int, tau: float) -> dict:
    inst = mecopt.scenario("kim2026-published", n_users, seed, tau=tau)
    ref = mecopt.solve(inst, "highs", formulation="count-intervals", time_limit=600, threads=1)
    start = mecopt.solve(inst, "lns", time_limit=2, seed=0)
    began = time.perf_counter()
    cpu = time.process_time()
    found, bound = search(inst, start.assignment, start.objective, GAP, None, 2)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    answer = mecopt.evaluate(inst, start.assignment if found is None else found).objective
    return {"n": n_users, "seed": seed, "tau": tau, "ref": ref, "start": start.objective,
            "answer": answer, "bound": bound, "seconds": seconds, "cpu": cpu,
            "load": os.getloadavg()[0]}


def _row(r: dict) -> str:
    ref = r["ref"]
    opt = ref.objective
    proven = ref.status == "optimal"
    same = abs(r["answer"] - opt) <= GAP * opt
    below = r["bound"] is not None and r["bound"] <= opt * (1 + 1e-9)
    gap = (r["answer"] - r["bound"]) / r["answer"] if r["bound"] is not None else float("nan")
    return (f"| {r['n']} | {r['seed']} | {r['tau']:g} | {opt * 1e3:.4f} | "
            f"{'yes' if proven else 'no'} ({ref.runtime:.1f} s) | "
            f"{(r['start'] - opt) / opt:.4%} | {(r['answer'] - opt) / opt:.5%} | {gap:.5%} | "
            f"{r['seconds']:.1f}, {r['cpu']:.1f} | {'yes' if same else 'NO'} | "
            f"{'yes' if below else 'NO'} | {r['load']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=CASES)
    parser.add_argument("--taus", default="0.6,1.0")
    parser.add_argument("--out", default="validate_chord.md")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    lines = [
        "# The interference search with the chord model against proven optima (measured)",
        "",
        "kim2026-published; optimum: `highs`, `formulation=\"count-intervals\"`, 600 s "
        "limit, 1 thread; search: `mecopt.solvers.exact.interference_dual.search` from the "
        f"`lns` answer (2 s), 2 threads, its own 60 s budget, gap {GAP:g}; commit {commit}. "
        "Remake with `python validate_chord.py`. The answer must be the optimum within the "
        "gap, and the bound must not exceed the optimum.",
        "",
        "| N | seed | tau | optimum (ms) | count-intervals proven (time) | lns above optimum "
        "| search answer above optimum | search gap | search time, CPU (s) | answer = optimum "
        "| bound <= optimum | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for tau in (float(x) for x in args.taus.split(",")):
        for case in args.cases.split(","):
            n_users, seed = (int(x) for x in case.split(":"))
            lines.append(_row(_case(n_users, seed, tau)))
            print(lines[-1], flush=True)
    Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
