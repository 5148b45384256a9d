"""The SQLite result store: one row per (instance, solver, seed).

Every finished solve is committed at once, so a killed sweep loses only the solves that
were running; a rerun skips every key already stored. The view ``results_gap`` adds, per
instance, the best bound known (the largest proven bound of any exact solver, or the
per-user bound of :mod:`mecopt.bench.bounds` when that is larger), the best objective
found, and each row's gap to that best bound.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: Columns of the ``results`` table with their SQL types, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("sweep", "TEXT"),
    ("instance_key", "TEXT NOT NULL"),
    ("scenario", "TEXT"),
    ("n_users", "INTEGER"),
    ("seed", "INTEGER NOT NULL"),
    ("overrides", "TEXT"),
    ("interference", "TEXT"),
    ("queue", "TEXT"),
    ("tau", "REAL"),
    ("min_accuracy", "REAL"),
    ("solver", "TEXT NOT NULL"),
    ("solver_name", "TEXT"),
    ("solver_options", "TEXT"),
    ("kind", "TEXT"),
    ("status", "TEXT"),
    ("objective", "REAL"),
    ("bound", "REAL"),
    ("gap", "REAL"),
    ("lower_bound", "REAL"),
    ("accuracy", "REAL"),
    ("n_offloaded", "INTEGER"),
    ("runtime", "REAL"),
    ("wall_time", "REAL"),
    ("time_limit", "REAL"),
    ("hard_limit", "REAL"),
    ("threads", "INTEGER"),
    ("solver_version", "TEXT"),
    ("mecopt_version", "TEXT"),
    ("python_version", "TEXT"),
    ("numpy_version", "TEXT"),
    ("host", "TEXT"),
    ("git_commit", "TEXT"),
    ("started_at", "TEXT"),
    ("finished_at", "TEXT"),
    ("message", "TEXT"),
    ("task_kind", "TEXT"),
    ("horizon", "INTEGER"),
    ("metrics", "TEXT"),
    # Mean over all N users of the uplink and edge parts of the delay (s; 0 for local users).
    ("mean_comm_delay", "REAL"),
    ("mean_edge_delay", "REAL"),
    # Why the solve stopped (mecopt.result.STOPS) and the relative gap it was asked to prove.
    ("stop", "TEXT"),
    ("gap_tol", "REAL"),
    # 1-minute load average when the task started; resident memory (MB) of the solving
    # process right before the solve (instance built) and at its peak during the solve
    # (Linux; NULL elsewhere).
    ("load_avg", "REAL"),
    # CPU seconds of the solving process (all its threads) during the solve: on a loaded
    # machine, closer than the wall time to what an idle one takes.
    ("cpu_time", "REAL"),
    ("start_rss_mb", "REAL"),
    ("peak_rss_mb", "REAL"),
)
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    {", ".join(f"{n} {t}" for n, t in COLUMNS)},
    UNIQUE (instance_key, solver, seed)
);
CREATE VIEW IF NOT EXISTS results_gap AS
WITH best AS (
    SELECT instance_key,
           MAX(COALESCE(MAX(bound), MAX(lower_bound)), COALESCE(MAX(lower_bound), MAX(bound)))
               AS best_bound,
           MAX(bound) AS best_milp_bound,
           MIN(CASE WHEN status IN ('optimal', 'feasible') THEN objective END)
               AS best_objective
    FROM results GROUP BY instance_key
)
SELECT r.*, b.best_bound, b.best_milp_bound, b.best_objective,
       CASE WHEN r.status IN ('optimal', 'feasible') AND b.best_bound IS NOT NULL
            THEN MAX(r.objective - b.best_bound, 0.0) / r.objective END AS gap_best
FROM results r JOIN best b USING (instance_key);
"""


class ResultStore:
    """A SQLite file of benchmark rows.

    Parameters
    ----------
    path
        The database file (created with its parent folder if missing); ``":memory:"``
        for a throw-away store.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), timeout=60.0)
        self.conn.row_factory = sqlite3.Row
        with self.conn:
            self.conn.executescript(_SCHEMA)
            # Stores made before a column existed get it (NULL in their old rows).
            have = {r[1] for r in self.conn.execute("PRAGMA table_info(results)")}
            for name, sql_type in COLUMNS:
                if name not in have:
                    self.conn.execute(f"ALTER TABLE results ADD COLUMN {name} {sql_type}")

    @classmethod
    def open_existing(cls, path: str | Path) -> ResultStore:
        """Open a store that must exist.

        Raises
        ------
        FileNotFoundError
            If there is no such file.
        """
        if not Path(path).is_file():
            raise FileNotFoundError(f"result store not found: {path}")
        return cls(path)

    def done_keys(self) -> set[tuple[str, str, int]]:
        """``(instance_key, solver, seed)`` of every stored row."""
        cur = self.conn.execute("SELECT instance_key, solver, seed FROM results")
        return {(r[0], r[1], int(r[2])) for r in cur}

    def add(self, row: Mapping[str, Any]) -> bool:
        """Insert and commit one row; return False if its key was already stored."""
        unknown = set(row) - set(COLUMN_NAMES)
        if unknown:
            raise ValueError(f"unknown result column(s): {', '.join(sorted(unknown))}")
        names = [n for n in COLUMN_NAMES if n in row]
        sql = (f"INSERT OR IGNORE INTO results ({', '.join(names)}) "
               f"VALUES ({', '.join('?' for _ in names)})")
        with self.conn:
            cur = self.conn.execute(sql, [row[n] for n in names])
        return cur.rowcount == 1

    def delete(self, keys: Iterable[tuple[str, str, int]], statuses: Iterable[str]) -> int:
        """Delete the rows with these keys whose status is one of ``statuses`` (to run
        them again); return how many were deleted."""
        statuses = list(statuses)
        marks = ", ".join("?" for _ in statuses)
        n = 0
        with self.conn:
            for key in keys:
                cur = self.conn.execute(
                    "DELETE FROM results WHERE instance_key = ? AND solver = ? AND seed = ? "
                    f"AND status IN ({marks})", [*key, *statuses])
                n += cur.rowcount
        return n

    def rows(self, where: Mapping[str, Any] | None = None, *, with_gap: bool = True,
             ) -> list[dict[str, Any]]:
        """Every row (from the ``results_gap`` view by default), optionally filtered by
        column equality, ordered by insertion."""
        table = "results_gap" if with_gap else "results"
        clauses, params = _where(where)
        cur = self.conn.execute(f"SELECT * FROM {table}{clauses} ORDER BY id", params)
        return [read_status(dict(r)) for r in cur]

    def count(self) -> int:
        """Number of stored rows."""
        return int(self.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_status(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with the status of rows stored before ``"violates"`` existed brought up to date.

    Until then an evaluated answer that broke a constraint was stored as ``"no_solution"``
    with its objective; it reads as ``"violates"`` (``"no_solution"`` has no objective).
    """
    if row.get("status") == "no_solution" and row.get("objective") is not None:
        row["status"] = "violates"
    return row


def _where(where: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
    if not where:
        return "", []
    valid = set(COLUMN_NAMES) | {"id"}
    parts, params = [], []
    for key, value in where.items():
        if key not in valid:
            raise ValueError(f"unknown column {key!r} in filter; valid: "
                             f"{', '.join(COLUMN_NAMES)}")
        values = list(value) if isinstance(value, list | tuple | set) else [value]
        parts.append(f"{key} IN ({', '.join('?' for _ in values)})")
        params.extend(values)
    return " WHERE " + " AND ".join(parts), params


def add_many(store: ResultStore, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert rows; return how many were new."""
    return sum(store.add(r) for r in rows)
