"""Arguments shared by the sub-commands that take an instance."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.channel import INTERFERENCE
from mecopt.instance import Instance
from mecopt.queues import QUEUE_MODELS
from mecopt.scenarios import available_scenarios, scenario

#: Largest number of users an instance built from the command line may have.
MAX_USERS = 1_000_000


def parse_value(text: str) -> Any:
    """A ``KEY=VALUE`` value: JSON when it parses (``0.5``, ``true``, ``"x"``, ``[1]``),
    else the text itself (``solver=highs``). ``NaN`` and ``Infinity`` stay numbers, for the
    field's own check to refuse."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return text


def parse_pairs(items: list[str], flag: str) -> dict[str, Any]:
    """``KEY=VALUE`` items as a dict (``-`` in keys read as ``_``).

    Raises
    ------
    ValueError
        For an item without ``=``, an empty key or a key given twice.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ValueError(f"{flag} {item!r}: expected KEY=VALUE")
        if key in out:
            raise ValueError(f"{flag} {key}: given twice")
        out[key] = parse_value(raw)
    return out


def nonempty_path(text: str) -> str:
    """An ``argparse`` type: a path that is not empty (``--save ""`` is an error, not a
    silent no-op)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty path")
    return text


def check_output_file(path: str | Path, flag: str, suffixes: tuple[str, ...] = ()) -> Path:
    """A file the command will write: its folder exists, it is not a folder, and its suffix
    is one of ``suffixes`` (when given). Checked before any work.

    Raises
    ------
    ValueError
        Naming the flag and the path.
    """
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{flag} {str(path)!r}: is a directory, expected a file")
    parent = p.parent
    for q in (parent, *parent.parents):
        if q.exists() and not q.is_dir():
            raise ValueError(f"{flag} {str(path)!r}: {str(q)!r} is a file, not a directory")
    if not parent.is_dir():
        raise ValueError(f"{flag} {str(path)!r}: directory {str(parent)!r} does not exist")
    if suffixes and p.suffix.lower() not in suffixes:
        raise ValueError(f"{flag} {str(path)!r}: the file name must end in one of "
                         + ", ".join(suffixes))
    return p


def finite_json(obj: Any) -> Any:
    """``obj`` with every non-finite float as ``None`` and numpy scalars and arrays as Python
    values, so ``json.dumps(..., allow_nan=False)`` prints valid JSON (never ``Infinity``)."""
    if isinstance(obj, dict):
        return {str(k): finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_json(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, str):  # numpy array or scalar
        return finite_json(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


def print_json(obj: Any) -> None:
    """Print ``obj`` as valid JSON (see :func:`finite_json`)."""
    print(json.dumps(finite_json(obj), indent=1, allow_nan=False))


@contextlib.contextmanager
def quiet_numpy() -> Iterator[None]:
    """No numpy floating-point ``RuntimeWarning`` on standard error (overflow to inf and
    the like are handled where the figures are reported)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def add_instance_arguments(parser: argparse.ArgumentParser, *, default_users: int | None = None,
                           default_scenario: str | None = None) -> None:
    """Add ``--scenario/--users/--seed`` or ``--instance FILE`` plus option overrides."""
    g = parser.add_argument_group("instance (a scenario, or a JSON file)")
    g.add_argument("--instance", metavar="FILE", type=nonempty_path,
                   help="instance JSON file (mecopt.instance schema)")
    # The defaults apply only without --instance (so that --instance FILE alone is usable).
    parser.set_defaults(instance_defaults={"scenario": default_scenario, "users": default_users})
    g.add_argument("--scenario", help=f"scenario name ({', '.join(available_scenarios())})"
                   + (f"; default {default_scenario}" if default_scenario else ""))
    g.add_argument("--users", type=int, metavar="N", help="number of users"
                   + (f" (default {default_users})" if default_users else ""))
    g.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the scenario and of every random choice (default 0)")
    g.add_argument("--tau", type=float, help="uncertainty rule threshold (alpha > tau offloads)")
    g.add_argument("--no-rule", action="store_true", help="disable the uncertainty rule")
    g.add_argument("--min-accuracy", type=float, help="mean served accuracy target in [0, 1]")
    g.add_argument("--interference", help=_one_of(INTERFERENCE))
    g.add_argument("--queue", help=_one_of(QUEUE_MODELS))
    g.add_argument("--arrival-rate", type=float, help="queries/s per offloaded user (mm1, md1)")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any other scenario parameter, VALUE as JSON (repeatable)")


def _one_of(names: Any) -> str:
    """``'a', 'b' or 'c'``: the names of a registry, for a help text."""
    quoted = [repr(n) for n in names]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]


def instance_from_args(args: argparse.Namespace) -> Instance:
    """Build the instance the arguments describe.

    Raises
    ------
    ValueError
        If neither or both of ``--instance`` and ``--scenario`` are given, or an override is
        malformed.
    """
    overrides = _overrides(args)
    if args.instance:
        return _instance_file(args, overrides)
    defaults = getattr(args, "instance_defaults", {})
    name = args.scenario if args.scenario is not None else defaults.get("scenario")
    users = args.users if args.users is not None else defaults.get("users")
    if not name:
        raise ValueError("no instance: give --instance FILE or --scenario NAME --users N")
    if users is None:
        raise ValueError("--users N is required with --scenario")
    if not 1 <= users <= MAX_USERS:
        raise ValueError(f"--users {users}: must lie in 1..{MAX_USERS:,}")
    return scenario(name, users, seed_of(args), **overrides)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The instance options the flags and ``--set`` give (the seed checked too)."""
    overrides: dict[str, Any] = {}
    for name in ("tau", "min_accuracy", "interference", "queue", "arrival_rate"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    if args.no_rule:
        if args.tau is not None:
            raise ValueError("--tau and --no-rule contradict each other: give one")
        overrides["tau"] = None
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed {args.seed}: must be >= 0")
    for key, value in parse_pairs(args.set, "--set").items():
        if key in overrides:
            raise ValueError(f"--set {key}: given by its own flag too")
        overrides[key] = value
    return overrides


def _instance_file(args: argparse.Namespace, overrides: dict[str, Any]) -> Instance:
    """The instance of ``--instance FILE`` with ``overrides`` applied to its fields."""
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
