"""Margin-based token-level uncertainty of a language model's answer.

The metric is the published margin-based one (arXiv 2602.07958): from the model's next-token
distribution at an answer position, take the top ``3 k`` tokens, merge the tokens that decode to
the same normalised string (strip, lower-case) by summing their probabilities, drop empty strings,
keep the top ``k`` classes, renormalise over them to ``p1 >= p2 >= ...`` and return

    alpha = 1 - (p1 - p2).

``alpha = 0`` means the model is sure of its answer, ``alpha = 1`` means its two best answers
tie. For answers of several tokens the per-token values are aggregated ("first", "mean", "max").

Everything is vectorised numpy; torch tensors are accepted and converted without importing torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "AGGREGATES",
    "canonical_classes",
    "canonical_from_tokenizer",
    "margin_uncertainty",
    "normalise_token",
    "to_numpy",
]

#: The valid values of ``aggregate``; "none" keeps one value per distribution.
AGGREGATES = ("first", "mean", "max", "none")

#: Tolerance used to recognise probabilities (rows summing to one) when ``kind="auto"``.
_PROB_ATOL = 1e-4


def normalise_token(text: str) -> str:
    """Normalise a decoded token as the published method does: strip and lower-case.

    Parameters
    ----------
    text
        The decoded token.

    Returns
    -------
    str
        The normalised string; empty if the token decodes to white space only.
    """
    return text.strip().lower()


def canonical_classes(tokens: Iterable[str]) -> tuple[NDArray[np.int64], list[str]]:
    """Build the token-id to class-id array from decoded token strings.

    Tokens whose normalised strings are equal share a class; tokens that normalise to the empty
    string get class ``-1`` and are dropped by :func:`margin_uncertainty`.

    Parameters
    ----------
    tokens
        The decoded string of every token id, in id order.

    Returns
    -------
    canonical : numpy.ndarray
        Integer array of shape ``(vocab,)``: the class id of each token id, or ``-1``.
    names : list of str
        The normalised string of each class id.
    """
    ids: dict[str, int] = {}
    out: list[int] = []
    for tok in tokens:
        norm = normalise_token(tok)
        if not norm:
            out.append(-1)
            continue
        out.append(ids.setdefault(norm, len(ids)))
    return np.asarray(out, dtype=np.int64), list(ids)


def canonical_from_tokenizer(tokenizer: Any) -> tuple[NDArray[np.int64], list[str]]:
    """Build the ``canonical`` array of :func:`margin_uncertainty` from a Hugging Face tokenizer.

    Each token id is decoded on its own (special tokens decode to the empty string and are
    dropped), then normalised with :func:`normalise_token`.

    Parameters
    ----------
    tokenizer
        An object with ``decode(ids, skip_special_tokens=True)`` and ``len()``.

    Returns
    -------
    canonical : numpy.ndarray
        Integer array of shape ``(len(tokenizer),)`` of class ids (``-1`` for empty strings).
    names : list of str
        The normalised string of each class id.
    """
    n = len(tokenizer)
    return canonical_classes(tokenizer.decode([i], skip_special_tokens=True) for i in range(n))


def to_numpy(x: ArrayLike | Any) -> NDArray[np.float64]:
    """Return ``x`` as a float64 numpy array; torch tensors are detached and moved to the CPU.

    Parameters
    ----------
    x
        An array-like or a torch tensor (of any float dtype, on any device).

    Returns
    -------
    numpy.ndarray
        A float64 array.
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        x = x.detach().cpu().float().numpy()
    return np.asarray(x, dtype=np.float64)


