"""``mecopt demo``: the main job on the embedded default scenario."""

from __future__ import annotations

import argparse
from pathlib import Path

from mecopt.cli.common import progress_printer
from mecopt.cli.compare_cmd import default_solvers
from mecopt.compare import compare
from mecopt.plotting import describe, plot_comparison
from mecopt.scenarios import scenario


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="solve the default scenario with every solver (table and plot)",
        description="Solve kim2026 at N = 60 with every exact solver and heuristic; print the "
                    "comparison table and write a PNG plot.")
    p.add_argument("--users", type=int, default=60, metavar="N", help="number of users (60)")
    p.add_argument("--seed", type=int, default=0, help="scenario seed (0)")
    p.add_argument("--time-limit", type=float, default=120.0, metavar="SECONDS",
                   help="limit per exact solve (120)")
    p.add_argument("-o", "--output", default="mecopt-demo.png", metavar="FILE",
                   help="plot file (mecopt-demo.png)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on standard error")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inst = scenario("kim2026", args.users, args.seed)
    print(f"{inst!r}  (scenario kim2026, seed {args.seed}; synthetic accuracy curve)")
    comp = compare(inst, default_solvers(), time_limit=args.time_limit, seed=args.seed,
                   progress=progress_printer(args.quiet))
    print(comp.table())
    written = plot_comparison(comp, Path(args.output), title=describe(inst),
                              min_accuracy=inst.min_accuracy)
    print(f"plot written to {', '.join(map(str, written))}")
    return 0
