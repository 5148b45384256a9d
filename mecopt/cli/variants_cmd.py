"""``mecopt variants``: list, show, compare (Pareto), build and deploy compact model variants."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from mecopt.cli.common import (
    add_instance_arguments,
    check_output_file,
    instance_from_args,
    nonempty_path,
    print_json,
)

__all__ = ["register"]

#: Largest deployment problem ``deploy`` builds (users).
MAX_DEPLOY_USERS = 100_000

_SRC = {"measured": "X", "published": "P", "modelled": "M"}
LEGEND = "sources: X = measured, P = published, M = modelled"


def nonempty_name(text: str) -> str:
    """An ``argparse`` type: a name that is not empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty name")
    return text


def _fig(f: Any, fmt: str = "{:.3f}") -> str:
    if f.value is None or not math.isfinite(f.value):
        return f"n/a [{_SRC[f.source]}]"
    return f"{fmt.format(f.value)} [{_SRC[f.source]}]"


def _table(variants: list, dev: str) -> str:
    head = (f"{'variant':34s} {'storage GB':>14s} {'memory GB':>10s} {'access':>6s} "
            f"{'accuracy':>12s} {'halluc.':>12s} {'general.':>12s} {'lat s':>10s} "
            f"{'energy J':>11s}")
    lines = [head, "-" * len(head)]
    for v in variants:
        store = f"{v.storage_bytes / 1e9:.4g} [{_SRC[v.storage_source]}]"
        lat = v.latency_s(dev, 256, 128)
        lines.append(
            f"{v.name[:34]:34s} {store:>14s} {v.runtime_memory() / 1e9:>10.3g} "
            f"{v.accessibility():>6.2f} {_fig(v.accuracy):>12s} {_fig(v.hallucination):>12s} "
            f"{_fig(v.generalisation):>12s} {lat:>8.3g} M {v.energy_j(dev, 256, 128):>9.3g} M"
        )
    lines += ["", f"{LEGEND}; latency and energy on '{dev}' for 256 prompt and 128 output "
              "tokens; memory at a 4096-token context; access = share of the default phone "
              "population that can host it"]
    return "\n".join(lines)


def _list(args: argparse.Namespace) -> int:
    import mecopt.variants as mv

    if args.device not in mv.devices():
        raise ValueError(f"--device {args.device!r}: unknown device; valid: "
                         + ", ".join(mv.devices()))
    if args.catalogue is not None:
        variants = mv.catalogue(args.catalogue)
        if args.json:
            print(json.dumps([v.to_dict(args.device) for v in variants], indent=1))
        else:
            print(_table(variants, args.device))
        return 0
    doc = {
        "catalogues": mv.available_catalogues(),
        "base_models": {k: b.parameters for k, b in mv.base_models().items()},
        "devices": list(mv.devices()),
        "presets": list(mv.PRESETS),
    }
    if args.json:
        print(json.dumps(doc, indent=1))
        return 0
    print("catalogues:  " + ", ".join(doc["catalogues"]))
    print("base models: " + ", ".join(f"{k} ({p / 1e9:.2f} B)" for k, p in
                                      doc["base_models"].items()))
    print("devices:     " + ", ".join(doc["devices"]))
    print("presets:     " + ", ".join(doc["presets"]))
    return 0


def _find(name: str):
    import mecopt.variants as mv

    for cat in mv.available_catalogues():
        for v in mv.catalogue(cat):
            if v.name.lower() == name.lower():
                return v
    raise ValueError(f"variant {name!r} not found; see 'mecopt variants list --catalogue NAME'")


