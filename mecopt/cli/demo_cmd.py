"""``mecopt demo``: the main job on the embedded defaults, one table and one figure per part.

1. single slot: kim2026 at N = 60 with every exact solver and heuristic against the proven
   optimum (``mecopt-demo.png``);
2. long term: online and learned policies against the hindsight optimum on one trace, each
   long-term constraint shown (``mecopt-demo-longterm.png``);
3. compact variants: the variant each device class hosts, chosen jointly with the
   offloading (``mecopt-demo-variants.png``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mecopt.cli.common import progress_printer
from mecopt.demo.settings import PARTS, DemoSettings

#: File suffix of each part's figure, added to the stem of ``--output``.
FIGURE_SUFFIX = {"single-slot": "", "longterm": "-longterm", "variants": "-variants"}


def figure_path(output: str | Path, part: str) -> Path:
    """The figure of ``part`` beside ``output`` (``mecopt-demo.png`` ->
    ``mecopt-demo-longterm.png``)."""
    out = Path(output)
    return out.with_name(out.stem + FIGURE_SUFFIX[part] + out.suffix)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the whole product on the default scenarios (tables and figures)",
        description="Single slot: kim2026 at N = 60 with every exact solver and heuristic "
        "against the proven optimum. Long term: online and learned policies "
        "against the hindsight optimum on one trace (U = 20, T = 100, seed 20). Compact "
        "variants: which variant each device class hosts. Prints a table and "
        "writes a figure per part.",
    )
    p.add_argument(
        "--users", type=int, default=60, metavar="N", help="single slot: number of users (60)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="single slot and variants: scenario seed (0); the long-term trace is seed 20, "
        "held out from the learned policies' training, tuning and evaluation",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="limit per exact solve (120)",
    )
    p.add_argument(
        "--horizon", type=int, default=100, metavar="T", help="long term: slots of the trace (100)"
    )
    p.add_argument(
        "--parts",
        default=",".join(PARTS),
        metavar="LIST",
        help=f"comma-separated parts to run ({','.join(PARTS)})",
    )
    p.add_argument(
        "-o",
        "--output",
        default="mecopt-demo.png",
        metavar="FILE",
        help="single-slot figure (mecopt-demo.png); the other parts' figures go "
        "beside it as STEM-longterm and STEM-variants",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on standard error")
    p.set_defaults(func=run)


def _single_slot(settings: DemoSettings, output: Path, quiet: bool) -> list[Path]:
    from mecopt.cli.compare_cmd import default_solvers
    from mecopt.compare import compare
    from mecopt.plotting import describe, plot_comparison
    from mecopt.scenarios import scenario

    inst = scenario("kim2026", settings.users, settings.seed)
    print(f"{inst!r}  (scenario kim2026, seed {settings.seed}; synthetic accuracy curve)")
    comp = compare(
        inst,
        default_solvers(),
        time_limit=settings.time_limit,
        seed=settings.seed,
        progress=progress_printer(quiet),
    )
    print(comp.table())
    return plot_comparison(comp, output, title=describe(inst), min_accuracy=inst.min_accuracy)


def _longterm(settings: DemoSettings, output: Path, quiet: bool) -> list[Path]:
    from mecopt.demo.longterm_part import run_longterm
    from mecopt.demo.plot_longterm import plot_longterm_demo

    demo = run_longterm(settings, progress=not quiet)
    print(f"Long term: {demo.title()} (measured on a simulated trace)")
    print(demo.table())
    return plot_longterm_demo(demo, output)


def _variants(settings: DemoSettings, output: Path, quiet: bool) -> list[Path]:
    from mecopt.demo.plot_deployment import plot_deployment_demo
    from mecopt.demo.variants_part import run_deployment

    demo = run_deployment(settings)
    print(f"Compact variants: {demo.title()}")
    print(demo.table())
    return plot_deployment_demo(demo, output)


_RUN = {"single-slot": _single_slot, "longterm": _longterm, "variants": _variants}
_HEADING = {
    "single-slot": "single slot: every solver against the proven optimum",
    "longterm": "long term: online and learned policies against hindsight",
    "variants": "compact variants: what each device class hosts",
}


def run(args: argparse.Namespace) -> int:
    parts = tuple(p.strip() for p in args.parts.split(",") if p.strip())
    settings = DemoSettings(
        parts=parts,
        users=args.users,
        seed=args.seed,
        time_limit=args.time_limit,
        lt_horizon=args.horizon,
    )
    written: list[Path] = []
    for k, part in enumerate(settings.parts, 1):
        print(f"\n== {k}/{len(settings.parts)} {_HEADING[part]} ==", flush=True)
        if not args.quiet:
            print(f"[demo] {_HEADING[part]} ...", file=sys.stderr, flush=True)
        written += _RUN[part](settings, figure_path(args.output, part), args.quiet)
    print(f"\nfigures written: {', '.join(map(str, written))}")
    return 0
