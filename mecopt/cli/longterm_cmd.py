"""``mecopt longterm``: simulate a policy over time, compare policies, the hindsight optimum."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: Online policies ``compare`` runs by default (plus ``hindsight`` when installed).
DEFAULT_COMPARE = ("local", "offload", "random", "greedy", "goa", "myopic-optimal", "lyapunov")


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _pairs(items: list[str], flag: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} {item!r}: expected KEY=VALUE")
        out[key.replace("-", "_")] = _value(raw)
    return out


def _scenario_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("trace")
    g.add_argument("--scenario", default="default", help="long-term scenario (default: default)")
    g.add_argument("--devices", type=int, metavar="U", help="number of devices")
    g.add_argument("--horizon", type=int, default=500, metavar="T", help="slots (default 500)")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="scenario parameter, VALUE as JSON (repeatable), e.g. "
                        "--set energy_budget_j=0.06 --set profile='\"babi-tiny\"'")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _trace(args: argparse.Namespace) -> Any:
    import mecopt.longterm as lt

    if getattr(args, "trace", None):
        if args.set:
            raise ValueError("--set cannot change a trace loaded with --trace")
        return lt.Trace.load(args.trace)[0]
    if args.devices is None:
        raise ValueError("--devices U is required (or --trace FILE)")
    return lt.trace(args.scenario, n_devices=args.devices, horizon=args.horizon,
                    seed=args.seed, **_pairs(args.set, "--set"))


def _progress(total: int, desc: str, off: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="slot", disable=off, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.5)


def _simulate(args: argparse.Namespace) -> int:
    import mecopt.longterm as lt

    tr = _trace(args)
    if args.save_trace:
        tr.save(args.save_trace)
    options = _pairs(args.option, "--option")
    lt.make_policy(args.policy, **options)  # validate before the run starts
    with _progress(tr.horizon, args.policy, args.no_progress) as bar:
        last = [0]

        def tick(done: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        r = lt.run(tr, args.policy, seed=args.policy_seed, progress=tick, **options)
    if args.save:
        r.save(args.save)
    if args.json:
        print(json.dumps({"scenario": tr.scenario.to_dict(), "trace_seed": tr.seeds[0],
                          **r.summary_dict(), "energy": r.energy.tolist()}, indent=1,
                         default=str))
    else:
        print(repr(tr))
        print(r.summary())
    return 0


def _compare(args: argparse.Namespace) -> int:
    import mecopt.longterm as lt
    from mecopt.longterm.compare import compare, summarise, to_markdown

    if args.policies:
        names = [s.strip() for s in args.policies.split(",") if s.strip()]
    else:
        names = [p for p in DEFAULT_COMPARE + ("hindsight",) if p in lt.available_policies()]
    if not names:
        raise ValueError("--policies: no policy named")
    per_policy: dict[str, dict[str, Any]] = {}
    for key, value in _pairs(args.option, "--option").items():
        policy, dot, opt = key.partition(".")
        if not dot:
            raise ValueError(f"--option {key}: expected POLICY.KEY=VALUE")
        per_policy.setdefault(policy, {})[opt] = value
    unknown = sorted(set(per_policy) - set(names))
    if unknown:
        raise ValueError(f"--option names policies not compared: {', '.join(unknown)}")
    entries = [{"name": n, "options": per_policy.get(n, {})} for n in names]
    devices = args.devices_list or ([args.devices] if args.devices else None)
    if not devices:
        raise ValueError("--devices U (or --devices-list U1 U2 ...) is required")
    overrides = _pairs(args.set, "--set")
    lt.make_scenario(args.scenario, **overrides)  # validate before the sweep starts
    rows = compare(entries, devices=devices, horizon=args.horizon, seeds=args.seeds,
                   scenario=args.scenario, overrides=overrides, store=args.db,
                   workers=args.workers, progress=not args.no_progress)
    summary = summarise(rows)
    if args.plot:
        from mecopt.longterm.plots import plot_latency_vs_devices

        plot_latency_vs_devices(summary, args.plot)
    if args.json:
        print(json.dumps({"summary": summary, "rows": rows}, indent=1, default=str))
    else:
        print(f"scenario {args.scenario!r}, T = {args.horizon}, seeds {list(args.seeds)} "
              "(measured on simulated traces; modelled scenario)")
        print(to_markdown(summary), end="")
        errors = [r for r in rows if r["status"] in ("error", "timeout", "crashed")]
        for r in errors[:5]:
            print(f"  {r['solver']} U={r['n_users']} seed={r['seed']}: {r['status']}: "
                  f"{r['message']}", file=sys.stderr)
    return 0


def _hindsight(args: argparse.Namespace) -> int:
    import mecopt.longterm as lt

    tr = _trace(args)
    options = _pairs(args.option, "--option")
    if args.time_limit is not None:
        options["time_limit"] = args.time_limit
    lt.make_policy("hindsight", **options)  # a clear error when it is not installed
    r = lt.run(tr, "hindsight", seed=args.seed, **options)
    if args.json:
        print(json.dumps({**r.summary_dict(), "energy": r.energy.tolist()}, indent=1,
                         default=str))
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
    p.add_argument("--seed", type=int, default=0, help="trace seed (default 0)")
    p.add_argument("--policy", default="lyapunov", help="policy name (default lyapunov)")
    p.add_argument("--policy-seed", type=int, default=0,
                   help="seed of the policy's own random stream (default 0)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="policy option, e.g. --option V=50 (repeatable)")
    p.add_argument("--trace", metavar="FILE", help="load the trace from FILE (.npz)")
    p.add_argument("--save-trace", metavar="FILE", help="write the trace to FILE (.npz)")
    p.add_argument("--save", metavar="FILE", help="write the rollout to FILE (.npz)")
    p.set_defaults(func=_simulate)

    p = lsub.add_parser("compare", help="compare policies over devices and seeds (a sweep)")
    _scenario_args(p)
    p.add_argument("--devices-list", type=int, nargs="+", metavar="U",
                   help="several numbers of devices")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="trace seeds (default 0)")
    p.add_argument("--policies", help="comma-separated policy names (default: all available)")
    p.add_argument("--option", action="append", default=[], metavar="POLICY.KEY=VALUE",
                   help="policy option, e.g. --option lyapunov.V=50 (repeatable)")
    p.add_argument("--workers", type=int, default=1, help="runs at a time (default 1)")
    p.add_argument("--db", type=Path, metavar="FILE", help="keep the rows in this SQLite "
                   "store (resumable); default in memory")
    p.add_argument("--plot", metavar="FILE", help="latency vs devices plot (PNG, PDF, SVG)")
    p.set_defaults(func=_compare)

    p = lsub.add_parser("hindsight", help="the full-horizon optimum of one trace")
    _scenario_args(p)
    p.add_argument("--seed", type=int, default=0, help="trace seed (default 0)")
    p.add_argument("--trace", metavar="FILE", help="load the trace from FILE (.npz)")
    p.add_argument("--time-limit", type=float, metavar="SECONDS", help="solver time limit")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="option of the hindsight solver (repeatable)")
    p.set_defaults(func=_hindsight)
