"""Group-wise integer quantisation of weight matrices, packed into bytes (numpy only).

A weight matrix ``W`` (rows x columns) is cut into groups of ``group_size`` consecutive
entries along each row. Each group stores a float16 ``scale`` and a float16 ``offset`` (its
minimum) and ``bits``-bit unsigned codes ``q = round((w - offset) / scale)``, so
``w ~ offset + scale q`` (asymmetric min-max quantisation). The codes of the whole matrix are
written as one little-endian bit stream (``bits`` bits per code, no padding between codes),
so a 3-bit matrix takes 3/8 of a byte per weight. The storage of one matrix is therefore
``ceil(n bits / 8) + 4 n / group_size`` bytes: the formula :func:`packed_bytes` gives and the
tests check against the saved files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SUPPORTED_BITS", "PackedMatrix", "pack_matrix", "packed_bytes", "unpack_matrix"]

#: Code widths the packer supports.
SUPPORTED_BITS = (2, 3, 4, 8)


def check_quantisation(bits: int, group_size: int, columns: int, *, name: str = "weight") -> None:
    """Raise ``ValueError`` naming the field if ``bits`` or ``group_size`` cannot be used."""
    if isinstance(bits, bool) or bits not in SUPPORTED_BITS:
        raise ValueError(f"bits = {bits!r}: must be one of {', '.join(map(str, SUPPORTED_BITS))}")
    whole = isinstance(group_size, int | np.integer) and not isinstance(group_size, bool)
    if not whole or group_size < 1:
        raise ValueError(f"group_size = {group_size!r}: must be a whole number >= 1")
    if columns % group_size:
        raise ValueError(
            f"group_size = {group_size} does not divide the {columns} columns of {name}"
        )


@dataclass(frozen=True)
class PackedMatrix:
    """A quantised matrix: packed codes, per-group float16 scales and offsets, and its shape."""

    codes: np.ndarray  # uint8, the bit stream
    scale: np.ndarray  # float16, (rows, columns / group_size)
    offset: np.ndarray  # float16, same shape
    shape: tuple[int, int]
    bits: int
    group_size: int

    @property
    def nbytes(self) -> int:
        """Bytes of codes, scales and offsets."""
        return int(self.codes.nbytes + self.scale.nbytes + self.offset.nbytes)


def packed_bytes(n_weights: int, bits: int, group_size: int) -> int:
    """Bytes of ``n_weights`` weights packed at ``bits``, float16 scale + offset per group."""
    return -(-n_weights * bits // 8) + 4 * (n_weights // group_size)


def pack_matrix(weight: np.ndarray, bits: int, group_size: int) -> PackedMatrix:
    """Quantise a 2-D float matrix group-wise and pack the codes.

    Parameters
    ----------
    weight
        (rows, columns) float array.
    bits
        Code width, one of :data:`SUPPORTED_BITS`.
    group_size
        Entries per group along a row; must divide the number of columns.

    Returns
    -------
    PackedMatrix
        The packed representation.

    Raises
    ------
    ValueError
        If ``bits`` is not supported or ``group_size`` does not divide the columns.
    """
    w = np.asarray(weight, dtype=np.float32)
    if w.ndim != 2:
        raise ValueError(f"weight must be 2-D, got shape {w.shape}")
    rows, cols = w.shape
    check_quantisation(bits, group_size, cols)
    g = w.reshape(rows, cols // group_size, group_size)
    lo = g.min(axis=2).astype(np.float16)
    hi = g.max(axis=2)
    levels = (1 << bits) - 1
    scale = ((hi - lo.astype(np.float32)) / levels).astype(np.float16)
    s = scale.astype(np.float32)
    safe = np.where(s > 0, s, 1.0)
    q = np.rint((g - lo.astype(np.float32)[..., None]) / safe[..., None])
    q = np.clip(q, 0, levels).astype(np.uint8).reshape(-1)
    bit_matrix = ((q[:, None] >> np.arange(bits, dtype=np.uint8)) & 1).astype(np.uint8)
    codes = np.packbits(bit_matrix.reshape(-1), bitorder="little")
    return PackedMatrix(codes, scale, lo, (rows, cols), bits, group_size)


def unpack_matrix(packed: PackedMatrix) -> np.ndarray:
    """Dequantise a :class:`PackedMatrix` back to a float32 matrix."""
    rows, cols = packed.shape
    n = rows * cols
    bits = np.unpackbits(packed.codes, bitorder="little")[: n * packed.bits]
    weights = (1 << np.arange(packed.bits, dtype=np.uint16)).astype(np.uint16)
    q = (bits.reshape(n, packed.bits).astype(np.uint16) * weights).sum(axis=1)
    q = q.reshape(rows, cols // packed.group_size, packed.group_size).astype(np.float32)
    w = packed.offset.astype(np.float32)[..., None] + packed.scale.astype(np.float32)[..., None] * q
    return w.reshape(rows, cols)
