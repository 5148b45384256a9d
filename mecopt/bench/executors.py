"""Executors: where the tasks of a sweep run.

An executor maps tasks to rows, yielding each row as soon as its solve ends (in completion
order). Every solve runs in a child process with a hard wall-clock limit
(:mod:`mecopt.bench.guard`).

- :class:`LocalExecutor` (default): up to ``workers`` children on this machine.
- :class:`DaskExecutor`: tasks sent to a Dask distributed cluster (``address``) or to a
  local cluster it starts; needs the extra ``dask`` (``pip install 'mecopt[dask]'``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from mecopt.bench.execute import now
from mecopt.bench.guard import ChildRun, failure_row, run_guarded
from mecopt.bench.spec import Task
from mecopt.errors import MissingDependencyError
from mecopt.registry import Registry


class Executor(Protocol):
    """Runs tasks; yields their rows in completion order."""

    name: str

    def map(self, tasks: Iterable[Task]) -> Iterator[dict[str, Any]]:
        """Run every task; yield one row per task as it finishes."""
        ...

    def close(self) -> None:
        """Release the executor's resources."""
        ...


class LocalExecutor:
    """Up to ``workers`` solves at a time, each in a forked child of this process.

    Parameters
    ----------
    workers
        Number of concurrent solves (>= 1).
    """

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers = {workers!r}: must be a whole number >= 1")
        self.workers = workers

    def map(self, tasks: Iterable[Task]) -> Iterator[dict[str, Any]]:
        from multiprocessing.connection import wait

        pending = deque(tasks)
        running: dict[Any, ChildRun] = {}
        try:
            while pending or running:
                while pending and len(running) < self.workers:
                    run = ChildRun(pending.popleft())
                    running[run.conn] = run
                timeout = max(0.0, min(r.deadline for r in running.values())
                              - time.perf_counter())
                for conn in wait(list(running), timeout=timeout):
                    row = running[conn].receive()
                    if row is not None:
                        del running[conn]
                        yield row
                now = time.perf_counter()
                for conn, run in list(running.items()):
                    if now >= run.deadline:
                        del running[conn]
                        yield run.kill()
        finally:
            for run in running.values():
                run.kill()

    def close(self) -> None:
        """Nothing to release."""


class DaskExecutor:
    """Send each task to a Dask cluster; the worker runs it in a guarded child.

    Parameters
    ----------
    address
        Scheduler address (``tcp://HOST:PORT``); ``None`` starts a local cluster.
    workers
        Workers of the local cluster (ignored with ``address``).
    processes
        Local cluster with worker processes (``True``) or threads (``False``).
    host
        Interface the local cluster listens on.

    Raises
    ------
    MissingDependencyError
        If ``dask.distributed`` is not installed.
    """

    name = "dask"

    def __init__(self, address: str | None = None, workers: int = 2, processes: bool = True,
                 host: str = "127.0.0.1") -> None:
        try:
            import dask
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise MissingDependencyError(
                "the Dask executor needs dask.distributed; install it with: "
                "pip install 'mecopt[dask]'"
            ) from None
        self._cluster = None
        if address is None:
            # Non-daemonic workers may fork the guarded child directly.
            with dask.config.set({"distributed.worker.daemon": False}):
                self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                             processes=processes, host=host,
                                             protocol="tcp://", dashboard_address=None)
            self.client = Client(self._cluster)
        else:
            self.client = Client(address)

    def map(self, tasks: Iterable[Task]) -> Iterator[dict[str, Any]]:
        from dask.distributed import as_completed

        tasks = list(tasks)
        if not tasks:
            return
        futures = self.client.map(run_guarded, tasks, pure=False,
                                  key=[f"mecopt-bench-{k}-{time.time_ns()}"
                                       for k in range(len(tasks))])
        task_of = {fut.key: task for fut, task in zip(futures, tasks, strict=True)}
        try:
            for fut in as_completed(futures):
                try:
                    yield fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker must not stop the sweep
                    task = task_of[fut.key]
                    yield failure_row(task, "crashed", f"Dask task failed: {exc!r}"[:500],
                                      float("nan"), now(), None)
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        """Close the client and the local cluster, if one was started."""
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


#: Executors by name.
EXECUTORS: Registry[type] = Registry("executor")
EXECUTORS.register("local", LocalExecutor)
EXECUTORS.register("dask", DaskExecutor)


def make_executor(name: str = "local", *, workers: int = 1, address: str | None = None,
                  ) -> Executor:
    """Build an executor by name (``"local"`` or ``"dask"``).

    Raises
    ------
    UnknownNameError
        For an unknown executor name (listing the valid ones).
    ValueError
        If ``address`` is given for the local executor.
    """
    cls = EXECUTORS.get(name)
    if cls is LocalExecutor:
        if address is not None:
            raise ValueError("--address needs --executor dask")
        return LocalExecutor(workers)
    return DaskExecutor(address=address, workers=workers)
