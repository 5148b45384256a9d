"""``mecopt instance``: write an instance as JSON, or check and describe a JSON file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mecopt.cli.common import add_instance_arguments, instance_from_args
from mecopt.instance import Instance


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``instance export`` and ``instance check``."""
    parser = sub.add_parser("instance", help="export an instance as JSON, or check a JSON file",
                            description="Instances as files (the mecopt.instance JSON schema).")
    acts = parser.add_subparsers(dest="instance_command", metavar="ACTION")
    acts.required = True
    p = acts.add_parser("export", help="write a scenario's instance (with overrides) as JSON")
    add_instance_arguments(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="JSON file to write")
    p.set_defaults(func=_export)
    p = acts.add_parser("check", help="validate a JSON instance file and describe it")
    p.add_argument("file", help="instance JSON file")
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    p.set_defaults(func=_check)


def _export(args: argparse.Namespace) -> int:
    inst = instance_from_args(args)
    out = Path(args.output)
    if out.suffix.lower() != ".json":
        raise ValueError(f"--output {out}: instances are written as .json")
    out.parent.mkdir(parents=True, exist_ok=True)
    inst.to_json(out)
    print(f"{inst!r} -> {out}")
    return 0


def _check(args: argparse.Namespace) -> int:
    inst = Instance.from_json(args.file)
    info = {"file": args.file, "valid": True, "n_users": inst.n_users,
            "n_servers": inst.n_servers, "interference": inst.interference, "queue": inst.queue,
            "tau": inst.tau, "min_accuracy": inst.min_accuracy,
            "forced_offloads": int(inst.forced.sum()), "meta": inst.meta}
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        print(f"{args.file}: valid, {inst!r}, {info['forced_offloads']} users forced to offload")
    return 0
