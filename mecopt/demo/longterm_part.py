"""The demo's long-term part: online and learned policies against hindsight on one trace.

Every policy runs on the same trace (common random numbers) through
:func:`mecopt.longterm.policy_comparison.compare`, i.e. as a :mod:`mecopt.bench` sweep; the
rows keep each long-term constraint separately (worst device's energy / budget, mean
effective accuracy against A_min, mean hallucination against H_max) and the gap to the
hindsight optimum (to its proven bound when the time limit stopped it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from mecopt.demo.learned import LEARNED_DEVICES, learned_entries
from mecopt.demo.settings import DemoSettings
from mecopt.longterm.policy_comparison import HINDSIGHT, compare
from mecopt.longterm.rollout import CONSTRAINT_TOL
from mecopt.longterm.scenario import LongtermScenario, make_scenario

#: The long-term constraints, in the order shown: (key, words).
CONSTRAINTS = (
    ("energy", "energy budget"),
    ("accuracy", "accuracy target"),
    ("hallucination", "hallucination cap"),
)


@dataclass(frozen=True)
class LongtermDemo:
    """The long-term comparison of the demo.

    Attributes
    ----------
    rows
        One dict per policy, in the order run: ``policy``, ``kind`` (``online``,
        ``learned``, ``hindsight``), ``status``, ``message``, ``latency_ms``, ``bound_ms``
        (hindsight's proven lower bound), ``gap`` (to the hindsight reference, a fraction),
        ``energy_ratio`` (worst device's energy / budget), ``accuracy``, ``hallucination``,
        ``offload_share``, ``met`` (constraint key -> bool), ``runtime_s``.
    scenario
        The long-term scenario (targets and budgets).
    n_devices, horizon, seed
        The trace.
    notes
        Sentences on what the figures cannot show (no hindsight reference).
    left_out
        ``(policy, reason)`` of the policies that did not run: rows with an error or a
        timeout, and learned policies left out before the sweep (see
        :func:`mecopt.demo.learned.learned_entries`).
    """

    rows: list[dict[str, Any]]
    scenario: LongtermScenario
    n_devices: int
    horizon: int
    seed: int
    notes: list[str]
    left_out: list[tuple[str, str]] = field(default_factory=list)

    def title(self) -> str:
        """The trace in words."""
        s = self.scenario
        return (
            f"{s.name} scenario: U = {self.n_devices} devices, M = {s.n_servers} edge "
            f"servers, T = {self.horizon} slots of {1e3 * s.slot_s:g} ms, trace seed "
            f"{self.seed}"
        )

    def table(self) -> str:
        """A fixed-width text table (figures measured on the simulated trace)."""
        s = self.scenario
        head = (
            f"{'policy':<20}{'status':<13}{'latency ms':>11}{'gap':>9}"
            f"{'energy/budget':>15}{'accuracy':>10}{'halluc.':>9}{'offl.':>7}"
            f"{'time s':>8}"
        )
        lines = [head, "-" * len(head)]
        for r in self.rows:
            if r["latency_ms"] is None:
                lines.append(f"{r['policy']:<20}{r['status']:<13}{short_reason(r['message'])}")
                continue
            flag = {k: "" if r["met"][k] else "!" for k, _ in CONSTRAINTS}
            lines.append(
                f"{r['policy']:<20}{r['status']:<13}{r['latency_ms']:>11.2f}"
                f"{_pct(r['gap']):>9}{r['energy_ratio']:>14.3f}{flag['energy']:1}"
                f"{r['accuracy']:>9.4f}{flag['accuracy']:1}"
                f"{r['hallucination']:>8.4f}{flag['hallucination']:1}"
                f"{100 * r['offload_share']:>6.1f}%{r['runtime_s']:>8.2f}"
            )
        hind = next((r for r in self.rows if r["kind"] == "hindsight"), None)
        lines.append(
            f"targets: energy/budget <= 1 (worst device), accuracy >= {s.min_accuracy:g}, "
            f"hallucination <= {s.max_hallucination:g}; '!' marks a violated constraint"
        )
        if hind is not None and hind["bound_ms"] is not None:
            lines.append(
                f"hindsight: {hind['status']}, proven lower bound "
                f"{hind['bound_ms']:.3f} ms; gap = (latency - hindsight) / latency"
            )
        lines += [f"left out: {label}: {reason}" for label, reason in self.left_out]
        lines += self.notes
        return "\n".join(lines)

    def not_shown(self) -> list[tuple[str, str]]:
        """``(policy, short reason)`` of every policy without a result."""
        failed = [(r["policy"], r["message"]) for r in self.rows if r["latency_ms"] is None]
        # the figure says why in a few words; the table keeps the hint on what to do
        return [
            (label, short_reason(reason.split(" (refresh ")[0], 100))
            for label, reason in failed + self.left_out
        ]


def short_reason(message: str, width: int = 90) -> str:
    """An error row's message without module paths and folders, cut to ``width``."""
    text = message.strip().splitlines()[0] if message.strip() else "no message"
    text = re.sub(r"(?:/[^\s/:]+)+/([^\s/:]+)", r"\1", text)  # /a/b/file.zip -> file.zip
    head, sep, rest = text.partition(": ")
    if sep and "." in head and " " not in head:  # "package.module.SomeError: ..."
        text = f"{head.rsplit('.', 1)[-1]}: {rest}"
    return text if len(text) <= width else text[: width - 3] + "..."


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.1f}%"


def _reference_ms(row: dict[str, Any]) -> float | None:
    """Hindsight's optimum (ms) when proven, else its proven lower bound."""
    if row["status"] == "optimal" and row["objective"] is not None:
        return 1e3 * float(row["objective"])
    bound = row.get("bound")
    return 1e3 * float(bound) if bound is not None and math.isfinite(bound) else None


def _met(metrics: dict[str, Any], scen: LongtermScenario) -> dict[str, bool]:
    """Each long-term constraint met or not, with the rollout's own tolerance."""
    return {
        "energy": metrics["energy_max_ratio"] <= 1.0 + CONSTRAINT_TOL,
        "accuracy": scen.min_accuracy is None
        or metrics["accuracy"] >= scen.min_accuracy - CONSTRAINT_TOL,
        "hallucination": scen.max_hallucination is None
        or metrics["hallucination"] <= scen.max_hallucination + CONSTRAINT_TOL,
    }


def run_longterm(settings: DemoSettings, *, progress: bool = True) -> LongtermDemo:
    """Run the online, learned and hindsight policies on one trace (see the module doc).

    Parameters
    ----------
    settings
        The demo's settings (``lt_*``, ``learned``, ``hindsight_limit``, ``run_limit``,
        ``workers``).
    progress
        Show the sweep's progress bar on standard error.
    """
    scen = make_scenario(settings.lt_scenario)
    learned, left_out = learned_entries(settings.learned)
    kinds = {p: "online" for p in settings.lt_policies}
    kinds |= {e["label"]: "learned" for e in learned}
    kinds[HINDSIGHT] = "hindsight"
    entries = [
        *settings.lt_policies,
        *learned,
        {"name": HINDSIGHT, "options": {"time_limit": settings.hindsight_limit}},
    ]
    raw = compare(
        entries,
        devices=[LEARNED_DEVICES],
        horizon=settings.lt_horizon,
        seeds=[settings.lt_seed],
        scenario=settings.lt_scenario,
        workers=settings.workers,
        progress=progress,
        name="demo-longterm",
        hard_limit=settings.run_limit,
    )
    by_label = {r["solver"]: r for r in raw}
    hind = by_label.get(HINDSIGHT)
    ref = _reference_ms(hind) if hind is not None else None
    rows = []
    for label, kind in kinds.items():
        r = by_label[label]
        m = r["metrics"]
        ok = r["objective"] is not None and bool(m)
        lat = 1e3 * r["objective"] if ok else None
        rows.append(
            {
                "policy": label,
                "kind": kind,
                "status": r["status"],
                "message": r.get("message") or "",
                "latency_ms": lat,
                "bound_ms": (None if r.get("bound") is None else 1e3 * r["bound"]),
                "gap": (lat - ref) / lat if ok and ref is not None and lat > 0 else None,
                "energy_ratio": m.get("energy_max_ratio") if ok else None,
                "accuracy": m.get("accuracy") if ok else None,
                "hallucination": m.get("hallucination") if ok else None,
                "offload_share": m.get("offload_share") if ok else None,
                "met": _met(m, scen) if ok else {},
                "runtime_s": r.get("runtime"),
            }
        )
    notes = []
    if ref is None:
        notes.append("hindsight gave no reference (no proven bound): no gaps shown")
    return LongtermDemo(
        rows, scen, LEARNED_DEVICES, settings.lt_horizon, settings.lt_seed, notes, left_out
    )
