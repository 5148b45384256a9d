"""``mecopt longterm``: simulate a policy over time, compare policies, the hindsight optimum."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mecopt.cli.common import (
    check_output_file,
    nonempty_path,
    parse_pairs,
    print_json,
    quiet_numpy,
)

#: Online policies ``compare`` runs by default (plus ``hindsight`` when installed).
DEFAULT_COMPARE = ("local", "offload", "random", "greedy", "goa", "myopic-optimal", "lyapunov")


def _scenario_args(p: argparse.ArgumentParser, *, trace_file: bool = True) -> None:
    g = p.add_argument_group("trace")
    g.add_argument("--scenario", help="long-term scenario (default: default)")
    g.add_argument("--devices", type=int, metavar="U", help="number of devices")
    g.add_argument("--horizon", type=int, metavar="T", help=f"slots (default {HORIZON})")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="scenario parameter, VALUE as JSON (repeatable), e.g. "
                        "--set energy_budget_j=0.06 --set profile='\"babi-tiny\"'")
    if trace_file:
        g.add_argument("--seed", type=int, help="trace seed (default 0)")
        g.add_argument("--trace", metavar="FILE", type=nonempty_path,
                       help="load the trace from FILE (.npz) instead of drawing one")
        g.add_argument("--member", type=int, metavar="K",
                       help="member K of a loaded trace of several (B > 1) members")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


#: Default number of slots of a drawn trace.
HORIZON = 500


def _trace(args: argparse.Namespace) -> Any:
    import mecopt.longterm as lt

    if args.trace:
        given = [flag for flag, value in (("--scenario", args.scenario),
                                          ("--devices", args.devices),
                                          ("--horizon", args.horizon), ("--seed", args.seed),
                                          ("--set", args.set or None)) if value is not None]
        if given:
            raise ValueError(f"--trace FILE fixes the trace; {', '.join(given)} would be "
                             "ignored: give either --trace or the trace parameters")
        tr = lt.Trace.load(args.trace)
        if args.member is None:
            if tr.batch > 1:
                raise ValueError(f"--trace {args.trace}: the file holds B = {tr.batch} members "
                                 f"(seeds {list(tr.seeds)[:5]}); choose one with --member K")
            return tr
        if not 0 <= args.member < tr.batch:
            raise ValueError(f"--member {args.member}: must lie in 0..{tr.batch - 1}")
        return tr[args.member]
    if args.member is not None:
        raise ValueError("--member K picks a member of a trace loaded with --trace FILE")
    if args.devices is None:
        raise ValueError("--devices U is required (or --trace FILE)")
    horizon = HORIZON if args.horizon is None else args.horizon
    for flag, value, low in (("--devices", args.devices, 1), ("--horizon", horizon, 1),
                             ("--seed", args.seed, 0)):
        if value is not None and value < low:
            raise ValueError(f"{flag} {value}: must be >= {low}")
    return lt.trace(args.scenario or "default", n_devices=args.devices, horizon=horizon,
                    seed=0 if args.seed is None else args.seed, **parse_pairs(args.set, "--set"))


def _options(args: argparse.Namespace, policy: str) -> dict[str, Any]:
    """The ``--option`` pairs of one policy, checked before the trace is drawn."""
    from mecopt.longterm.run import build_policy

    options = parse_pairs(args.option, "--option")
    if "seed" in options:
        raise ValueError(f"--option seed={options['seed']!r}: the policy's seed is "
                         + ("--policy-seed" if hasattr(args, "policy_seed") else "--seed")
                         + ", not an --option")
    build_policy(policy, **options)  # validates names, types and ranges up front
    return options


def _progress(total: int, desc: str, off: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="slot", disable=off, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.5)


def _simulate(args: argparse.Namespace) -> int:
    import mecopt.longterm as lt

    if args.policy_seed < 0:
        raise ValueError(f"--policy-seed {args.policy_seed}: must be >= 0")
    for flag, path in (("--save-trace", args.save_trace), ("--save", args.save)):
        if path is not None:
            check_output_file(path, flag)
    options = _options(args, args.policy)
    tr = _trace(args)
    if args.save_trace:
        tr.save(args.save_trace)
    with _progress(tr.horizon, args.policy, args.no_progress) as bar, quiet_numpy():
        last = [0]

        def tick(done: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        r = lt.run(tr, args.policy, seed=args.policy_seed, progress=tick, **options)
    if args.save:
        r.save(args.save)
    if args.json:
        print_json({"scenario": tr.scenario.to_dict(), "trace_seed": tr.seeds[0],
                    **r.summary_dict(), "energy": r.energy.tolist()})
    else:
        print(repr(tr))
        print(r.summary())
    return 0


def _compare(args: argparse.Namespace) -> int:
    import mecopt.longterm as lt
    from mecopt.longterm.policy_comparison import compare, summarise

    entries = _compare_entries(args)
    devices, horizon = _compare_sizes(args)
    if not 1 <= args.workers <= 1024:
        raise ValueError(f"--workers {args.workers}: must lie in 1..1024")
    if args.db is not None:
        _check_store(args.db)
    if args.plot is not None:
        check_output_file(args.plot, "--plot", (".png", ".pdf", ".svg"))
    scenario = args.scenario or "default"
    overrides = parse_pairs(args.set, "--set")
    lt.make_scenario(scenario, **overrides)  # validate before the sweep starts
    with quiet_numpy():
        rows = compare(entries, devices=devices, horizon=horizon, seeds=args.seeds,
                       scenario=scenario, overrides=overrides, store=args.db,
                       workers=args.workers, progress=not args.no_progress)
        summary = summarise(rows)
    if args.plot:
        from mecopt.longterm.plots import comparison_title, plot_latency_vs_devices

        plot_latency_vs_devices(summary, args.plot,
                                title=comparison_title(scenario, horizon, args.seeds))
    if args.json:
        print_json({"summary": summary, "rows": rows})
    else:
        _print_comparison(summary, rows, scenario, horizon, args.seeds)
    return 0


def _compare_entries(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The compared policies with their ``--option`` settings, each built once to check
    its name, options and files before the sweep starts."""
    import mecopt.longterm as lt
    from mecopt.longterm.run import build_policy

    if args.policies is not None:
        names = [s.strip() for s in args.policies.split(",") if s.strip()]
    else:
        names = [p for p in DEFAULT_COMPARE + ("hindsight",) if p in lt.available_policies()]
    if not names:
        raise ValueError("--policies: no policy named")
    if len(set(names)) != len(names):
        raise ValueError(f"--policies {args.policies}: a policy is named twice")
    per_policy: dict[str, dict[str, Any]] = {}
    for key, value in parse_pairs(args.option, "--option").items():
        policy, dot, opt = key.rpartition(".")
        if not dot or not policy or not opt:
            raise ValueError(f"--option {key}: expected POLICY.KEY=VALUE")
        per_policy.setdefault(policy, {})[opt] = value
    unknown = sorted(set(per_policy) - set(names))
    if unknown:
        raise ValueError(f"--option names policies not compared: {', '.join(unknown)}")
    for name in names:  # unknown names and options, bad values, missing policy files
        opts = per_policy.get(name, {})
        if "seed" in opts:
            raise ValueError(f"--option {name}.seed: each run's policy seed is its trace seed "
                             "(--seeds), not an --option")
        try:
            build_policy(name, **opts)
        except (ValueError, FileNotFoundError) as exc:
            raise ValueError(f"--policies {name}: {exc}") from None
    return [{"name": n, "options": per_policy.get(n, {})} for n in names]


