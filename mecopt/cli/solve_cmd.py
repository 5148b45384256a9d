"""``mecopt solve``: solve one instance with one solver."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mecopt.cli.common import add_instance_arguments, add_run_arguments, instance_from_args
from mecopt.errors import MecoptError
from mecopt.result import DEFAULT_GAP
from mecopt.solve import DEFAULT_EXACT, get_solver, solve

#: Exit code per status: 0 for an answer that meets every constraint or a proof of
#: infeasibility, 1 when there is no usable answer (nothing found, or constraints broken).
EXIT_CODES = {"optimal": 0, "feasible": 0, "infeasible": 0, "violates": 1, "no_solution": 1}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("solve", help="solve one instance with one solver",
                       description="Solve one instance with one solver and print the result.")
    p.add_argument("--solver", default=DEFAULT_EXACT,
                   help=f"solver name (see 'mecopt solvers'); default {DEFAULT_EXACT}, the "
                        "fastest exact method for the instance")
    add_instance_arguments(p)
    add_run_arguments(p)
    p.add_argument("--gap", type=float, metavar="FRACTION",
                   help=f"relative gap an exact solver must prove for status 'optimal' "
                        f"(default {DEFAULT_GAP:g}, as HiGHS and Gurobi; 0 = to the "
                        "solvers' precision)")
    p.add_argument("-o", "--output", metavar="FILE", help="also write the result as JSON")
    p.add_argument("--quiet", action="store_true",
                   help="do not print the exact solvers' progress (incumbent, bound, gap) "
                        "to stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inst = instance_from_args(args)
    options: dict[str, Any] = {}
    takes = get_solver(args.solver)[0].options
    if not args.quiet and "progress" in takes:
        options["progress"] = print_progress
    if args.gap is not None:
        if "gap" not in takes:
            raise MecoptError(f"--gap {args.gap:g}: solver {args.solver!r} proves no gap "
                              "(heuristics take none)")
        options["gap"] = args.gap
    res = solve(inst, args.solver, time_limit=args.time_limit, seed=args.seed,
                threads=args.threads, **options)
    doc = {"instance": inst.meta, **res.to_dict()}
    if args.output:
        Path(args.output).write_text(json.dumps(doc, indent=1))
    print(json.dumps(doc, indent=1) if args.json else res.summary())
    return EXIT_CODES[res.status]


def print_progress(event: dict[str, Any]) -> None:
    """One stderr line per improvement: time, incumbent and bound (ms), gap."""
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v * 1e3:.6f} ms"

    gap = event.get("gap")
    gap_text = "-" if gap is None else f"{gap:.2e}"
    print(f"[{event['time']:7.2f} s] {event['source']:<16} incumbent {ms(event['incumbent'])}"
          f"  bound {ms(event['bound'])}  gap {gap_text}", file=sys.stderr, flush=True)
