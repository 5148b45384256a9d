"""Figures of stored rows (matplotlib, Agg backend; PNG and PDF).

Each ``plot_*`` function draws one figure on an axes from rows of the store's
``results_gap`` view; :func:`plot_all` writes the standard set to a folder:

- ``runtime``: median runtime vs N, log-log, one line per solver, quartile band;
- ``gap``: median gap to the best bound known vs N (quartile band, worst gap dotted);
- ``delay`` and ``accuracy``: mean delay and mean accuracy vs N for GOA, the baselines and
  the exact solvers (one tau), with the 95 % interval of the mean over seeds as a band and
  the accuracy target as a dashed line;
- ``delay_parts``: the mean uplink and edge-compute parts of the delay (when stored);
- ``memory``: median memory added by the solve (peak minus resident before it) vs N;

Every figure states its unit on its axes and says it is measured (and over how many seeds).
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
            ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]]:
    """Per solver: sizes, the statistic of ``value`` over the rows (seeds) of each size, a
    spread band (95 % interval of the mean for ``mean``; quartiles for ``median``; none for
    ``max``) and the smallest number of rows behind a point."""
    acc: dict[str, dict[int, list[float]]] = {}
    for r in rows:
        if ok_only and r["status"] not in OK:
            continue
        v = r.get(value)
        if v is None or not np.isfinite(v):
            continue
        acc.setdefault(r["solver"], {}).setdefault(int(r["n_users"]), []).append(float(v))
    out = {}
    for solver in sorted(acc):
        sizes = np.array(sorted(acc[solver]))
        groups = [np.array(acc[solver][n]) for n in sizes]
        if stat == "mean":
            centre = np.array([g.mean() for g in groups])
            half = np.array([1.96 * g.std(ddof=1) / np.sqrt(g.size) if g.size > 1 else 0.0
                             for g in groups])
            lo, hi = centre - half, centre + half
        elif stat == "median":
            centre = np.array([np.median(g) for g in groups])
            lo = np.array([np.percentile(g, 25) for g in groups])
            hi = np.array([np.percentile(g, 75) for g in groups])
        else:
            centre = np.array([g.max() for g in groups])
            lo = hi = centre
        out[solver] = (sizes, centre, lo, hi, min(g.size for g in groups))
    return out


def _line(ax: Any, n: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray,
          label: str, scale: float = 1.0, **kw: Any) -> Any:
    """A line with its spread band (drawn only where it has width)."""
    (line,) = ax.plot(n, scale * y, marker="o", ms=3, label=label, **kw)
    if np.any(hi > lo):
        ax.fill_between(n, scale * lo, scale * hi, color=line.get_color(), alpha=0.15, lw=0)
    return line


def _plain_ticks(axis: Any) -> None:
    """Plain numbers (20, 100, 1,000; 0.01, 1, 10) on a log axis instead of powers of ten;
    1-2-5 steps over a short range, powers of ten over a long one. Call after plotting."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    lo, hi = axis.get_view_interval()
    decades = np.log10(max(hi, 1e-300) / max(lo, 1e-300))
    subs = (1.0, 2.0, 5.0) if decades <= 2.5 else (1.0,) if decades > 4.5 else (1.0, 3.0)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def _seeds_note(series: Mapping[str, tuple]) -> str:
    k = min((s[4] for s in series.values()), default=0)
    return f"measured; at least {k} seed{'s' if k > 1 else ''} per point" if k else "measured"


def plot_runtime(rows: Rows, ax: Any) -> Any:
    """Median runtime (s) vs N on log-log axes, one line per solver (timeouts included);
    band: quartiles over seeds."""
    runs = [r for r in rows if r["status"] not in ("error", "crashed")]
    series = _series(runs, "runtime", "median", ok_only=False)
    for solver, (n, t, lo, hi, _k) in series.items():
        _line(ax, n, np.maximum(t, 1e-6), np.maximum(lo, 1e-6), np.maximum(hi, 1e-6), solver)
    return _loglog(ax, "median runtime (s)", "Runtime versus size (band: quartiles over seeds)",
                   _seeds_note(series))


