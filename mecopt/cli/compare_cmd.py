"""``mecopt compare``: several solvers on one instance, as a table."""

from __future__ import annotations

import argparse
import json

from mecopt.cli.common import (
    add_instance_arguments,
    add_run_arguments,
    instance_from_args,
    progress_printer,
    seed_of,
)
from mecopt.compare import compare
from mecopt.solve import EXACT_SOLVERS, HEURISTICS, available_solvers


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="compare several solvers on one instance",
        description="Run several solvers on one instance: delay, accuracy, offloaded users, "
                    "gap to the best proven bound, runtime.")
    p.add_argument("--solvers", default=None,
                   help="comma-separated solver names (default: every available exact solver "
                        "and heuristic)")
    add_instance_arguments(p)
    add_run_arguments(p)
    p.add_argument("--plot", metavar="FILE", help="also draw the comparison (PNG, PDF, SVG)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on standard error")
    p.set_defaults(func=run)


def default_solvers() -> list[str]:
    """Every available exact MILP solver and every heuristic."""
    have = set(available_solvers())
    return [s for s in (*EXACT_SOLVERS, *HEURISTICS) if s in have]


def run(args: argparse.Namespace) -> int:
    inst = instance_from_args(args)
    names = [s.strip() for s in args.solvers.split(",") if s.strip()] if args.solvers \
        else default_solvers()
    if not names:
        raise ValueError("--solvers: no solver named")
    comp = compare(inst, names, time_limit=args.time_limit, seed=seed_of(args),
                   threads=args.threads,
                   progress=progress_printer(args.quiet))
    if args.plot:
        from mecopt.plotting import describe, plot_comparison

        plot_comparison(comp, args.plot, title=describe(inst), min_accuracy=inst.min_accuracy)
    if args.json:
        print(json.dumps({"instance": inst.meta, "best_bound": comp.best_bound,
                          "rows": comp.rows(),
                          "results": [r.to_dict() for r in comp.results]}, indent=1))
    else:
        print(repr(inst))
        print(comp.table())
    return 0
