"""Calibrate ``kim2026-published`` on the one published point (arXiv 2602.07958).

The point: N = 50, tau = 0.6, every user offloaded by the alpha-weighted greedy ("Edge
all"), means per user over many runs: upload 1.62 ms, edge compute 15.76 ms, local delay
35.79 ms, accuracy 44.74 % all-local and 56.17 % all-edge.

Four constants are fitted; nothing else is. The upload time is proportional to the prompt
size and the edge time to the measured edge-model time (for fixed placements), so each is
rescaled by target / measured and the placements are recomputed, until both agree to 0.1 %.
The accuracy intercepts follow in closed form from the mean of alpha ~ Beta(2, 2) (1/2).

Usage::

    python benchmarks/replay/calibrate.py [--runs 500] [--out benchmarks/replay]

Writes ``calibration.json`` and ``calibration.md``; the constants go into
``mecopt/scenarios/kim2026_published.py`` by hand (the script says whether they match).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

import mecopt
from mecopt.scenarios import kim2026_published as kp

TARGET = {"upload_ms": 1.62, "edge_ms": 15.76, "local_ms": 35.79, "acc_local": 0.4474,
          "acc_edge": 0.5617}
N, TAU = 50, 0.6


def measure(runs: int, prompt: float, edge_time: float, acc_l: float, acc_e: float) -> dict:
    """Means per user over ``runs`` seeds of Edge all at the published point."""
    up, ed, loc, al, ae, delay = [], [], [], [], [], []
    for seed in range(runs):
        inst = mecopt.scenario("kim2026-published", N, seed, tau=TAU, mean_prompt_bytes=prompt,
                               mean_edge_time_s=edge_time, acc_local_at_0=acc_l,
                               acc_edge_at_0=acc_e)
        res = mecopt.solve(inst, "edge-all", seed=seed)
        m = res.metrics
        up.append(m.comm_delay.mean())
        ed.append(m.edge_delay.mean())
        loc.append(inst.local_delay.mean())
        al.append(inst.acc_local.mean())
        ae.append(inst.acc_edge.mean())
        delay.append(m.mean_delay)
    return {"upload_ms": 1e3 * float(np.mean(up)), "edge_ms": 1e3 * float(np.mean(ed)),
            "local_ms": 1e3 * float(np.mean(loc)), "acc_local": float(np.mean(al)),
            "acc_edge": float(np.mean(ae)), "edge_all_delay_ms": 1e3 * float(np.mean(delay)),
            "upload_ms_sem": 1e3 * float(np.std(up, ddof=1) / np.sqrt(runs)),
            "upload_ms_median_run": 1e3 * float(np.median(up)),
            "edge_ms_sem": 1e3 * float(np.std(ed, ddof=1) / np.sqrt(runs))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--iterations", type=int, default=12)
    parser.add_argument("--tol", type=float, default=5e-3, help="relative tolerance")
    parser.add_argument("--out", default=str(Path(__file__).parent))
    args = parser.parse_args()
    t0, load = time.perf_counter(), os.getloadavg()
    # Accuracy: E[acc_local] = a_L (1 - E[alpha]), E[acc_edge] = a_E + slope E[alpha].
    acc_l = TARGET["acc_local"] / 0.5
    acc_e = TARGET["acc_edge"] - kp.EDGE_ACC_SLOPE * 0.5
    prompt, edge_time = kp.CALIBRATED_PROMPT_BYTES, kp.CALIBRATED_EDGE_TIME_S
    history = []
    lo = hi = None  # bracket of the prompt size (the same seeds every time)
    for _ in range(args.iterations):
        got = measure(args.runs, prompt, edge_time, acc_l, acc_e)
        history.append({"mean_prompt_bytes": prompt, "mean_edge_time_s": edge_time, **got})
        print(f"prompt {prompt:.2f} B, edge time {edge_time:.5f} s: upload "
              f"{got['upload_ms']:.4f} ms, edge {got['edge_ms']:.4f} ms", flush=True)
        up_ok = abs(got["upload_ms"] / TARGET["upload_ms"] - 1) < args.tol
        ed_ok = abs(got["edge_ms"] / TARGET["edge_ms"] - 1) < args.tol
        if up_ok and ed_ok:
            break
        # The mean upload is heavy-tailed in the prompt size (placements flip on rare seeds),
        # so the prompt is bracketed and bisected; the edge time is rescaled.
        if got["upload_ms"] < TARGET["upload_ms"]:
            lo = prompt
        else:
            hi = prompt
        if not up_ok:
            prompt = float(np.sqrt(lo * hi)) if lo and hi else \
                prompt * TARGET["upload_ms"] / got["upload_ms"]
        edge_time *= TARGET["edge_ms"] / got["edge_ms"]
    final = history[-1]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=Path(__file__).parent).stdout.strip()
    constants = {"CALIBRATED_PROMPT_BYTES": round(final["mean_prompt_bytes"], 3),
                 "CALIBRATED_EDGE_TIME_S": round(final["mean_edge_time_s"], 6),
                 "CALIBRATED_ACC_LOCAL_AT_0": round(acc_l, 6),
                 "CALIBRATED_ACC_EDGE_AT_0": round(acc_e, 6)}
    shipped = {k: getattr(kp, k) for k in constants}
    result = {"target_published": TARGET, "point": {"N": N, "tau": TAU, "policy": "edge-all"},
              "runs": args.runs, "constants": constants, "shipped_constants": shipped,
              "shipped_match": all(abs(shipped[k] / v - 1) < 2e-3 for k, v in constants.items()),
              "measured_at_constants": final, "iterations": history, "commit": commit,
              "elapsed_s": round(time.perf_counter() - t0, 1), "loadavg": load}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "calibration.json").write_text(json.dumps(result, indent=1) + "\n")
    rows = [("upload (ms)", "upload_ms"), ("edge compute (ms)", "edge_ms"),
            ("local delay (ms)", "local_ms"), ("accuracy all-local", "acc_local"),
            ("accuracy all-edge", "acc_edge")]
    lines = ["# Calibration of kim2026-published (measured against published)", "",
             f"Point: N = {N}, tau = {TAU}, Edge all, {args.runs} runs (seeds 0..{args.runs - 1}),"
             f" commit {commit}. Command: `python benchmarks/replay/calibrate.py "
             f"--runs {args.runs}`.", "",
             "| quantity | published | kim2026-published (measured) |", "|---|---|---|"]
    lines += [f"| {label} | {TARGET[key]:.4g} | {final[key]:.4g} |" for label, key in rows]
    lines += ["", f"The mean upload is heavy-tailed: Rayleigh fading under other-cell interference "
              f"gives a few runs with very slow uplinks (standard error of the mean "
              f"{final['upload_ms_sem']:.3f} ms over {args.runs} runs; median run "
              f"{final['upload_ms_median_run']:.3f} ms), so the fitted prompt size is uncertain "
              "by about the same relative amount."]
    lines += ["", "Fitted constants: " + ", ".join(f"`{k} = {v}`" for k, v in constants.items())
              + f". Shipped in the scenario: {'yes' if result['shipped_match'] else 'NO'}.",
              "", f"Local delay is the published mean itself (35.79 ms), not fitted. "
              f"Edge all's mean delay at this point: {final['edge_all_delay_ms']:.2f} ms."]
    (out / "calibration.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