def _loglog(ax: Any, ylabel: str, title: str, note: str) -> Any:
    """Log-log axes with plain ticks, N on x, ``note`` under the axes."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_ticks(ax.xaxis)
    _plain_ticks(ax.yaxis)
    ax.set_xlabel("users N")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.text(0.0, -0.16, note, transform=ax.transAxes, fontsize=7, va="top")
    return ax


def plot_memory(rows: Rows, ax: Any) -> Any:
    """Median memory added by the solve (MB: the process's peak resident memory minus its
    resident memory right before the solve, instance built) vs N, log-log (band: quartiles
    over seeds; values under 0.1 MB drawn at 0.1). The resident memory before the solve
    (interpreter, imported solver packages, instance) is given in the note."""
    runs = [{**r, "added_mb": max(r["peak_rss_mb"] - r["start_rss_mb"], 0.1)} for r in rows
            if r["status"] not in ("error", "crashed", "timeout")
            and r.get("peak_rss_mb") is not None and r.get("start_rss_mb") is not None]
    series = _series(runs, "added_mb", "median", ok_only=False)
    for solver, (n, y, lo, hi, _k) in series.items():
        _line(ax, n, y, lo, hi, solver)
    base = [r["start_rss_mb"] for r in runs]
    note = _seeds_note(series)
    if base:
        note += f"; resident before the solve: {min(base):.0f}-{max(base):.0f} MB"
    return _loglog(ax, "memory added by the solve (MB)",
                   "Peak memory of the solve versus size (band: quartiles over seeds)", note)


def plot_gap(rows: Rows, ax: Any) -> Any:
    """Median (solid, quartile band) and worst (dotted) gap to the best bound known vs N.

    Only instances with a bound proven by an exact solver count: the per-user bound alone
    (used where no exact solver ran) is too weak to measure a heuristic against.
    """
    proven = [r for r in rows if r.get("best_milp_bound") is not None]
    med = _series(proven, "gap_best", "median")
    worst = _series(proven, "gap_best", "max")
    for solver, (n, g, lo, hi, _k) in med.items():
        line = _line(ax, n, g, lo, hi, solver, scale=100.0)
        wn, wg = worst[solver][:2]
        ax.plot(wn, 100 * wg, ls=":", color=line.get_color())
    ax.set_xscale("log")
    _plain_ticks(ax.xaxis)
    ax.set_xlabel("users N")
    ax.set_ylabel("gap to the best bound known (%)")
    ax.set_title("Optimality gap versus size (solid: median, dotted: worst)")
    ax.text(0.0, -0.16, _seeds_note(med) + "; only instances with a bound proven by an exact "
            "solver", transform=ax.transAxes, fontsize=7, va="top")
    return ax


def _size_axis(ax: Any, series: Mapping[str, tuple]) -> None:
    """Log N axis (plain ticks) when the sizes span more than 1.5 decades."""
    sizes = [n for s in series.values() for n in s[0]]
    if sizes and max(sizes) / max(min(sizes), 1) > 10**1.5:
        ax.set_xscale("log")
        _plain_ticks(ax.xaxis)
    ax.set_xlabel("users N")


def _mean_plot(rows: Rows, ax: Any, value: str, scale: float, ylabel: str, title: str) -> Any:
    series = _series(rows, value, "mean", ok_only=False)
    for solver, (n, y, lo, hi, _k) in series.items():
        _line(ax, n, y, lo, hi, solver, scale=scale)
    _size_axis(ax, series)
    ys = [v for s in series.values() for v in s[1]]
    if ys and min(ys) > 0 and max(ys) / min(ys) > 100:  # log values over a wide range
        ax.set_yscale("log")
        _plain_ticks(ax.yaxis)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.text(0.0, -0.16, _seeds_note(series) + "; band: 95 % interval of the mean",
            transform=ax.transAxes, fontsize=7, va="top")
    return ax


def plot_delay(rows: Rows, ax: Any) -> Any:
    """Mean delay (ms) vs N per solver (baselines breaking the uncertainty rule included)."""
    return _mean_plot(rows, ax, "objective", 1e3, "mean delay per user (ms)",
                      "Mean delay versus number of users")


def plot_delay_parts(rows: Rows, ax: Any) -> Any:
    """Mean uplink (solid) and edge-compute (dashed) delay per user (ms) vs N."""
    comm = _series(rows, "mean_comm_delay", "mean", ok_only=False)
    edge = _series(rows, "mean_edge_delay", "mean", ok_only=False)
    for solver, (n, y, lo, hi, _k) in comm.items():
        line = _line(ax, n, y, lo, hi, f"{solver}: upload", scale=1e3)
        if solver in edge:
            en, ey, elo, ehi, _ = edge[solver]
            _line(ax, en, ey, elo, ehi, f"{solver}: edge compute", scale=1e3, ls="--",
                  color=line.get_color())
    _size_axis(ax, comm)
    ax.set_ylabel("mean delay part per user (ms)")
    ax.set_title("Upload and edge-compute delay versus number of users")
    ax.text(0.0, -0.16, _seeds_note(comm) + "; local users count as 0 ms in both parts",
            transform=ax.transAxes, fontsize=7, va="top")
    return ax


def plot_accuracy(rows: Rows, ax: Any) -> Any:
    """Mean accuracy (%) vs N per solver, with the accuracy target when one is set."""
    _mean_plot(rows, ax, "accuracy", 100.0, "mean served accuracy (%)",
               "Accuracy versus number of users")
    targets = {r.get("min_accuracy") for r in rows} - {None}
    for t in sorted(targets):
        ax.axhline(100 * t, color="k", ls="--", lw=1, label=f"accuracy target {100 * t:g} %")
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
            ax.plot(1e3 * pts[:, 0], 100 * pts[:, 1], marker="o", label=f"{solver} (tau varies)")
            # Label the two ends only: the points between are too close to label.
            for t, (d, a), off in ((taus[0], pts[0], (6, 2)), (taus[-1], pts[-1], (-46, -3))):
                ax.annotate(f"tau = {t:g}", (1e3 * d, 100 * a), fontsize=7, xytext=off,
                            textcoords="offset points")
        else:
            mean = pts.mean(axis=0)
            ax.plot(1e3 * mean[0], 100 * mean[1], marker="s", ls="none",
                    label=f"{solver} (mean over tau)")
    ax.set_xlabel("mean delay per user (ms)")
    ax.set_ylabel("mean served accuracy (%)")
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
    if any(r.get("peak_rss_mb") is not None for r in rows):
        figures.append(("memory", plot_memory, rows, ""))
    if any(r.get("mean_comm_delay") is not None for r in at_tau):
        figures.append(("delay_parts", plot_delay_parts, at_tau, suffix))
    if len(taus) > 1:
        figures.append(("tau_tradeoff", plot_tau_tradeoff, at_n, f" (N = {n_max})"))
    written: list[Path] = []
    for name, fn, data, title_suffix in figures:
        fig, ax = plt.subplots(figsize=(7.5, 4.2))
        fn(data, ax)
        ax.set_title(ax.get_title() + title_suffix, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            # Outside the axes, so the legend never covers data.
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      borderaxespad=0.0, frameon=False)
        written += save(fig, outdir / f"{prefix}{name}", formats)
        plt.close(fig)
    return written
