"""``mecopt export-model``: the exact MILP of an instance as an LP or MPS file."""

from __future__ import annotations

import argparse

from mecopt.instance import Instance
from mecopt.model_export import MODEL_FORMATS, export_model


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``export-model``."""
    p = sub.add_parser(
        "export-model", help="write the instance's MILP as .lp or .mps for any MILP solver",
        description="Write the count-indexed MILP of a JSON instance (objective: total delay "
                    "in ms; exact for interference 'none', a lower bound otherwise).")
    p.add_argument("instance", metavar="FILE", help="instance JSON file")
    p.add_argument("-o", "--output", required=True,
                   help=f"model file ({' or '.join(MODEL_FORMATS)})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    inst = Instance.from_json(args.instance)
    path = export_model(inst, args.output)
    print(f"{inst!r} -> {path} (objective: total delay in ms; divide by N = {inst.n_users} "
          "for the mean)")
    return 0
