"""Export stored rows to CSV or Parquet (Parquet needs the extra ``parquet``)."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mecopt.errors import MissingDependencyError

FORMATS = ("csv", "parquet")


def export_rows(rows: Sequence[Mapping[str, Any]], path: str | Path,
                fmt: str | None = None) -> Path:
    """Write rows to ``path``; the format comes from ``fmt`` or the file suffix.

    Raises
    ------
    ValueError
        For an unknown format.
    MissingDependencyError
        For Parquet without pyarrow.
    """
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"export format {fmt!r}: must be one of {', '.join(FORMATS)} "
                         "(or a file ending in .csv / .parquet)")
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0]) if rows else []
    if fmt == "csv":
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        return path
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError(
            "Parquet export needs pyarrow; install it with: pip install 'mecopt[parquet]'"
        ) from None
    table = pa.Table.from_pylist([dict(r) for r in rows]) if rows else pa.table({})
    pq.write_table(table, path)
    return path