def _show(args: argparse.Namespace) -> int:
    import mecopt.variants as mv

    if args.name.lower() in mv.available_catalogues():
        return _list(argparse.Namespace(catalogue=args.name, json=args.json, device=args.device))
    v = _find(args.name)
    doc = v.to_dict(args.device)
    if args.json:
        print(json.dumps(doc, indent=1))
        return 0
    print(f"{v.name}: {v.base.name}, prune {v.prune:g} ({v.prune_kind}), "
          f"{'distilled' if v.distilled else 'not distilled'}, formats {dict(v.formats)}")
    print(f"  parameters {v.parameters:,}; storage {v.storage_bytes / 1e9:.4g} GB "
          f"[{_SRC[v.storage_source]}]; {v.bits_per_weight:.3f} bits per weight")
    print(f"  runtime memory (4096 tokens) {v.runtime_memory() / 1e9:.3g} GB; accessibility "
          f"{v.accessibility():.2f} [M]")
    for key, f in v.quality().items():
        print(f"  {key:14s} {_fig(f)}  {f.note}")
    for d in mv.devices().values():
        fit = "fits" if v.fits(d) else "does not fit"
        print(f"  on {d.name:17s} latency {v.latency_s(d, 256, 128):8.3g} s, energy "
              f"{v.energy_j(d, 256, 128):8.3g} J [M], {fit}")
    if v.measured:
        print("  measured: " + ", ".join(f"{k} {val}" for k, val in v.measured.items()))
    print(LEGEND)
    return 0


def _pareto(args: argparse.Namespace) -> int:
    import mecopt.variants as mv

    if args.plot is not None:
        check_output_file(args.plot, "--plot", (".png", ".pdf", ".svg"))
    variants = mv.catalogue(args.catalogue)
    front = mv.pareto_front(variants, x=args.x)
    from mecopt.variants.pareto import recipe_comparison

    comp = recipe_comparison(variants)
    if args.plot:
        from mecopt.variants.plot import save_pareto_plot

        path = save_pareto_plot(variants, front, args.plot, title=args.catalogue)
        if not args.json:
            print(f"wrote {path} and {Path(path).with_suffix('.pdf')}")
    if args.json:
        print(json.dumps({"front": [v.name for v in front], "comparison": comp}, indent=1))
        return 0
    print(f"Pareto front of {args.catalogue} over ({args.x}, accuracy, hallucination):")
    print(_table(front, "phone"))
    print("\nECLD versus quantisation-only and pruning-only:")
    for r in comp:
        a, h = r["accuracy"], r["hallucination"]
        fa = "n/a" if a["value"] is None else f"{a['value']:.3f}"
        fh = "n/a" if h["value"] is None else f"{h['value']:.3f}"
        print(f"  {r['recipe']:24s} {r['variant'][:34]:34s} {r['storage_bytes'] / 1e9:9.4g} GB  "
              f"acc {fa} [{_SRC[a['source']]}]  hall {fh} [{_SRC[h['source']]}]")
    return 0


def _check_build(args: argparse.Namespace) -> None:
    """The ``build`` arguments, before torch is imported or any model is read."""
    for flag, value, low in (("--threads", args.threads, 1), ("--seed", args.seed, 0),
                             ("--n-train", args.n_train, 1), ("--n-test", args.n_test, 1),
                             ("--n-hard", args.n_hard, 1),
                             ("--recovery-steps", args.recovery_steps, 0),
                             ("--scratch-steps", args.scratch_steps, 0),
                             ("--group-size", args.group_size, 1)):
        if value < low:
            raise ValueError(f"{flag} {value}: must be >= {low}")
    if args.threads > 1024:
        raise ValueError(f"--threads {args.threads}: must be <= 1024")
    if not args.name.strip() or any(c in args.name for c in "/\\"):
        raise ValueError(f"--name {args.name!r}: must be a non-empty file name")
    out = Path(args.output)
    if not args.output.strip() or (out.exists() and not out.is_dir()):
        raise ValueError(f"--output {args.output!r}: must be a folder")
    from mecopt.measure.sources import SHIPPED_MODELS, model_file

    if args.teacher.strip().lower() in SHIPPED_MODELS or args.teacher.lower().endswith(".gguf"):
        model_file(args.teacher)  # a missing file or package: one clear error
        return
    teacher = Path(args.teacher)
    if not args.teacher.strip() or not teacher.is_dir():
        raise ValueError(f"--teacher {args.teacher!r}: not a model folder, a .gguf file nor "
                         f"a shipped model name ({', '.join(SHIPPED_MODELS)})")
    config = teacher / "config.json"
    try:
        doc = json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"--teacher {args.teacher!r}: no config.json in the folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"--teacher {args.teacher!r}: config.json is not valid JSON "
                         f"({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"--teacher {args.teacher!r}: config.json must hold a JSON object")
    if not isinstance(doc.get("model_type"), str):
        raise ValueError(f"--teacher {args.teacher!r}: config.json names no model_type (not "
                         "a saved model folder)")