def _to_probabilities(
    x: NDArray[np.float64], kind: Literal["auto", "logits", "probs"]
) -> NDArray[np.float64]:
    """Validate ``x`` and return probabilities along the last axis."""
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"logits must be finite; found {x[tuple(bad)]} at index {tuple(int(i) for i in bad)}"
        )
    if kind == "auto":
        is_probs = bool(
            np.all(x >= 0.0)
            and np.all(x <= 1.0)
            and np.allclose(x.sum(axis=-1), 1.0, atol=_PROB_ATOL)
        )
        kind = "probs" if is_probs else "logits"
    if kind == "probs":
        if np.any(x < 0.0):
            raise ValueError("probabilities must be non-negative")
        total = x.sum(axis=-1, keepdims=True)
        if np.any(total <= 0.0):
            raise ValueError("every probability row must have a positive sum")
        return x / total
    if kind != "logits":
        raise ValueError(f"kind must be 'auto', 'logits' or 'probs', got {kind!r}")
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _margin_plain(p: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """alpha for each row of ``p`` (rows, vocab) without merging."""
    vocab = p.shape[1]
    k = min(k, vocab)
    if k < vocab:
        top = np.partition(p, vocab - k, axis=1)[:, vocab - k :]
    else:
        top = p
    top = np.sort(top, axis=1)[:, ::-1]
    total = top.sum(axis=1)
    p1 = top[:, 0]
    p2 = top[:, 1] if k > 1 else np.zeros_like(p1)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = 1.0 - (p1 - p2) / total
    # All top-k mass zero cannot happen for a normalised row, but keep the result defined.
    return np.where(total > 0, alpha, 1.0)


def _margin_merged(
    p: NDArray[np.float64], k: int, canonical: NDArray[np.int64]
) -> NDArray[np.float64]:
    """alpha for each row of ``p`` (rows, vocab), merging tokens of one class."""
    rows, vocab = p.shape
    m = min(3 * k, vocab)
    idx = np.argpartition(p, vocab - m, axis=1)[:, vocab - m :] if m < vocab else None
    if idx is None:
        idx = np.broadcast_to(np.arange(vocab), (rows, vocab))
    probs = np.take_along_axis(p, idx, axis=1).ravel()
    cls = canonical[idx].ravel()
    row = np.repeat(np.arange(rows), idx.shape[1])
    keep = cls >= 0
    probs, cls, row = probs[keep], cls[keep], row[keep]
    alpha = np.ones(rows)  # rows whose top tokens all decode to empty strings: undefined -> 1
    if probs.size == 0:
        return alpha
    # Merge equal (row, class) pairs by summing.
    n_classes = int(canonical.max()) + 1
    uniq, inv = np.unique(row * n_classes + cls, return_inverse=True)
    merged = np.bincount(inv, weights=probs)
    mrow = uniq // n_classes
    # Rank the merged classes within each row, highest probability first.
    order = np.lexsort((-merged, mrow))
    merged, mrow = merged[order], mrow[order]
    starts = np.searchsorted(mrow, np.arange(rows))
    rank = np.arange(merged.size) - starts[mrow]
    top = rank < k
    total = np.bincount(mrow[top], weights=merged[top], minlength=rows)
    p1 = np.zeros(rows)
    p2 = np.zeros(rows)
    first = rank == 0
    second = (rank == 1) & (k > 1)
    p1[mrow[first]] = merged[first]
    p2[mrow[second]] = merged[second]
    present = total > 0
    alpha[present] = 1.0 - (p1[present] - p2[present]) / total[present]
    return alpha


def _aggregate(
    alpha: NDArray[np.float64],
    aggregate: str,
    mask: NDArray[np.bool_] | None,
) -> NDArray[np.float64]:
    """Aggregate per-token alpha of shape (..., tokens) over the last axis."""
    if mask is None:
        mask = np.ones(alpha.shape, dtype=bool)
    if not np.all(mask.any(axis=-1)):
        raise ValueError("mask selects no answer token for at least one query")
    if aggregate == "first":
        first = np.argmax(mask, axis=-1)
        return np.take_along_axis(alpha, first[..., None], axis=-1)[..., 0]
    if aggregate == "mean":
        return np.where(mask, alpha, 0.0).sum(axis=-1) / mask.sum(axis=-1)
    return np.where(mask, alpha, -np.inf).max(axis=-1)


def margin_uncertainty(
    logits: ArrayLike | Any,
    *,
    k: int = 10,
    canonical: Sequence[int] | NDArray[np.integer] | None = None,
    aggregate: Literal["first", "mean", "max", "none"] = "first",
    mask: ArrayLike | None = None,
    kind: Literal["auto", "logits", "probs"] = "auto",
) -> NDArray[np.float64] | float:
    """Margin-based uncertainty alpha = 1 - (p1 - p2) of next-token distributions.

    Parameters
    ----------
    logits
        Logits or probabilities (numpy array or torch tensor). Shape ``(vocab,)`` for one
        distribution; with ``aggregate`` "first", "mean" or "max" the second-to-last axis is the
        answer's token axis, ``(..., tokens, vocab)``, and it is aggregated away; with
        ``aggregate="none"`` every distribution of ``(..., vocab)`` gets its own alpha.
    k
        Number of (merged) candidates kept before renormalising; the published value is 10.
        A ``k`` larger than the vocabulary keeps the whole vocabulary.
    canonical
        Optional integer array of shape ``(vocab,)`` mapping each token id to the class of its
        normalised decoded string (``-1`` for tokens to drop), built with
        :func:`canonical_from_tokenizer` or :func:`canonical_classes`. When given, the top
        ``3 k`` tokens are merged by class before the top ``k`` are kept.
    aggregate
        How per-token values combine over the answer's tokens: "first" (the published choice for
        one-word answers), "mean", "max", or "none" for no aggregation.
    mask
        Optional boolean array of shape ``(..., tokens)``: which token positions belong to the
        answer (for padded batches). Only used when aggregating.
    kind
        Whether ``logits`` holds "logits" or "probs" (probabilities); "auto" treats the input as
        probabilities when every value is in [0, 1] and each row sums to 1.

    Returns
    -------
    float or numpy.ndarray
        alpha in [0, 1]: a float for a single answer, else an array of the leading shape.

    Raises
    ------
    ValueError
        If the input is empty, holds NaN or infinite values, ``k < 1``, ``canonical`` or ``mask``
        has the wrong shape, or ``aggregate``/``kind`` is unknown.

    Examples
    --------
    >>> round(margin_uncertainty([0.7, 0.2, 0.1]), 6)
    0.5
    >>> margin_uncertainty([0.5, 0.5, 0.0])
    1.0
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {', '.join(AGGREGATES)}; got {aggregate!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    x = to_numpy(logits)
    if x.ndim == 0 or x.shape[-1] == 0 or x.size == 0:
        raise ValueError(f"logits must have a non-empty vocabulary axis, got shape {x.shape}")
    p = _to_probabilities(x, kind)
    vocab = p.shape[-1]
    flat = p.reshape(-1, vocab)
    if canonical is None:
        alpha = _margin_plain(flat, int(k))
    else:
        canon = np.asarray(canonical)
        if canon.shape != (vocab,) or not np.issubdtype(canon.dtype, np.integer):
            raise ValueError(
                f"canonical must be an integer array of shape ({vocab},), got "
                f"{canon.dtype} of shape {canon.shape}"
            )
        alpha = _margin_merged(flat, int(k), canon.astype(np.int64))
    alpha = np.clip(alpha, 0.0, 1.0).reshape(p.shape[:-1])
    if aggregate != "none" and alpha.ndim >= 1:
        m = None
        if mask is not None:
            m = np.asarray(to_numpy(mask) != 0)
            if m.shape != alpha.shape:
                raise ValueError(f"mask must have shape {alpha.shape}, got {m.shape}")
        alpha = _aggregate(alpha, aggregate, m)
    if alpha.ndim == 0:
        return float(alpha)
    return alpha
