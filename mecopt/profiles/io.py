"""Reading and writing profiles.

File format
-----------
A profile is two files side by side:

- ``NAME.csv`` (or ``NAME.parquet``, needs pyarrow): one row per query with the columns of
  :data:`~mecopt.profiles.records.REQUIRED_COLUMNS` (and optionally ``id``, ``task``); a header
  row names the columns.
- ``NAME.json``: the sidecar, a JSON object with ``format`` ("mecopt-profile"),
  ``format_version`` (1), ``name``, ``records`` (the data file's name, relative to the sidecar),
  ``columns`` (what each column means), ``provenance`` (see
  :class:`~mecopt.profiles.provenance.Provenance`), ``curves`` (per model, ``{"kind":
  "isotonic"}`` or a linear curve) and ``statistics`` (written for readers; recomputed on load).

A path may name either file, or the common stem.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.profiles.curves import curve_from_dict
from mecopt.profiles.profile import Profile
from mecopt.profiles.provenance import Provenance
from mecopt.profiles.records import COLUMN_DOCS, ProfileRecords

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "read_profile",
    "read_records",
    "write_profile",
    "write_records",
]

FORMAT = "mecopt-profile"
FORMAT_VERSION = 1
_DATA_SUFFIXES = (".csv", ".parquet")


def _read_csv_columns(path: Path) -> dict[str, list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:  # a leading BOM is allowed
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ValueError(f"{path}: empty file, expected a header row") from None
        if len(set(header)) != len(header):
            raise ValueError(f"{path}: duplicate column names in header {header}")
        cols: dict[str, list[str]] = {h: [] for h in header}
        for i, row in enumerate(reader, start=1):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise ValueError(f"{path}: row {i} has {len(row)} fields, header has {len(header)}")
            for h, v in zip(header, row, strict=True):
                cols[h].append(v)
    return cols


def _require_pyarrow() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        from mecopt.errors import MissingDependencyError

        raise MissingDependencyError(
            "Parquet profiles need pyarrow: pip install 'mecopt[parquet]'"
        ) from None
    return pq


def read_records(path: str | Path) -> ProfileRecords:
    """Read and validate per-query records from a CSV or Parquet file.

    Parameters
    ----------
    path
        A ``.csv`` or ``.parquet`` file with a header naming the columns.

    Returns
    -------
    ProfileRecords
        The validated records.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If a column is missing or unknown, or a cell is malformed (the message names the row
        and column).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"records file not found: {path}")
    if path.suffix == ".parquet":
        table = _require_pyarrow().read_table(path)
        cols: dict[str, Any] = {name: table.column(name).to_pylist() for name in table.column_names}
    else:
        try:
            cols = _read_csv_columns(path)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        except csv.Error as exc:
            raise ValueError(f"{path}: not a valid CSV file ({exc})") from None
    return ProfileRecords.from_columns(cols, source=str(path))


def write_records(records: ProfileRecords, path: str | Path) -> Path:
    """Write records to ``path`` (CSV, or Parquet if the suffix is ``.parquet``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = records.columns()
    if path.suffix == ".parquet":
        import pyarrow as pa

        _require_pyarrow().write_table(
            pa.table(
                {k: np.asarray(v) if k not in ("id", "task") else list(v) for k, v in cols.items()}
            ),
            path,
        )
        return path
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(list(cols))
        for i in range(len(records)):
            row = []
            for k, v in cols.items():
                x = v[i]
                if k in ("local_correct", "edge_correct"):
                    row.append(str(int(x)))
                elif k in ("prompt_bytes", "output_tokens"):
                    row.append(str(int(x)))
                elif isinstance(x, str):
                    row.append(x)
                else:
                    row.append(repr(float(x)))
            writer.writerow(row)
    return path


def _sidecar_and_data(path: Path) -> tuple[Path, Path | None]:
    """Resolve a profile path to (sidecar, data file named by the path or None)."""
    if path.suffix == ".json":
        return path, None
    if path.suffix in _DATA_SUFFIXES:
        return path.with_suffix(".json"), path
    return path.with_name(path.name + ".json"), None


def read_profile(path: str | Path) -> Profile:
    """Read a profile written by :func:`write_profile`.

    Parameters
    ----------
    path
        The sidecar ``.json``, the data file, or their common stem.

    Returns
    -------
    Profile
        The profile, with its curves fitted from the records.

    Raises
    ------
    FileNotFoundError
        If the sidecar or the data file does not exist.
    ValueError
        If the sidecar is malformed or the records are invalid.
    """
    sidecar, data = _sidecar_and_data(Path(path))
    if not sidecar.is_file():
        raise FileNotFoundError(f"profile sidecar not found: {sidecar}")
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{sidecar}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{sidecar}: not a profile sidecar (field 'format' must be {FORMAT!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{sidecar}: unsupported format_version {meta.get('format_version')!r}; "
            f"this version reads {FORMAT_VERSION}"
        )
    for key in ("name", "records", "provenance"):
        if key not in meta:
            raise ValueError(f"{sidecar}: missing field {key!r}")
    if data is None:
        data = sidecar.parent / str(meta["records"])
    records = read_records(data)
    provenance = Provenance.from_dict(meta["provenance"], source=str(sidecar))
    curves = meta.get("curves", {})
    return Profile(
        name=str(meta["name"]),
        records=records,
        provenance=provenance,
        curve_local=curve_from_dict(curves.get("local")),
        curve_edge=curve_from_dict(curves.get("edge")),
    )


def write_profile(profile: Profile, path: str | Path, *, parquet: bool = False) -> Path:
    """Write ``profile`` as a data file and a JSON sidecar.

    Parameters
    ----------
    profile
        The profile.
    path
        The sidecar ``.json``, the data file, or their stem; folders are created.
    parquet
        Write the records as Parquet instead of CSV (needs pyarrow). A ``.parquet`` path
        implies it.

    Returns
    -------
    pathlib.Path
        The sidecar's path.
    """
    sidecar, data = _sidecar_and_data(Path(path))
    if data is None or (parquet and data.suffix != ".parquet"):
        data = sidecar.with_suffix(".parquet" if parquet else ".csv")
    write_records(profile.records, data)
    cols = profile.records.columns()
    assert profile.curve_local is not None and profile.curve_edge is not None
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": profile.name,
        "records": data.name,
        "columns": {c: COLUMN_DOCS[c] for c in cols},
        "provenance": profile.provenance.to_dict(),
        "curves": {"local": profile.curve_local.to_dict(), "edge": profile.curve_edge.to_dict()},
        "statistics": {
            k: None if isinstance(v, float) and not np.isfinite(v) else v
            for k, v in profile.statistics().to_dict().items()
        },
    }
    sidecar.write_text(json.dumps(meta, indent=2, default=_json_default) + "\n", encoding="utf-8")
    return sidecar


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
