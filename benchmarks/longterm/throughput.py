"""Simulator throughput: device-slots per second on one core.

Usage::

    python benchmarks/longterm/throughput.py [--devices 20 40] [--batch 1 16 64]
        [--horizon 500] [--repeats 5] [--out benchmarks/longterm]

For every (U, B) it draws one trace batch (default scenario), then times ``--repeats``
full runs of each array policy (``local``, ``offload``, ``random``, ``greedy``):

- ``stepper``: the bare stepwise API (``observe`` + policy + ``step``) with action
  validation on, nothing recorded;
- ``run_batch``: the full :func:`mecopt.longterm.run_batch`, which also records every
  per-slot array and builds the rollouts.

Throughput = B x T x U / median wall-clock seconds. Threads of the numerical libraries are
pinned to 1 (one core). Writes ``throughput.json`` and ``throughput.md`` with the load
average at start and end (the machine is shared: absolute figures are pessimistic).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import mecopt  # noqa: E402
import mecopt.longterm as lt  # noqa: E402
from mecopt.longterm.policy_registry import make_policy  # noqa: E402
from mecopt.longterm.protocol import EnvInfo  # noqa: E402

TARGET = 1_000_000
POLICIES = ("local", "offload", "random", "greedy")


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def time_stepper(trace: lt.Trace, policy: str) -> float:
    """Seconds for one pass of the bare stepper over the whole horizon."""
    sim = lt.Simulator(trace)
    pol = make_policy(policy)
    pol.reset(EnvInfo.of(trace), np.random.default_rng(0))
    start = time.perf_counter()
    obs = sim.reset()
    for t in range(trace.horizon):
        sim.step(pol.act(obs))
        if t + 1 < trace.horizon:
            obs = sim.observe()
    return time.perf_counter() - start


def time_run(trace: lt.Trace, policy: str) -> float:
    start = time.perf_counter()
    lt.run_batch(trace, policy)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, nargs="+", default=[20, 40])
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 16, 64])
    ap.add_argument("--horizon", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = ap.parse_args()

    load_start = os.getloadavg()
    rows = []
    for u in args.devices:
        for b in args.batch:
            trace = lt.trace(n_devices=u, horizon=args.horizon, seed=list(range(b)))
            cells = b * args.horizon * u
            for policy in POLICIES:
                for mode, fn in (("stepper", time_stepper), ("run_batch", time_run)):
                    times = [fn(trace, policy) for _ in range(args.repeats)]
                    med = statistics.median(times)
                    rows.append({"n_devices": u, "batch": b, "horizon": args.horizon,
                                 "policy": policy, "mode": mode, "times": times,
                                 "median_s": med, "device_slots_per_s": cells / med})
                    print(f"U={u:3d} B={b:3d} {policy:<8} {mode:<9} "
                          f"{cells / med / 1e6:7.2f} M device-slots/s", flush=True)

    meta = {"benchmark": "longterm_throughput", "scenario": "default", "commit": commit(),
            "mecopt": mecopt.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "machine": platform.machine(),
            "processor_count": os.cpu_count(), "threads": 1,
            "load_average_start": load_start, "load_average_end": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "repeats": args.repeats}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "throughput.json").write_text(json.dumps({"meta": meta, "rows": rows},
                                                         indent=1))
    fmt = ", ".join(f"{v:.2f}" for v in load_start)
    fmt_end = ", ".join(f"{v:.2f}" for v in meta["load_average_end"])
    lines = ["# Long-term simulator throughput (measured)", "",
             f"Commit `{meta['commit']}`, {meta['date']}, numpy {np.__version__}, one thread, "
             f"T = {args.horizon}, default scenario, median of {args.repeats} runs.",
             f"Load average (1, 5, 15 min) at start {fmt}, at end {fmt_end}"
             + (": the 2 cores were shared with other work, so the figures are pessimistic."
                if max(load_start[0], meta["load_average_end"][0]) > 1.5 else
                " (a quiet machine)."),
             "Million device-slots per second (B x T x U / median seconds). `stepper`: "
             "observe + policy + step with action validation; `run_batch`: the full run "
             "with every per-slot record stored.", "",
             "| U | B | mode | " + " | ".join(POLICIES) + " |",
             "|---|---|---|" + "---|" * len(POLICIES)]
    for u in args.devices:
        for b in args.batch:
            for mode in ("stepper", "run_batch"):
                cells = [next(r for r in rows if r["n_devices"] == u and r["batch"] == b and
                              r["mode"] == mode and r["policy"] == p)["device_slots_per_s"]
                         for p in POLICIES]
                lines.append(f"| {u} | {b} | {mode} | "
                             + " | ".join(f"{c / 1e6:.2f}" for c in cells) + " |")
    array = [r for r in rows if r["policy"] in ("local", "offload", "random")]
    best = max(array, key=lambda r: r["device_slots_per_s"])
    verdict = "met" if best["device_slots_per_s"] >= TARGET else "NOT met"
    lines += ["", f"Target: at least {TARGET / 1e6:g} M device-slots/s on one core for an "
              f"array policy. Best: **{best['device_slots_per_s'] / 1e6:.2f} M** "
              f"({best['policy']}, {best['mode']}, U = {best['n_devices']}, "
              f"B = {best['batch']}): {verdict}."]
    (args.out / "throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
