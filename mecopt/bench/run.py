"""Run a sweep: skip what the store holds, run the rest, store each row as it ends."""

from __future__ import annotations

import collections
import dataclasses
import sys
from collections.abc import Sequence
from typing import IO

from tqdm import tqdm

from mecopt.bench.execute import BENCH_STATUSES, prepare
from mecopt.bench.executors import Executor, LocalExecutor
from mecopt.bench.spec import SweepSpec
from mecopt.bench.store import ResultStore
from mecopt.result import STATUSES


@dataclasses.dataclass(frozen=True)
class SweepOutcome:
    """What one run of a sweep did.

    Attributes
    ----------
    total
        Tasks in the spec.
    skipped
        Tasks already in the store (not run again).
    ran
        Tasks run and stored now.
    statuses
        Count of each status among the rows stored now.
    """

    total: int
    skipped: int
    ran: int
    statuses: dict[str, int]


def run_sweep(spec: SweepSpec, store: ResultStore, executor: Executor | None = None, *,
              progress: bool = True, stream: IO[str] | None = None,
              retry: Sequence[str] = ()) -> SweepOutcome:
    """Run every task of ``spec`` that ``store`` does not hold yet.

    Parameters
    ----------
    spec
        The expanded sweep.
    store
        Where rows go; each is committed as soon as its solve ends.
    executor
        Where solves run; default one local worker.
    progress
        Show a progress bar with ETA (on ``stream``, default standard error).
    stream
        Where the progress bar goes.
    retry
        Statuses to run again (e.g. ``("error", "timeout")``): their stored rows are
        deleted first. By default every stored row counts as done.

    Returns
    -------
    SweepOutcome
    """
    executor = executor or LocalExecutor(1)
    unknown = sorted(set(retry) - set(STATUSES) - set(BENCH_STATUSES))
    if unknown:
        raise ValueError(f"retry status(es) {', '.join(unknown)}: valid: "
                         f"{', '.join(STATUSES + BENCH_STATUSES)}")
    if retry:
        store.delete((t.key for t in spec.tasks), retry)
    done = store.done_keys()
    todo = [t for t in spec.tasks if t.key not in done]
    prepare(todo)
    statuses: collections.Counter[str] = collections.Counter()
    bar = tqdm(total=len(todo), disable=not progress, file=stream or sys.stderr,
               desc=spec.name, unit="solve", dynamic_ncols=True, mininterval=1.0)
    ran = 0
    try:
        for row in executor.map(todo):
            if store.add(row):
                ran += 1
            statuses[row.get("status", "?")] += 1
            bar.update(1)
            bar.set_postfix({k: statuses[k] for k in sorted(statuses)}, refresh=False)
    finally:
        bar.close()
    return SweepOutcome(total=len(spec.tasks), skipped=len(spec.tasks) - len(todo), ran=ran,
                        statuses=dict(statuses))
