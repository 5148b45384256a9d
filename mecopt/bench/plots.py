"""Figures of stored rows (matplotlib, Agg backend; PNG and PDF).

Each ``plot_*`` function draws one figure on an axes from rows of the store's
``results_gap`` view; :func:`plot_all` writes the standard set to a folder:

- ``runtime``: median runtime vs N, log-log, one line per solver;
- ``gap``: median gap to the best bound known vs N (worst gap dotted);
- ``delay`` and ``accuracy``: mean delay and mean accuracy vs N for GOA, the baselines and
  the exact solvers (one tau);
- ``tau_tradeoff``: mean accuracy vs mean delay of GOA as tau varies (one N), with the
  baselines as reference points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

Rows = Sequence[Mapping[str, Any]]
OK = ("optimal", "feasible")
FORMATS = ("png", "pdf")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _series(rows: Rows, value: str, stat: str, ok_only: bool = True,
            ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per solver: sizes and the statistic of ``value`` over the rows of each size."""
    acc: dict[str, dict[int, list[float]]] = {}
    for r in rows:
        if ok_only and r["status"] not in OK:
            continue
        v = r.get(value)
        if v is None or not np.isfinite(v):
            continue
        acc.setdefault(r["solver"], {}).setdefault(int(r["n_users"]), []).append(float(v))
    fn = {"median": np.median, "mean": np.mean, "max": np.max}[stat]
    out = {}
    for solver in sorted(acc):
        sizes = np.array(sorted(acc[solver]))
        out[solver] = (sizes, np.array([fn(acc[solver][n]) for n in sizes]))
    return out


def plot_runtime(rows: Rows, ax: Any) -> Any:
    """Median runtime (s) vs N on log-log axes, one line per solver (timeouts included)."""
    runs = [r for r in rows if r["status"] not in ("error", "crashed")]
    for solver, (n, t) in _series(runs, "runtime", "median", ok_only=False).items():
        ax.plot(n, np.maximum(t, 1e-6), marker="o", ms=3, label=solver)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("users N")
    ax.set_ylabel("median runtime (s)")
    ax.set_title("Runtime vs size")
    return ax


def plot_gap(rows: Rows, ax: Any) -> Any:
    """Median (solid) and worst (dotted) gap to the best bound known vs N, per solver."""
    med = _series(rows, "gap_best", "median")
    worst = _series(rows, "gap_best", "max")
    for solver, (n, g) in med.items():
        (line,) = ax.plot(n, 100 * g, marker="o", ms=3, label=solver)
        wn, wg = worst[solver]
        ax.plot(wn, 100 * wg, ls=":", color=line.get_color())
    ax.set_xscale("log")
    ax.set_xlabel("users N")
    ax.set_ylabel("gap to best bound known (%)")
    ax.set_title("Gap vs size (solid median, dotted worst)")
    return ax


def plot_delay(rows: Rows, ax: Any) -> Any:
    """Mean delay (ms) vs N per solver (baselines breaking the uncertainty rule included)."""
    for solver, (n, d) in _series(rows, "objective", "mean", ok_only=False).items():
        ax.plot(n, 1e3 * d, marker="o", ms=3, label=solver)
    ax.set_xlabel("users N")
    ax.set_ylabel("mean delay (ms)")
    ax.set_title("Mean delay vs N")
    return ax


def plot_accuracy(rows: Rows, ax: Any) -> Any:
    """Mean accuracy vs N per solver (baselines breaking the uncertainty rule included)."""
    for solver, (n, a) in _series(rows, "accuracy", "mean", ok_only=False).items():
        ax.plot(n, a, marker="o", ms=3, label=solver)
    ax.set_xlabel("users N")
    ax.set_ylabel("mean accuracy")
    ax.set_title("Accuracy vs N")
    return ax


def plot_tau_tradeoff(rows: Rows, ax: Any, lines: Iterable[str] = ("goa",)) -> Any:
    """Mean accuracy vs mean delay as tau varies: one line per solver in ``lines``
    (points labelled by tau), the other solvers as one point each."""
    acc: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for r in rows:
        if r.get("objective") is not None and r.get("tau") is not None:
            acc.setdefault((r["solver"], float(r["tau"])), []).append(
                (float(r["objective"]), float(r["accuracy"])))
    lines = tuple(lines)
    for solver in sorted({s for s, _ in acc}):
        taus = sorted(t for s, t in acc if s == solver)
        pts = np.array([np.mean(acc[(solver, t)], axis=0) for t in taus])
        if solver in lines:
            ax.plot(1e3 * pts[:, 0], pts[:, 1], marker="o", label=solver)
            for k, (t, (d, a)) in enumerate(zip(taus, pts, strict=True)):
                offset = (5, 2) if k % 2 == 0 else (-38, -9)  # alternate sides: close points
                ax.annotate(f"tau={t:g}", (1e3 * d, a), fontsize=7, xytext=offset,
                            textcoords="offset points")
        else:
            mean = pts.mean(axis=0)
            ax.plot(1e3 * mean[0], mean[1], marker="s", ls="none", label=solver)
    ax.set_xlabel("mean delay (ms)")
    ax.set_ylabel("mean accuracy")
    ax.set_title("Accuracy-delay trade-off over tau")
    return ax


def save(fig: Any, stem: Path, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Write ``fig`` as ``stem.<format>`` for each format; return the paths."""
    paths = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        fig.savefig(path, dpi=150, bbox_inches="tight")
        paths.append(path)
    return paths


def plot_all(rows: Rows, outdir: str | Path, *, tau: float | None = None,
             tradeoff_n: int | None = None,
             formats: Sequence[str] = FORMATS, prefix: str = "") -> list[Path]:
    """Write the standard figures of ``rows`` to ``outdir``.

    Parameters
    ----------
    rows
        Rows of one setting (filter interference, queue... beforehand).
    outdir
        Folder (created if missing).
    tau
        The tau of the delay and accuracy figures; default the smallest in the rows.
    tradeoff_n
        The N of the tau trade-off figure; default the largest in the rows.
    formats
        File formats.
    prefix
        Prepended to every file name.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ValueError
        If there are no rows.
    """
    if not rows:
        raise ValueError("no rows to plot (check the filters)")
    plt = _pyplot()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    taus = sorted({float(r["tau"]) for r in rows if r.get("tau") is not None})
    if tau is None and taus:
        tau = taus[0]
    at_tau = [r for r in rows if tau is None or r.get("tau") is None or
              abs(float(r["tau"]) - tau) < 1e-12]
    n_max = tradeoff_n or max(int(r["n_users"]) for r in rows)
    at_n = [r for r in rows if int(r["n_users"]) == n_max]
    suffix = f" (tau = {tau:g})" if tau is not None else ""
    figures = [
        ("runtime", plot_runtime, rows, ""),
        ("gap", plot_gap, rows, ""),
        ("delay", plot_delay, at_tau, suffix),
        ("accuracy", plot_accuracy, at_tau, suffix),
    ]
    if len(taus) > 1:
        figures.append(("tau_tradeoff", plot_tau_tradeoff, at_n, f" (N = {n_max})"))
    written: list[Path] = []
    for name, fn, data, title_suffix in figures:
        fig, ax = plt.subplots(figsize=(6, 4))
        fn(data, ax)
        ax.set_title(ax.get_title() + title_suffix)
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
        written += save(fig, outdir / f"{prefix}{name}", formats)
        plt.close(fig)
    return written
