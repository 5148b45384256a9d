"""Statistics showing how well alpha predicts the device model's errors."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata, spearmanr

from mecopt.profiles.records import ProfileRecords

__all__ = ["ProfileStatistics", "auroc", "calibration_error", "compute_statistics", "spearman"]


def spearman(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """Spearman rank correlation of ``x`` and ``y`` and its two-sided p-value.

    Returns ``(nan, nan)`` when either input is constant.
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan"), float("nan")
    res = spearmanr(a, b)
    return float(res.statistic), float(res.pvalue)


def auroc(score: ArrayLike, positive: ArrayLike) -> float:
    """Area under the ROC curve of ``score`` for predicting ``positive`` (ties count one half).

    Equals the probability that a random positive scores higher than a random negative
    (the Mann-Whitney statistic). NaN when all labels are equal.

    Parameters
    ----------
    score
        Predictor values (higher = more likely positive).
    positive
        Boolean labels.

    Returns
    -------
    float
        The AUROC in [0, 1]; 0.5 is chance.
    """
    s = np.asarray(score, dtype=np.float64)
    pos = np.asarray(positive, dtype=bool)
    n_pos = int(pos.sum())
    n_neg = pos.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)
    u = ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def calibration_error(confidence: ArrayLike, correct: ArrayLike, *, bins: int = 10) -> float:
    """Expected calibration error of ``confidence`` as a probability of being correct.

    ECE = sum over equal-width bins of (bin share) * |accuracy - mean confidence|.

    Parameters
    ----------
    confidence
        Predicted probability of a correct answer, in [0, 1].
    correct
        0/1 outcomes.
    bins
        Number of equal-width bins over [0, 1].

    Returns
    -------
    float
        The ECE in [0, 1].
    """
    c = np.asarray(confidence, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    idx = np.clip((c * bins).astype(np.int64), 0, bins - 1)
    n = np.bincount(idx, minlength=bins)
    gap = np.abs(
        np.bincount(idx, weights=y, minlength=bins) - np.bincount(idx, weights=c, minlength=bins)
    )
    return float(gap.sum() / max(n.sum(), 1))


@dataclass(frozen=True)
class ProfileStatistics:
    """Summary statistics of a profile.

    Attributes
    ----------
    n
        Number of queries.
    acc_local, acc_edge
        Accuracy of the device and of the edge model.
    acc_oracle
        Accuracy if every query went to a model that answers it correctly when either does.
    frac_edge_only, frac_local_only
        Share of queries only the edge (only the device) model answers correctly.
    alpha_mean, alpha_median, alpha_std
        Distribution of alpha.
    spearman_local, spearman_local_p
        Spearman correlation of alpha with the device model's correctness, and its p-value
        (negative when uncertainty predicts errors).
    spearman_edge
        Spearman correlation of (device) alpha with the edge model's correctness.
    auroc_local_error
        AUROC of alpha for predicting a device-model error (0.5 = chance).
    auroc_edge_gain
        AUROC of alpha for predicting that offloading fixes the answer (edge right, device
        wrong).
    ece_local
        Expected calibration error of ``1 - alpha`` read as the device model's probability of
        being right (10 equal-width bins).
    local_latency_mean_s, edge_latency_mean_s
        Mean measured latencies.
    prompt_bytes_mean, output_tokens_mean
        Mean prompt size and generated length.
    """

    n: int
    acc_local: float
    acc_edge: float
    acc_oracle: float
    frac_edge_only: float
    frac_local_only: float
    alpha_mean: float
    alpha_median: float
    alpha_std: float
    spearman_local: float
    spearman_local_p: float
    spearman_edge: float
    auroc_local_error: float
    auroc_edge_gain: float
    ece_local: float
    local_latency_mean_s: float
    edge_latency_mean_s: float
    prompt_bytes_mean: float
    output_tokens_mean: float

    def to_dict(self) -> dict[str, float]:
        """Return the statistics as a JSON-able dictionary."""
        return asdict(self)

    def format(self) -> str:
        """Return the statistics as an aligned two-column text table."""
        width = max(len(k) for k in self.to_dict())
        lines = []
        for key, value in self.to_dict().items():
            text = str(value) if isinstance(value, int) else f"{value:.4g}"
            lines.append(f"{key:<{width}}  {text}")
        return "\n".join(lines)


def compute_statistics(records: ProfileRecords) -> ProfileStatistics:
    """Compute :class:`ProfileStatistics` from validated records.

    Parameters
    ----------
    records
        The per-query records.

    Returns
    -------
    ProfileStatistics
        The statistics.
    """
    a = records.alpha
    loc = records.local_correct
    edg = records.edge_correct
    rho_l, p_l = spearman(a, loc)
    rho_e, _ = spearman(a, edg)
    return ProfileStatistics(
        n=len(records),
        acc_local=float(loc.mean()),
        acc_edge=float(edg.mean()),
        acc_oracle=float((loc | edg).mean()),
        frac_edge_only=float((edg & ~loc).mean()),
        frac_local_only=float((loc & ~edg).mean()),
        alpha_mean=float(a.mean()),
        alpha_median=float(np.median(a)),
        alpha_std=float(a.std()),
        spearman_local=rho_l,
        spearman_local_p=p_l,
        spearman_edge=rho_e,
        auroc_local_error=auroc(a, ~loc),
        auroc_edge_gain=auroc(a, edg & ~loc),
        ece_local=calibration_error(1.0 - a, loc),
        local_latency_mean_s=float(records.local_latency_s.mean()),
        edge_latency_mean_s=float(records.edge_latency_s.mean()),
        prompt_bytes_mean=float(records.prompt_bytes.mean()),
        output_tokens_mean=float(records.output_tokens.mean()),
    )
