"""Build and measure real compressed variants of the trained bAbI-tiny edge model.

Input: the edge model trained by ``benchmarks/uncertainty/train_babi_tiny.py`` (pass its
``--model-dir``; the edge model is ``<dir>/edge``). The ablation plan of
:data:`mecopt.variants.build.ABLATION_PLAN` is built for real (sliced pruning of half the heads
and MLP channels, distillation from the edge model, packed 8/4/3/2-bit group-wise
quantisation, the pruned size trained from scratch), every variant is saved, loaded back and
measured on the held-out questions and on a harder split
(:func:`mecopt.variants.babi_build.build_babi_catalogue`). Written to ``--out``:

- ``babi-tiny.csv`` / ``babi-tiny.json``: the measured table (the JSON holds provenance);
- ``babi-tiny.md``: the table as Markdown;
- ``babi-tiny.png`` / ``.pdf``: accuracy and hallucination versus storage.

``--ship`` also writes the measured catalogue into ``mecopt/data/variants/``.

Reproduce (about 15 minutes on one core of a shared 2-core machine)::

    python benchmarks/uncertainty/train_babi_tiny.py --seed 0 --threads 1 --model-dir M --out /tmp/o
    python benchmarks/variants/build_babi_tiny.py --teacher M/edge --seed 0 --threads 1 --ship
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mecopt.variants.babi_build import build_babi_catalogue
from mecopt.variants.catalogue_io import CATALOGUE_DIR
from mecopt.variants.plot import save_measured_plot

NAME = "babi-tiny"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teacher", type=Path, required=True, help="trained edge model folder")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-train", type=int, default=20000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--n-hard", type=int, default=500)
    parser.add_argument("--recovery-steps", type=int, default=600)
    parser.add_argument("--scratch-steps", type=int, default=2600)
    parser.add_argument("--group-size", type=int, default=24)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--ship", action="store_true", help="write the shipped catalogue")
    args = parser.parse_args(argv)
    rows, prov = build_babi_catalogue(
        args.teacher, args.out, name=NAME, seed=args.seed, threads=args.threads,
        n_train=args.n_train, n_test=args.n_test, n_hard=args.n_hard,
        recovery_steps=args.recovery_steps, scratch_steps=args.scratch_steps,
        group_size=args.group_size, extra_out=CATALOGUE_DIR if args.ship else None,
    )
    save_measured_plot(rows, args.out / f"{NAME}.png")
    print(json.dumps({"seconds": prov["seconds"], "rows": len(rows)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
