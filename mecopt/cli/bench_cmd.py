"""``mecopt bench``: run sweeps, report, plot and export their results.

- ``mecopt bench run SPEC.toml [--db FILE] [--executor local|dask] [--workers N]
  [--address tcp://HOST:PORT] [--retry STATUS,...]``
- ``mecopt bench report DB [--by COLUMN ...] [--where COLUMN=VALUE ...] [--out FILE]``
- ``mecopt bench plot DB --out DIR [--where COLUMN=VALUE ...] [--tau T] [--n N]``
- ``mecopt bench export DB OUT.csv|OUT.parquet [--where COLUMN=VALUE ...]``
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _where(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, list[Any]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--where {item!r}: expected COLUMN=VALUE")
        out.setdefault(key, []).extend(_value(v) for v in value.split(","))
    return out


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _run(args: argparse.Namespace) -> int:
    from mecopt.bench import ResultStore, load_spec, make_executor, run_sweep
    from mecopt.bench.report import aggregate, to_text

    spec = load_spec(args.spec)
    db = Path(args.db) if args.db else (spec.db or Path(f"{spec.name}.sqlite"))
    if args.dry_run:
        solvers = sorted({t.label for t in spec.tasks})
        print(f"sweep {spec.name}: valid, {len(spec.tasks)} tasks ({', '.join(solvers)}); "
              f"store {db}")
        return 0
    retry = tuple(s for item in args.retry or [] for s in item.split(",") if s)
    executor = make_executor(args.executor, workers=args.workers, address=args.address)
    # A terminated sweep stops cleanly: running solves are killed, finished rows are kept.
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with ResultStore(db) as store:
            outcome = run_sweep(spec, store, executor, progress=not args.no_progress,
                                retry=retry)
            keys = {t.key for t in spec.tasks}
            rows = [r for r in store.rows({"sweep": spec.name})
                    if (r["instance_key"], r["solver"], r["seed"]) in keys]
    finally:
        signal.signal(signal.SIGTERM, previous)
        executor.close()
    print(f"sweep {spec.name}: {outcome.total} tasks, {outcome.skipped} already stored, "
          f"{outcome.ran} run now "
          f"({', '.join(f'{k} {v}' for k, v in sorted(outcome.statuses.items())) or '-'}); "
          f"store {db}")
    print(to_text(aggregate(rows)), end="")
    return 0


def _report(args: argparse.Namespace) -> int:
    from mecopt.bench import ResultStore
    from mecopt.bench.report import aggregate, to_markdown, to_text

    by = tuple(args.by) if args.by else ("solver", "n_users")
    with ResultStore.open_existing(args.db) as store:
        rows = store.rows(_where(args.where))
    if not rows:
        raise ValueError(f"no rows in {args.db} match the filters")
    stats = aggregate(rows, by)
    text = to_markdown(stats, by) if args.format == "markdown" else to_text(stats, by)
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _plot(args: argparse.Namespace) -> int:
    from mecopt.bench import ResultStore, plot_all

    with ResultStore.open_existing(args.db) as store:
        rows = store.rows(_where(args.where))
    paths = plot_all(rows, args.out, tau=args.tau, tradeoff_n=args.n,
                     formats=tuple(args.formats.split(",")), prefix=args.prefix)
    for p in paths:
        print(p)
    return 0


def _export(args: argparse.Namespace) -> int:
    from mecopt.bench import ResultStore, export_rows

    with ResultStore.open_existing(args.db) as store:
        rows = store.rows(_where(args.where))
    path = export_rows(rows, args.out, args.format)
    print(f"{len(rows)} rows -> {path}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``bench`` and its sub-commands to the ``mecopt`` parser."""
    parser = subparsers.add_parser(
        "bench", help="run benchmark sweeps; report, plot and export their results",
        description="Benchmark sweeps: optimality gaps, runtimes, scaling.")
    sub = parser.add_subparsers(dest="bench_command", metavar="SUBCOMMAND")
    sub.required = True
    where_help = "keep rows with COLUMN=VALUE (comma-separated values; repeatable)"

    p = sub.add_parser("run", help="run a TOML sweep spec (resumable)")
    p.add_argument("spec", help="sweep spec (TOML)")
    p.add_argument("--db", help="SQLite result store (default: the spec's db, else "
                                "NAME.sqlite in the current folder, NAME the sweep's name)")
    p.add_argument("--executor", default="local", choices=("local", "dask"),
                   help="where solves run (default local processes)")
    p.add_argument("--workers", type=int, default=1,
                   help="concurrent solves (local) or local-cluster workers (dask)")
    p.add_argument("--address", help="Dask scheduler address tcp://HOST:PORT")
    p.add_argument("--retry", action="append",
                   help="run again the stored rows with these statuses (e.g. error,timeout)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--dry-run", action="store_true",
                   help="validate the spec and count its tasks; run nothing")
    p.set_defaults(func=_run)

    p = sub.add_parser("report", help="per solver and size: gaps, runtimes, share optimal")
    p.add_argument("db", help="SQLite result store")
    p.add_argument("--by", action="append",
                   help="grouping column (repeatable; default solver and n_users)")
    p.add_argument("--where", action="append", help=where_help)
    p.add_argument("--format", choices=("markdown", "text"), default="markdown")
    p.add_argument("--out", help="write to this file instead of standard output")
    p.set_defaults(func=_report)

    p = sub.add_parser("plot", help="runtime, gap, delay, accuracy and tau figures")
    p.add_argument("db", help="SQLite result store")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--where", action="append", help=where_help)
    p.add_argument("--tau", type=float, help="tau of the delay/accuracy figures")
    p.add_argument("--n", type=int, help="N of the tau trade-off figure")
    p.add_argument("--formats", default="png,pdf", help="comma-separated (default png,pdf)")
    p.add_argument("--prefix", default="", help="prefix of the file names")
    p.set_defaults(func=_plot)

    p = sub.add_parser("export", help="write the rows as CSV or Parquet")
    p.add_argument("db", help="SQLite result store")
    p.add_argument("out", help="output file (.csv or .parquet)")
    p.add_argument("--format", choices=("csv", "parquet"), help="default from the suffix")
    p.add_argument("--where", action="append", help=where_help)
    p.set_defaults(func=_export)
