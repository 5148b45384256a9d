"""Arguments shared by the sub-commands that take an instance."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mecopt.instance import Instance
from mecopt.scenarios import available_scenarios, scenario


def add_instance_arguments(parser: argparse.ArgumentParser, *, default_users: int | None = None,
                           default_scenario: str | None = None) -> None:
    """Add ``--scenario/--users/--seed`` or ``--instance FILE`` plus option overrides."""
    g = parser.add_argument_group("instance (a scenario, or a JSON file)")
    g.add_argument("--instance", metavar="FILE", help="instance JSON file (mecopt.instance schema)")
    g.add_argument("--scenario", default=default_scenario,
                   help=f"scenario name ({', '.join(available_scenarios())})")
    g.add_argument("--users", type=int, default=default_users, metavar="N", help="number of users")
    g.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the scenario and of every random choice (default 0)")
    g.add_argument("--tau", type=float, help="uncertainty rule threshold (alpha > tau offloads)")
    g.add_argument("--no-rule", action="store_true", help="disable the uncertainty rule")
    g.add_argument("--min-accuracy", type=float, help="mean served accuracy target in [0, 1]")
    g.add_argument("--interference", help="'none' or 'other-cells'")
    g.add_argument("--queue", help="'processor-sharing', 'mm1' or 'md1'")
    g.add_argument("--arrival-rate", type=float, help="queries/s per offloaded user (mm1, md1)")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any other scenario parameter, VALUE as JSON (repeatable)")


def instance_from_args(args: argparse.Namespace) -> Instance:
    """Build the instance the arguments describe.

    Raises
    ------
    ValueError
        If neither or both of ``--instance`` and ``--scenario`` are given, or an override is
        malformed.
    """
    overrides: dict[str, Any] = {}
    for name in ("tau", "min_accuracy", "interference", "queue", "arrival_rate"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    if args.no_rule:
        overrides["tau"] = None
    for item in args.set:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        try:
            overrides[key.replace("-", "_")] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key.replace("-", "_")] = raw
    if args.instance:
        if args.scenario:
            raise ValueError("give either --instance or --scenario, not both")
        inst = Instance.from_json(args.instance)
        return inst.replace(**overrides) if overrides else inst
    if not args.scenario:
        raise ValueError("no instance: give --instance FILE or --scenario NAME --users N")
    if args.users is None:
        raise ValueError("--users N is required with --scenario")
    return scenario(args.scenario, args.users, args.seed, **overrides)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--time-limit``, ``--threads`` and ``--json``."""
    parser.add_argument("--time-limit", type=float, metavar="SECONDS",
                        help="wall-clock limit per solve")
    parser.add_argument("--threads", type=int, help="solver threads (default: cores, at most 8)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
