"""``mecopt solve``: solve one instance with one solver."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mecopt.cli.common import (
    add_instance_arguments,
    add_run_arguments,
    instance_from_args,
    seed_of,
)
from mecopt.solve import solve


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("solve", help="solve one instance with one solver",
                       description="Solve one instance with one solver and print the result.")
    p.add_argument("--solver", default="highs",
                   help="solver name (see 'mecopt solvers'); default highs")
    add_instance_arguments(p)
    add_run_arguments(p)
    p.add_argument("-o", "--output", metavar="FILE", help="also write the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inst = instance_from_args(args)
    res = solve(inst, args.solver, time_limit=args.time_limit, seed=seed_of(args),
                threads=args.threads)
    doc = {"instance": inst.meta, **res.to_dict()}
    if args.output:
        Path(args.output).write_text(json.dumps(doc, indent=1))
    print(json.dumps(doc, indent=1) if args.json else res.summary())
    return 0 if res.status != "no_solution" else 1
