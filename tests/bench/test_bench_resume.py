"""A killed sweep, run again, loses no finished row and repeats none."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from mecopt.bench import LocalExecutor, ResultStore, load_spec, run_sweep

SPEC = """
[sweep]
name = "resume"
db = "resume.sqlite"
threads = 1

[[grid]]
scenario = "kim2026"
n_users = [100]
seeds = { start = 0, count = 8 }
solvers = [{ name = "goa", label = "goa-loop", options = { engine = "loop" } }, "goa"]
"""


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_killed_sweep_resumes_without_loss_or_repeat(tmp_path: Path) -> None:
    spec_path = tmp_path / "resume.toml"
    spec_path.write_text(SPEC)
    db = tmp_path / "resume.sqlite"
    code = ("import sys; from mecopt.cli import main; "
            f"sys.exit(main(['bench', 'run', {str(spec_path)!r}, '--no-progress']))")
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _count(db) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its running solve, mid-way
    proc.wait()
    with ResultStore(db) as store:
        before = {(r["instance_key"], r["solver"], r["seed"]): (r["id"], r["finished_at"])
                  for r in store.rows()}
    spec = load_spec(spec_path)
    assert 3 <= len(before) < len(spec), "the sweep was not stopped mid-way"

    with ResultStore(db) as store:
        outcome = run_sweep(spec, store, LocalExecutor(1), progress=False)
        after = store.rows()
    assert outcome.skipped == len(before)
    assert outcome.ran == len(spec) - len(before)
    keys = [(r["instance_key"], r["solver"], r["seed"]) for r in after]
    assert len(keys) == len(set(keys)) == len(spec)
    assert set(keys) == {t.key for t in spec.tasks}
    for r in after:  # every row finished before the kill is untouched
        key = (r["instance_key"], r["solver"], r["seed"])
        if key in before:
            assert (r["id"], r["finished_at"]) == before[key]
    assert all(r["status"] == "feasible" for r in after)

    with ResultStore(db) as store:  # a third run has nothing left to do
        again = run_sweep(spec, store, LocalExecutor(1), progress=False)
        assert (again.ran, again.skipped, store.count()) == (0, len(spec), len(spec))