def _compare_sizes(args: argparse.Namespace) -> tuple[list[int], int]:
    """The numbers of devices and the horizon of a comparison (the seeds checked too)."""
    from mecopt.longterm.trace_draw import check_trace_size

    if args.devices_list and args.devices is not None:
        raise ValueError("give --devices U or --devices-list U1 U2 ..., not both")
    devices = args.devices_list or ([args.devices] if args.devices is not None else None)
    if not devices:
        raise ValueError("--devices U (or --devices-list U1 U2 ...) is required")
    horizon = HORIZON if args.horizon is None else args.horizon
    if horizon < 1:
        raise ValueError(f"--horizon {horizon}: must be >= 1")
    for u in devices:
        if u < 1:
            raise ValueError(f"--devices {u}: must be >= 1")
        check_trace_size(u, horizon)
    if any(s < 0 for s in args.seeds):
        raise ValueError(f"--seeds {args.seeds}: seeds must be >= 0")
    return devices, horizon


def _print_comparison(summary: list[dict[str, Any]], rows: list[dict[str, Any]],
                      scenario: str, horizon: int, seeds: list[int]) -> None:
    """The comparison as a table, and the first failed runs on stderr."""
    from mecopt.longterm.policy_comparison import to_markdown

    print(f"scenario {scenario!r}, T = {horizon}, seeds {list(seeds)} "
          "(measured on simulated traces; modelled scenario)")
    print(to_markdown(summary), end="")
    errors = [r for r in rows if r["status"] in ("error", "timeout", "crashed")]
    for r in errors[:5]:
        print(f"  {r['solver']} U={r['n_users']} seed={r['seed']}: {r['status']}: "
              f"{r['message']}", file=sys.stderr)


