"""Arguments shared by the sub-commands that take an instance."""

from __future__ import annotations

import argparse
import dataclasses
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
        if args.tau is not None:
            raise ValueError("--tau and --no-rule contradict each other: give one")
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
        given = [flag for flag, value in (("--scenario", args.scenario), ("--users", args.users))
                 if value is not None]
        if given:
            raise ValueError(f"--instance FILE fixes the instance; {' and '.join(given)} "
                             "would be ignored: give either --instance or --scenario/--users")
        inst = Instance.from_json(args.instance)
        if not overrides:
            return inst
        fields = {f.name for f in dataclasses.fields(Instance)}
        unknown = sorted(set(overrides) - fields)
        if unknown:
            raise ValueError(f"--set {', '.join(unknown)}: not a field of the instance file; "
                             "scenario parameters need --scenario, not --instance")
        return inst.replace(**overrides)
    if not args.scenario:
        raise ValueError("no instance: give --instance FILE or --scenario NAME --users N")
    if args.users is None:
        raise ValueError("--users N is required with --scenario")
    if args.users < 1:
        raise ValueError(f"--users {args.users}: must be >= 1")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed {args.seed}: must be >= 0")
    return scenario(args.scenario, args.users, seed_of(args), **overrides)


def seed_of(args: argparse.Namespace) -> int:
    """The seed the arguments give (0 when none was given)."""
    return 0 if args.seed is None else int(args.seed)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--time-limit``, ``--threads`` and ``--json``."""
    parser.add_argument("--time-limit", type=float, metavar="SECONDS",
                        help="wall-clock limit per solve")
    parser.add_argument("--threads", type=int, help="solver threads (default: cores, at most 8)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def progress_printer(quiet: bool) -> Any:
    """A :func:`mecopt.compare.compare` progress callback printing one line per solver to
    standard error (``None`` when ``quiet``)."""
    if quiet:
        return None
    import sys

    def show(k: int, total: int, name: str, result: Any) -> None:
        if result is None:
            print(f"[{k + 1}/{total}] {name} ...", end="", file=sys.stderr, flush=True)
        else:
            delay = "-" if result.objective is None else f"{result.objective * 1e3:.3f} ms"
            print(f" {result.status}, {delay}, {result.runtime:.2f} s", file=sys.stderr,
                  flush=True)

    return show
