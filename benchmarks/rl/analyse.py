"""Tables and plots of the learned policies from the committed sweeps (all figures measured).

Reads ``benchmarks/rl/runs/*/curve.csv`` (learning curves), ``train.sqlite`` (training
rows: wall-clock, held-out evaluation) and ``compare.sqlite`` (every policy on the
held-out traces, seeds 0-2, T = 100) and writes ``RESULTS.md``, ``learning_curves``,
``ablation_curves`` and ``latency_vs_users`` (PNG and PDF) next to this file.

Definitions
-----------
- reward per slot: ``-(mean latency of the slot's queries) / slot`` on training episodes
  (per rollout of 1024 slot-episodes); the final reward is the mean of the last 10 rollouts;
- steps to 95 %: the first step at which the curve (moving mean of 5 rollouts) has covered
  95 % of its improvement from the first 3 rollouts to the final reward;
- gap to hindsight: ``(L - L*) / L*`` per trace, with ``L*`` the hindsight optimum of that
  trace (its proven bound if a time limit stopped it), averaged over traces (and seeds);
- constraint satisfaction: share of (trace, seed) runs meeting all three long-term
  constraints on the whole trace (every device's energy budget, mean accuracy, mean
  hallucination).

Usage: ``python benchmarks/rl/analyse.py``
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from mecopt.bench import ResultStore
from mecopt.rl.plots import plot_seed_curves, read_curve

HERE = Path(__file__).resolve().parent
ALGOS = ("ppo", "ppo-lag", "wm-ppo")
ABLATIONS = ("ppo-lag", "wm-ppo", "wm-ppo-mve", "wm-ppo-imag")
REFERENCE = ("hindsight", "lyapunov", "myopic-optimal", "goa", "local", "offload")


def curves(algo: str, u: int = 20) -> list[dict[str, np.ndarray]]:
    out = []
    for d in sorted(HERE.glob(f"runs/{algo}-u{u}-s*")):
        if re.fullmatch(rf"{re.escape(algo)}-u{u}-s\d+", d.name) and (d / "eval.json").is_file():
            out.append(read_curve(d / "curve.csv"))
    return out


def smooth(y: np.ndarray, k: int = 5) -> np.ndarray:
    return np.convolve(y, np.ones(k) / k, mode="valid") if len(y) >= k else y


def steps_to_95(c: dict[str, np.ndarray]) -> tuple[float, float]:
    """(steps to 95 % of the improvement, final reward)."""
    r = c["reward"]
    final = float(r[-10:].mean())
    start = float(r[:3].mean())
    s = smooth(r)
    steps = c["steps"][len(r) - len(s):]
    if final <= start:
        return float("nan"), final
    hit = np.flatnonzero(s >= start + 0.95 * (final - start))
    return float(steps[hit[0]]) if hit.size else float("nan"), final


def fmt(x: float, spec: str = ".1f") -> str:
    return "-" if x is None or not np.isfinite(x) else format(x, spec)


def mean_ci(xs: list[float]) -> str:
    xs = [x for x in xs if np.isfinite(x)]
    if not xs:
        return "-"
    m = float(np.mean(xs))
    if len(xs) < 2:
        return f"{m:.3g}"
    h = 1.96 * float(np.std(xs, ddof=1)) / np.sqrt(len(xs))
    return f"{m:.3g} ± {h:.2g}"


def compare_rows() -> list[dict]:
    path = HERE / "compare.sqlite"
    if not path.is_file():
        return []
    with ResultStore(path) as store:
        return [r for r in store.rows() if r["status"] not in ("error", "timeout", "crashed")]


def train_rows() -> list[dict]:
    path = HERE / "train.sqlite"
    if not path.is_file():
        return []
    with ResultStore(path) as store:
        return [r for r in store.rows() if r["status"] not in ("error", "timeout", "crashed")]


def hindsight_ref(rows: list[dict]) -> dict[tuple[int, int], float]:
    ref = {}
    for r in rows:
        if r["solver"] != "hindsight" or r["objective"] is None:
            continue
        if r["status"] == "optimal":
            ref[(r["n_users"], r["seed"])] = r["objective"]
        elif r["bound"] is not None and np.isfinite(r["bound"]) and r["bound"] > 0:
            ref[(r["n_users"], r["seed"])] = r["bound"]  # a proven lower bound only
    return ref


def policy_stats(rows: list[dict], label_re: str, u: int, ref: dict) -> dict[str, float]:
    sel = [r for r in rows if r["n_users"] == u and re.fullmatch(label_re, r["solver"])]
    if not sel:
        return {}
    gaps = [(r["objective"] - ref[(u, r["seed"])]) / ref[(u, r["seed"])] for r in sel
            if (u, r["seed"]) in ref]
    feas = [not r["message"] for r in sel]  # the message lists the violated constraints
    return {"latency_ms": 1e3 * float(np.mean([r["objective"] for r in sel])),
            "gap": float(np.mean(gaps)) if gaps else float("nan"),
            "gaps": gaps, "feasible": float(np.mean(feas)), "n": len(sel),
            "optimal": all(r["status"] == "optimal" for r in sel),
            "max_gap": max(((r["objective"] - r["bound"]) / r["objective"]
                            if r["bound"] is not None and np.isfinite(r["bound"]) else np.inf)
                           for r in sel)}


def main() -> None:
    lines = ["# Learned offloading policies: results (measured)", "",
             "Produced by `python benchmarks/rl/analyse.py` from the committed sweeps "
             "`train.toml` and `compare.toml`; every figure is **measured** on this machine "
             "(2 shared cores; the load average of each training run is in its `eval.json`).",
             ""]
    cv = {a: curves(a) for a in ALGOS}
    for a in ("wm-ppo-mve", "wm-ppo-imag"):
        cv[a] = curves(a)
    if any(cv[a] for a in ALGOS):
        plot_seed_curves({a: cv[a] for a in ALGOS}, HERE / "learning_curves",
                         title="U = 20: reward per slot on training episodes (measured)",
                         ylabel="reward per slot (-latency / 100 ms slot)")
        plot_seed_curves({a: cv[a] for a in ALGOS}, HERE / "accuracy_cost_curves",
                         column="cost_accuracy", ylabel="accuracy cost (<= 0: target met)",
                         title="U = 20: accuracy constraint cost (measured)")
        plot_seed_curves({a: cv[a] for a in ABLATIONS if cv.get(a)}, HERE / "ablation_curves",
                         title="U = 20: world-model ablations (measured)",
                         ylabel="reward per slot (-latency / 100 ms slot)")
    tr = train_rows()
    wall = defaultdict(list)
    for r in tr:
        if r["n_users"] == 20:
            wall[r["solver"]].append(r["runtime"])
    rows = compare_rows()
    ref = hindsight_ref(rows)
    conv: dict[str, tuple[list[float], list[float]]] = {}
    for a, cs in cv.items():
        pairs = [steps_to_95(c) for c in cs if c]
        conv[a] = ([p[0] for p in pairs], [p[1] for p in pairs])

    lines += ["## Final table, U = 20 (held-out traces: seeds 0-2, T = 100 slots)", "",
              "Learned rows: mean over 5 training seeds (1 for the ablations) x 3 traces, "
              "policies sample from their stochastic policy with the run's seed. ± is a 95 % "
              "interval over training seeds.", "",
              "| policy | mean latency (ms) | gap to hindsight | constraints met | "
              "steps to 95 % | final reward / slot | wall-clock per run (s) |",
              "|---|---|---|---|---|---|---|"]
    for a in (*ALGOS, "wm-ppo-mve", "wm-ppo-imag"):
        st = policy_stats(rows, rf"{re.escape(a)}-s\d+", 20, ref)
        if not st and not conv.get(a, ([], []))[0]:
            continue
        steps, finals = conv.get(a, ([], []))
        lines.append(f"| {a} | {fmt(st.get('latency_ms', np.nan), '.2f')} | "
                     f"{fmt(100 * st.get('gap', np.nan), '+.1f')} % | "
                     f"{fmt(100 * st.get('feasible', np.nan), '.0f')} % | {mean_ci(steps)} | "
                     f"{mean_ci(finals)} | {mean_ci(wall.get(a, []))} |")
    for p in REFERENCE:
        st = policy_stats(rows, re.escape(p), 20, ref)
        if st:
            lines.append(f"| {p} | {st['latency_ms']:.2f} | {fmt(100 * st['gap'], '+.1f')} % | "
                         f"{100 * st['feasible']:.0f} % | - | - | - |")
    lines += ["", "Committed policies (`benchmarks/rl/policies/*-u20.zip`, training seed 0):",
              ""]
    for a in ALGOS:
        st = policy_stats(rows, re.escape(a), 20, ref)
        if st:
            lines.append(f"- `{a}:benchmarks/rl/policies/{a}-u20.zip`: {st['latency_ms']:.2f} ms, "
                         f"gap {100 * st['gap']:+.1f} %, constraints met on "
                         f"{100 * st['feasible']:.0f} % of the traces")

    # latency against U
    sizes = sorted({r["n_users"] for r in rows})
    names = [*REFERENCE, *ALGOS]
    table = {p: {u: policy_stats(rows, re.escape(p), u, ref) for u in sizes} for p in names}
    if sizes:
        lines += ["", "## Mean latency (ms) against U (held-out traces, seeds 0-2, T = 100; "
                  "`*` = some trace misses a constraint)", "",
                  "| policy | " + " | ".join(f"U = {u}" for u in sizes) + " |",
                  "|---|" + "---|" * len(sizes)]
        for p in names:
            cells = []
            for u in sizes:
                st = table[p][u]
                cells.append("-" if not st else f"{st['latency_ms']:.1f}"
                             + ("" if st["feasible"] == 1 else f"* ({100 * st['feasible']:.0f} %)")
                             + ((f" (time limit; gap to bound <= {100 * st['max_gap']:.2g} %)"
                                 if np.isfinite(st["max_gap"]) else
                                 " (time limit; incumbent only, no useful bound)")
                                if p == "hindsight" and not st["optimal"] else ""))
            lines.append(f"| {p} | " + " | ".join(cells) + " |")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.4, 4))
        for k, p in enumerate(names):
            us = [u for u in sizes if table[p][u]]
            if not us:
                continue
            ys = [table[p][u]["latency_ms"] for u in us]
            ax.plot(us, ys, marker="o", color=f"C{k}", label=p)
            bad = [(u, y) for u, y in zip(us, ys, strict=True) if table[p][u]["feasible"] < 1]
            if bad:
                ax.scatter(*zip(*bad, strict=True), marker="x", s=80, color=f"C{k}", zorder=3)
        ax.set(xlabel="devices U", ylabel="mean latency (ms)", yscale="log",
               title="held-out traces (measured); x: a constraint missed")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        fig.tight_layout()
        for ext in ("png", "pdf"):
            fig.savefig(HERE / f"latency_vs_users.{ext}", dpi=150, bbox_inches="tight")
        plt.close(fig)

    # published claims
    lines += ["", "## Published claims (arXiv 2602.13628, abstract) against what we measure",
              ""]
    s_ppo, f_ppo = conv.get("ppo", ([], []))
    s_wm, f_wm = conv.get("wm-ppo", ([], []))
    s_lag, f_lag = conv.get("ppo-lag", ([], []))
    if s_ppo and s_wm:
        sp = np.nanmean(s_ppo)
        sw = np.nanmean(s_wm)
        sl = np.nanmean(s_lag) if s_lag else np.nan
        fp, fw = np.mean(f_ppo), np.mean(f_wm)
        fl = np.mean(f_lag) if f_lag else np.nan
        lat = {p: table[p] for p in ("ppo", "ppo-lag", "wm-ppo", "lyapunov", "local",
                                     "offload")} if sizes else {}

        def red(a: str, b: str) -> str:
            vals = [(u, 100 * (1 - lat[a][u]["latency_ms"] / lat[b][u]["latency_ms"]))
                    for u in sizes if lat.get(a, {}).get(u) and lat.get(b, {}).get(u)]
            return ", ".join(f"U={u}: {v:+.1f} %" for u, v in vals) if vals else "-"

        lines += [
            "| claim (published) | measured here | reproduces? |", "|---|---|---|",
            f"| convergence about 50 % faster than vanilla PPO | steps to 95 %: wm-ppo "
            f"{sw:,.0f} vs ppo {sp:,.0f} ({100 * (1 - sw / sp):+.0f} %), vs ppo-lag "
            f"{fmt(sl, ',.0f')} ({fmt(100 * (1 - sw / sl), '+.0f')} %) | "
            "see README |",
            f"| final reward +15.8 % over vanilla PPO | wm-ppo {fw:.3f} vs ppo {fp:.3f} "
            f"({100 * (fw - fp) / abs(fp):+.1f} %), vs ppo-lag {fl:.3f} "
            f"({100 * (fw - fl) / abs(fl):+.1f} %) per slot | "
            "see README |",
            f"| average latency 12-30 % lower | latency reduction of wm-ppo vs ppo "
            f"{red('wm-ppo', 'ppo')}; vs ppo-lag: {red('wm-ppo', 'ppo-lag')}; vs lyapunov: "
            f"{red('wm-ppo', 'lyapunov')}; vs local: {red('wm-ppo', 'local')}; vs offload: "
            f"{red('wm-ppo', 'offload')} | see README |",
        ]
    lines += ["", f"Generated with load average {os.getloadavg()[0]:.1f} (plots and tables only)."]
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