#: First bytes of every SQLite database file.
_SQLITE_HEADER = b"SQLite format 3\x00"


def _check_store(path: Path) -> None:
    """``--db FILE``: a new file in an existing folder, or an existing SQLite database."""
    check_output_file(path, "--db")
    if path.exists():
        try:
            with open(path, "rb") as fh:
                head = fh.read(len(_SQLITE_HEADER))
        except OSError as exc:
            raise ValueError(f"--db {str(path)!r}: cannot be read ({exc.strerror})") from None
        if head and head != _SQLITE_HEADER:
            raise ValueError(f"--db {str(path)!r}: not a SQLite database (a result store); "
                             "give a new file name or a store written by mecopt")


def _hindsight(args: argparse.Namespace) -> int:
    import mecopt.longterm as lt

    options = parse_pairs(args.option, "--option")
    if args.time_limit is not None:
        if "time_limit" in options:
            raise ValueError("give --time-limit or --option time_limit=..., not both")
        options["time_limit"] = args.time_limit
    if "seed" in options:
        raise ValueError(f"--option seed={options['seed']!r}: the hindsight seed is --seed, "
                         "not an --option")
    from mecopt.longterm.run import build_policy

    build_policy("hindsight", **options)  # a clear error when it is not installed
    tr = _trace(args)
    with quiet_numpy():
        r = lt.run(tr, "hindsight", seed=tr.seeds[0], **options)
    if args.json:
        print_json({**r.summary_dict(), "energy": r.energy.tolist()})
    else:
        print(repr(tr))
        print(r.summary())
        for key in ("status", "bound", "gap"):
            if key in r.info:
                print(f"  {key:<16} {r.info[key]}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "longterm", help="long-term offloading: simulate, compare policies, hindsight optimum",
        description="Long-term offloading over slots with energy, accuracy and hallucination "
                    "constraints (mecopt.longterm).")
    lsub = parser.add_subparsers(dest="longterm_command", metavar="ACTION")
    lsub.required = True

    p = lsub.add_parser("simulate", help="run one policy on one trace")
    _scenario_args(p)
    p.add_argument("--policy", default="lyapunov", help="policy name (default lyapunov)")
    p.add_argument("--policy-seed", type=int, default=0,
                   help="seed of the policy's own random stream (default 0)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="policy option, e.g. --option V=50 (repeatable)")
    p.add_argument("--save-trace", metavar="FILE", type=nonempty_path,
                   help="write the trace to FILE (.npz)")
    p.add_argument("--save", metavar="FILE", type=nonempty_path,
                   help="write the rollout to FILE (.npz)")
    p.set_defaults(func=_simulate)

    p = lsub.add_parser("compare", help="compare policies over devices and seeds (a sweep)")
    _scenario_args(p, trace_file=False)
    p.add_argument("--devices-list", type=int, nargs="+", metavar="U",
                   help="several numbers of devices")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="trace seeds (default 0)")
    p.add_argument("--policies", help="comma-separated policy names (default: all available)")
    p.add_argument("--option", action="append", default=[], metavar="POLICY.KEY=VALUE",
                   help="policy option, e.g. --option lyapunov.V=50 (repeatable)")
    p.add_argument("--workers", type=int, default=1, help="runs at a time (default 1)")
    p.add_argument("--db", type=lambda t: Path(nonempty_path(t)), metavar="FILE",
                   help="keep the rows in this SQLite store (resumable); default in memory")
    p.add_argument("--plot", metavar="FILE", type=nonempty_path,
                   help="latency vs devices plot (PNG, PDF, SVG)")
    p.set_defaults(func=_compare)

    p = lsub.add_parser("hindsight", help="the full-horizon optimum of one trace")
    _scenario_args(p)
    p.add_argument("--time-limit", type=float, metavar="SECONDS", help="solver time limit")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="option of the hindsight solver (repeatable)")
    p.set_defaults(func=_hindsight)