def _build(args: argparse.Namespace) -> int:
    _check_build(args)
    from mecopt.variants.babi_build import build_babi_catalogue
    from mecopt.variants.plot import save_measured_plot

    rows, prov = build_babi_catalogue(
        args.teacher, args.output, name=args.name, seed=args.seed, threads=args.threads,
        n_train=args.n_train if not args.quick else 200,
        n_test=args.n_test if not args.quick else 20, n_hard=args.n_hard if not args.quick else 10,
        recovery_steps=args.recovery_steps if not args.quick else 5,
        scratch_steps=args.scratch_steps if not args.quick else 5,
        group_size=args.group_size, progress=not args.no_progress,
    )
    plot = save_measured_plot(rows, Path(args.output) / f"{args.name}.png")
    if args.json:
        print(json.dumps({"rows": rows, "provenance": prov}, indent=1, default=str))
    else:
        print((Path(args.output) / f"{args.name}.md").read_text(encoding="utf-8"))
        print(f"wrote {Path(args.output) / (args.name + '.json')} and {plot}")
    if args.quick:
        print("--quick: a few training steps and questions, a smoke test, not a measurement")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    import mecopt.variants as mv
    from mecopt.deploy import deployment_problem, solve_deployment

    variants = mv.catalogue(args.catalogue)
    reference = max(variants, key=lambda v: v.storage_bytes)  # the edge model
    if args.variants:
        wanted = [w.strip() for w in args.variants.split(",") if w.strip()]
        by = {v.name.lower(): v for v in variants}
        missing = [w for w in wanted if w.lower() not in by]
        if missing:
            raise ValueError(f"--variants: not in catalogue {args.catalogue!r}: {missing}")
        variants = [by[w.lower()] for w in wanted]
    variants = [v for v in variants if math.isfinite(v.accuracy.value)]
    if not variants:
        raise ValueError(f"--catalogue {args.catalogue!r}"
                         + (f" --variants {args.variants!r}" if args.variants else "")
                         + ": no variant with an accuracy figure, which deploy needs")
    if args.time_limit is not None and not (math.isfinite(args.time_limit)
                                            and args.time_limit > 0):
        raise ValueError(f"--time-limit {args.time_limit}: must be a finite number > 0")
    if not 1 <= args.output_tokens <= 1_000_000:
        raise ValueError(f"--output-tokens {args.output_tokens}: must lie in 1..1000000")
    inst = instance_from_args(args)
    if inst.n_users > MAX_DEPLOY_USERS:
        raise ValueError(f"--users {inst.n_users}: the deployment problem takes at most "
                         f"{MAX_DEPLOY_USERS:,} users")
    if inst.hall_edge is None and math.isfinite(reference.hallucination.value):
        # hallucination of the edge model: the catalogue's largest variant
        n = inst.n_users
        inst = inst.replace(hall_edge=[reference.hallucination.value] * n,
                            hall_local=[reference.hallucination.value] * n)
    classes = [c.strip() for c in args.devices.split(",") if c.strip()]
    if not classes:
        raise ValueError(f"--devices {args.devices!r}: name at least one device class")
    problem = deployment_problem(inst, variants, classes, output_tokens=args.output_tokens)
    methods = ["milp", "greedy"] if args.method == "both" else [args.method]
    results = [solve_deployment(problem, m, time_limit=args.time_limit, seed=args.seed)
               for m in methods]
    if args.json:
        print_json([r.to_dict() for r in results])
        return 0
    print(f"{inst.n_users} users, {inst.n_servers} ESs, classes {classes}, "
          f"{len(variants)} candidate variants of {args.catalogue}")
    for r in results:
        d = r.to_dict()
        print(f"\n{r.method}: {r.status}  ({r.solver} {r.solver_version}, {r.runtime:.2f} s)")
        for cls, name in r.choice.items():
            print(f"  {cls:17s} hosts {name}")
        if r.metrics is not None:
            hall = d["mean_hallucination"]
            print(f"  mean delay {d['mean_delay']:.4g} s, objective {d['objective']:.4g}, "
                  f"accuracy {d['accuracy']:.3f}, energy {d['mean_energy']:.4g} J/user, "
                  f"hallucination {'n/a' if hall is None else f'{hall:.3f}'}, "
                  f"offloaded {d['n_offloaded']}/{inst.n_users}")
    print("\nlocal latency and energy are modelled from the variants and devices; accuracy and "
          "hallucination carry the catalogue's sources (see 'mecopt variants show')")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``mecopt variants`` and its sub-commands."""
    parser = subparsers.add_parser(
        "variants", help="compact model variants: catalogues, Pareto front, build, deploy",
        description="Compact model variants (pruning, quantisation, distillation): storage, "
        "memory, latency, energy, accuracy, hallucination, accessibility, each with its "
        "source (measured, published, modelled).",
    )
    sub = parser.add_subparsers(dest="variants_command", metavar="ACTION")
    sub.required = True

    p = sub.add_parser("list", help="list catalogues, base models, devices, presets")
    p.add_argument("--catalogue", type=nonempty_name,
                   help="list this catalogue's variants as a table")
    p.add_argument("--device", default="phone", help="device of the latency/energy columns")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_list)

    p = sub.add_parser("show", help="one variant (or a catalogue) in detail")
    p.add_argument("name", help="variant name or catalogue name")
    p.add_argument("--device", default="phone", help="device of the JSON latency/energy")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_show)

    p = sub.add_parser("pareto", help="Pareto front and ECLD vs quantisation/pruning only")
    p.add_argument("--catalogue", default="llama-3.1-8b", help="catalogue (default llama-3.1-8b)")
    p.add_argument("--x", choices=("storage", "energy"), default="storage",
                   help="cost axis next to accuracy and hallucination")
    p.add_argument("--plot", metavar="FILE", type=nonempty_path,
                   help="write the plot (PNG and PDF)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_pareto)

    p = sub.add_parser("build", help="compress a trained edge model for real and measure the "
                       "variants (needs mecopt[measure])")
    p.add_argument("--teacher", required=True, help="edge model to compress: a Hugging Face "
                   "folder, a .gguf file or a shipped name (smollm2-135m)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--name", default="babi-tiny", help="catalogue name")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--n-train", type=int, default=20000)
    p.add_argument("--n-test", type=int, default=1000)
    p.add_argument("--n-hard", type=int, default=500)
    p.add_argument("--recovery-steps", type=int, default=600)
    p.add_argument("--scratch-steps", type=int, default=2600)
    p.add_argument("--group-size", type=int, default=24)
    p.add_argument("--quick", action="store_true", help="a few steps and questions (smoke test)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_build)

    p = sub.add_parser("deploy", help="choose each device class's variant jointly with "
                       "offloading (exact MILP and greedy baseline)")
    p.add_argument("--catalogue", default="llama-3.1-8b")
    p.add_argument("--variants", help="comma-separated variant names (default: the catalogue)")
    p.add_argument("--devices", default="phone,jetson-orin-nano,laptop",
                   help="comma-separated device classes; users cycle through them")
    p.add_argument("--method", choices=("milp", "greedy", "bruteforce", "both"), default="both")
    p.add_argument("--output-tokens", type=int, default=32, help="answer length, tokens")
    p.add_argument("--time-limit", type=float, help="seconds for the MILP")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_instance_arguments(p, default_users=12, default_scenario="kim2026")
    p.set_defaults(func=_deploy)
