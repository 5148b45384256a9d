"""The :class:`Profile`: measured records, their provenance and fitted accuracy curves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from mecopt.profiles.binned import BinnedTable, binned_table
from mecopt.profiles.curves import AccuracyCurve, fit_isotonic
from mecopt.profiles.provenance import Provenance
from mecopt.profiles.records import ProfileRecords
from mecopt.profiles.sample import SAMPLE_MODES, ProfileSample
from mecopt.profiles.statistics import ProfileStatistics, compute_statistics

__all__ = ["Profile"]


@dataclass(frozen=True, eq=False)
class Profile:
    """An uncertainty profile: how likely each model is right, given the device's alpha.

    Parameters
    ----------
    name
        Short name (the registry name of shipped profiles).
    records
        The per-query records.
    provenance
        Where the records came from.
    curve_local, curve_edge
        Accuracy curves of the device and edge model; by default (``None``) non-increasing
        isotonic regressions of the records' outcomes on alpha.
    """

    name: str
    records: ProfileRecords
    provenance: Provenance
    curve_local: AccuracyCurve | None = None
    curve_edge: AccuracyCurve | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.records, ProfileRecords):
            raise TypeError("records must be a ProfileRecords")
        if not isinstance(self.provenance, Provenance):
            raise TypeError("provenance must be a Provenance")
        if self.curve_local is None:
            curve = fit_isotonic(self.records.alpha, self.records.local_correct)
            object.__setattr__(self, "curve_local", curve)
        if self.curve_edge is None:
            curve = fit_isotonic(self.records.alpha, self.records.edge_correct)
            object.__setattr__(self, "curve_edge", curve)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def synthetic(self) -> bool:
        """Whether the records are synthetic rather than measured."""
        return self.provenance.synthetic

    def statistics(self) -> ProfileStatistics:
        """Return the profile's summary statistics (Spearman, AUROC, calibration, ...)."""
        return compute_statistics(self.records)

    def table(
        self, bins: int = 10, strategy: Literal["uniform", "quantile"] = "uniform"
    ) -> BinnedTable:
        """Return the binned accuracy table with Wilson intervals; see :func:`binned_table`."""
        r = self.records
        return binned_table(r.alpha, r.local_correct, r.edge_correct, bins=bins, strategy=strategy)

    def summary(self, bins: int = 10) -> str:
        """Return a human-readable summary: provenance, statistics and the binned table."""
        prov = self.provenance
        kind = "SYNTHETIC (not measured)" if prov.synthetic else "measured"
        models = ", ".join(
            f"{role}: {info.get('name', info) if isinstance(info, dict) else info}"
            for role, info in prov.models.items()
        )
        head = [
            f"profile {self.name!r} ({kind}, {len(self)} queries, {prov.date})",
            f"  {prov.description}",
            f"  models: {models}",
        ]
        return (
            "\n".join(head)
            + "\n\n"
            + self.statistics().format()
            + "\n\n"
            + self.table(bins).format()
        )

    def sample(
        self,
        n: int,
        rng: np.random.Generator,
        mode: Literal["expected", "outcomes"] = "expected",
    ) -> ProfileSample:
        """Draw instance data for ``n`` users by resampling the records with replacement.

        Each user gets one record's alpha, latencies and prompt size (drawn jointly, so their
        correlations are kept). In mode "expected" the accuracies are the fitted curves at that
        alpha; in mode "outcomes" they are the record's real 0/1 outcomes.

        Parameters
        ----------
        n
            Number of users.
        rng
            The random generator to draw with.
        mode
            "expected" or "outcomes".

        Returns
        -------
        ProfileSample
            The drawn data, every array of shape ``(n,)``.

        Raises
        ------
        ValueError
            If ``n`` is negative or ``mode`` is unknown.
        TypeError
            If ``rng`` is not a ``numpy.random.Generator``.
        """
        if mode not in SAMPLE_MODES:
            raise ValueError(f"mode must be one of {', '.join(SAMPLE_MODES)}; got {mode!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        r = self.records
        idx = rng.integers(0, len(r), size=int(n))
        alpha = r.alpha[idx]
        if mode == "expected":
            assert self.curve_local is not None and self.curve_edge is not None
            acc_local = np.clip(np.asarray(self.curve_local(alpha), dtype=np.float64), 0, 1)
            acc_edge = np.clip(np.asarray(self.curve_edge(alpha), dtype=np.float64), 0, 1)
        else:
            acc_local = r.local_correct[idx].astype(np.float64)
            acc_edge = r.edge_correct[idx].astype(np.float64)
        return ProfileSample(
            alpha=alpha,
            acc_local=acc_local,
            acc_edge=acc_edge,
            local_latency_s=r.local_latency_s[idx],
            edge_latency_s=r.edge_latency_s[idx],
            prompt_bytes=r.prompt_bytes[idx],
        )
