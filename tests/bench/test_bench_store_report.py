"""The store, its gap view, the report, the exports and the plots agree with the rows."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from bench_helpers import tiny_spec

import mecopt.result
from mecopt.bench import (
    LocalExecutor,
    ResultStore,
    aggregate,
    export_rows,
    plot_all,
    run_sweep,
    to_markdown,
)
from mecopt.cli import main


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "tiny.sqlite"
    spec = tiny_spec(seeds=1, interference=["none", "other-cells"])
    with ResultStore(path) as store:
        outcome = run_sweep(spec, store, LocalExecutor(2), progress=False)
        assert outcome.ran == len(spec) == store.count()
    return path


def _rows(db: Path) -> list[dict]:
    with ResultStore.open_existing(db) as store:
        return store.rows()


def test_rows_and_best_bound(db: Path) -> None:
    rows = _rows(db)
    by_instance: dict[str, list[dict]] = {}
    for r in rows:
        by_instance.setdefault(r["instance_key"], []).append(r)
    for group in by_instance.values():
        bounds = [r["bound"] for r in group if r["bound"] is not None]
        expected = max(bounds + [group[0]["lower_bound"]])
        for r in group:
            assert r["best_bound"] == pytest.approx(expected, rel=1e-12)
            if r["status"] in ("optimal", "feasible"):
                gap = max(r["objective"] - expected, 0) / r["objective"]
                assert r["gap_best"] == pytest.approx(gap, rel=1e-9, abs=1e-15)
                # No feasible answer beats a proven lower bound.
                assert r["objective"] >= expected * (1 - 1e-9)
    highs_none = [r for r in rows if r["solver"] == "highs" and r["interference"] == "none"]
    assert highs_none and all(r["status"] == "optimal" for r in highs_none)
    assert all(r["gap_best"] <= 1e-6 for r in highs_none)


def test_report_figures_match_the_stored_rows(db: Path) -> None:
    rows = _rows(db)
    stats = aggregate(rows, ("interference", "solver", "n_users"))
    assert sum(s.count for s in stats) == len(rows)
    for s in stats:
        interference, solver, n = s.key
        group = [r for r in rows if (r["interference"], r["solver"], r["n_users"]) == s.key]
        ok = [r for r in group if r["status"] in ("optimal", "feasible")]
        gaps = [r["gap_best"] for r in ok]
        assert s.count == len(group)
        assert s.share_optimal == sum(r["status"] == "optimal" for r in group) / len(group)
        assert s.median_gap == pytest.approx(float(np.median(gaps))) if gaps else True
        assert s.worst_gap == (max(gaps) if gaps else None)
        assert s.median_runtime == pytest.approx(float(np.median([r["runtime"]
                                                                  for r in group])))
        assert s.mean_delay_ms == pytest.approx(1e3 * np.mean([r["objective"]
                                                               for r in group]))
        assert s.failed == len(group) - len(ok)
    text = to_markdown(stats, ("interference", "solver", "n_users"))
    assert text.count("\n") == len(stats) + 2
    goa = next(s for s in stats if s.key == ("none", "goa", 12))
    assert f"{100 * goa.worst_gap:.2f}%" in text


def test_cli_report_export_plot(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "report.md"
    assert main(["bench", "report", str(db), "--where", "interference=none", "--out",
                 str(out)]) == 0
    table = out.read_text().splitlines()
    assert table[0].startswith("| solver | n_users | rows |") and len(table) == 2 + 4 * 2

    csv_path = tmp_path / "rows.csv"
    assert main(["bench", "export", str(db), str(csv_path)]) == 0
    with csv_path.open() as fh:
        exported = list(csv.DictReader(fh))
    rows = _rows(db)
    assert len(exported) == len(rows)
    assert {(r["instance_key"], r["solver"]) for r in exported} == {
        (r["instance_key"], r["solver"]) for r in rows}

    pq = tmp_path / "rows.parquet"
    assert main(["bench", "export", str(db), str(pq), "--where", "solver=goa"]) == 0
    import pyarrow.parquet as papq

    table = papq.read_table(pq)
    assert table.num_rows == sum(r["solver"] == "goa" for r in rows)
    assert math.isclose(sum(table.column("objective").to_pylist()),
                        sum(r["objective"] for r in rows if r["solver"] == "goa"))

    assert main(["bench", "plot", str(db), "--out", str(tmp_path / "fig"), "--where",
                 "interference=none"]) == 0
    for name in ("runtime", "gap", "delay", "accuracy", "tau_tradeoff"):
        png = tmp_path / "fig" / f"{name}.png"
        pdf = tmp_path / "fig" / f"{name}.pdf"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 1000

    capsys.readouterr()
    assert main(["bench", "report", str(db), "--where", "colour=red"]) == 2
    assert "unknown column 'colour'" in capsys.readouterr().err
    assert main(["bench", "export", str(db), str(tmp_path / "x.json")]) == 2


def test_plot_all_writes_every_figure(db: Path, tmp_path: Path) -> None:
    rows = [r for r in _rows(db) if r["interference"] == "other-cells"]
    paths = plot_all(rows, tmp_path, formats=("png",), prefix="oc_")
    assert sorted(p.name for p in paths) == sorted(
        f"oc_{n}.png" for n in ("runtime", "gap", "delay", "accuracy", "tau_tradeoff",
                                "delay_parts", "memory"))
    assert all(p.stat().st_size > 5000 for p in paths)
    with pytest.raises(ValueError, match="no rows"):
        plot_all([], tmp_path)


def test_export_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="csv, parquet"):
        export_rows([{"a": 1}], tmp_path / "x.txt")


def test_rows_record_stop_tolerance_load_and_memory(db: Path) -> None:
    rows = _rows(db)
    for r in rows:
        assert r["load_avg"] is not None and r["load_avg"] >= 0
        assert 0 < r["start_rss_mb"] <= r["peak_rss_mb"]
        assert 0 <= r["cpu_time"] <= 2 * r["threads"] * r["wall_time"] + 0.1
        if r["kind"] == "exact":
            assert r["gap_tol"] == mecopt.result.DEFAULT_GAP
            assert (r["stop"] == "gap") == (r["status"] == "optimal")
        else:
            assert r["stop"] == "heuristic" and r["gap_tol"] is None


def test_old_rows_of_violating_answers_read_as_violates(tmp_path: Path) -> None:
    # Before "violates" existed, an evaluated answer that broke a constraint was stored as
    # "no_solution" with its objective; without an objective it stays "no_solution".
    with ResultStore(tmp_path / "old.sqlite") as store:
        for solver, objective in (("min-delay", 0.02), ("highs", None)):
            store.add({"instance_key": "k", "solver": solver, "seed": 0,
                       "status": "no_solution", "objective": objective})
        status = {r["solver"]: r["status"] for r in store.rows()}
    assert status == {"min-delay": "violates", "highs": "no_solution"}
