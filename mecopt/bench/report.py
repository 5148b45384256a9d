"""Aggregates of stored rows: per solver and size (and any other grouping columns).

For each group: the number of rows, the share solved to proven optimality, the median and
worst gap to the best bound known for the instance (``gap_best`` of the store's view), the
median runtime, the mean delay and accuracy (of every evaluated answer, feasible or not)
and how many rows are not feasible (rule broken, timed out or failed).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

DEFAULT_BY = ("solver", "n_users")


@dataclasses.dataclass(frozen=True)
class GroupStats:
    """Aggregates of one group of rows (``None`` where no row has the value)."""

    key: tuple[Any, ...]
    count: int
    share_optimal: float
    median_gap: float | None
    worst_gap: float | None
    median_runtime: float | None
    mean_delay_ms: float | None
    mean_accuracy: float | None
    failed: int


def _finite(values: Iterable[Any]) -> np.ndarray:
    arr = np.array([v for v in values if v is not None], dtype=float)
    return arr[np.isfinite(arr)]


def _stat(values: np.ndarray, fn: Any) -> float | None:
    return float(fn(values)) if values.size else None


def aggregate(rows: Iterable[Mapping[str, Any]], by: Sequence[str] = DEFAULT_BY,
              ) -> list[GroupStats]:
    """Group rows by the columns ``by`` and aggregate each group.

    Parameters
    ----------
    rows
        Rows of the store's ``results_gap`` view (dicts).
    by
        Grouping columns, e.g. ``("interference", "solver", "n_users")``.

    Returns
    -------
    list of GroupStats
        Sorted by key.
    """
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        missing = [c for c in by if c not in r]
        if missing:
            raise ValueError(f"unknown grouping column(s): {', '.join(missing)}")
        groups.setdefault(tuple(r[c] for c in by), []).append(r)
    out = []
    for key in sorted(groups, key=lambda k: tuple((v is None, str(type(v)), v) for v in k)):
        g = groups[key]
        ok = [r for r in g if r["status"] in ("optimal", "feasible")]
        gaps = _finite(r.get("gap_best") for r in ok)
        runtimes = _finite(r["runtime"] for r in g if r["status"] not in ("error", "crashed"))
        # Delay and accuracy of every evaluated answer, including baselines that break the
        # uncertainty rule (as the published baselines do); the gap only for feasible ones.
        delays = _finite(r["objective"] for r in g)
        accs = _finite(r["accuracy"] for r in g if r["objective"] is not None)
        out.append(GroupStats(
            key=key, count=len(g),
            share_optimal=sum(r["status"] == "optimal" for r in g) / len(g),
            median_gap=_stat(gaps, np.median), worst_gap=_stat(gaps, np.max),
            median_runtime=_stat(runtimes, np.median),
            mean_delay_ms=None if not delays.size else float(np.mean(delays) * 1e3),
            mean_accuracy=_stat(accs, np.mean),
            failed=len(g) - len(ok),
        ))
    return out


def _fmt(value: Any, kind: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if kind == "pct":
        return f"{100 * value:.2f}%"
    if kind == "s":
        return f"{value:.3g}"
    if kind == "ms":
        return f"{value:.2f}"
    if kind == "acc":
        return f"{value:.4f}"
    return str(value)


HEADERS = ("rows", "optimal", "median gap", "worst gap", "median runtime (s)",
           "mean delay (ms)", "mean accuracy (fraction)", "not feasible")


def table(stats: Sequence[GroupStats], by: Sequence[str] = DEFAULT_BY,
          ) -> tuple[list[str], list[list[str]]]:
    """Headers and formatted cells of an aggregate table."""
    headers = [*by, *HEADERS]
    body = [[*(_fmt(k) for k in s.key), str(s.count), _fmt(s.share_optimal, "pct"),
             _fmt(s.median_gap, "pct"), _fmt(s.worst_gap, "pct"), _fmt(s.median_runtime, "s"),
             _fmt(s.mean_delay_ms, "ms"), _fmt(s.mean_accuracy, "acc"), str(s.failed)]
            for s in stats]
    return headers, body


def to_markdown(stats: Sequence[GroupStats], by: Sequence[str] = DEFAULT_BY) -> str:
    """A Markdown table."""
    headers, body = table(stats, by)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def to_text(stats: Sequence[GroupStats], by: Sequence[str] = DEFAULT_BY) -> str:
    """A fixed-width text table (the summary printed after a sweep)."""
    headers, body = table(stats, by)
    widths = [max(len(h), *(len(r[k]) for r in body)) if body else len(h)
              for k, h in enumerate(headers)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return "\n".join([fmt.format(*headers), *(fmt.format(*r) for r in body)]) + "\n"
