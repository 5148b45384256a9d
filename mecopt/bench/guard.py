"""Solves in child processes with a hard wall-clock limit.

Each solve runs in its own child, in its own process group; at the task's hard limit the
parent kills the whole group (the solver and anything it started) and records the solve
as ``"timeout"``. A child that dies without reporting is recorded as ``"crashed"``.

Children are forked when the calling process may have children (fast: no re-import); a
daemonic process (a Dask worker under its nanny) starts ``python -m mecopt.bench.child``
instead.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import pickle
import signal
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

from mecopt.bench.execute import base_row, now, solve_task
from mecopt.bench.spec import Task


class ChildRun:
    """One solve running in a forked child; poll it through :attr:`conn`."""

    def __init__(self, task: Task) -> None:
        self.task = task
        ctx = mp.get_context("fork")
        self.conn, child_conn = ctx.Pipe(duplex=False)
        self.started = time.perf_counter()
        self.started_at = now()
        self.partial: dict[str, Any] | None = None
        self.proc = ctx.Process(target=_child_main, args=(child_conn, task), daemon=False)
        self.proc.start()
        child_conn.close()

    @property
    def deadline(self) -> float:
        """``time.perf_counter()`` value at which the solve is killed."""
        return self.started + self.task.hard_limit

    def receive(self) -> dict[str, Any] | None:
        """Read one message; return the final row once there is one (``None`` before)."""
        try:
            kind, payload = self.conn.recv()
        except (EOFError, OSError):
            self.proc.join(5)
            return self._failed("crashed", f"child exited with code {self.proc.exitcode} "
                                           "without a result")
        if kind == "instance":
            self.partial = payload
            return None
        self._close()
        return payload

    def kill(self) -> dict[str, Any]:
        """Kill the child's process group; return the ``"timeout"`` row."""
        _kill_group(self.proc.pid)
        self.proc.join(5)
        return self._failed("timeout", f"killed at the hard limit of {self.task.hard_limit:g} s")

    def _failed(self, status: str, message: str) -> dict[str, Any]:
        self._close()
        return failure_row(self.task, status, message, time.perf_counter() - self.started,
                           self.started_at, self.partial)

    def _close(self) -> None:
        self.conn.close()
        if self.proc.is_alive():
            self.proc.join(5)
        if self.proc.is_alive():
            _kill_group(self.proc.pid)
            self.proc.join(5)


def failure_row(task: Task, status: str, message: str, elapsed: float, started_at: str,
                partial: dict[str, Any] | None) -> dict[str, Any]:
    """A row for a solve that gave no result (timeout or crash)."""
    row = dict(partial) if partial else base_row(task)
    row.update({"status": status, "message": message, "runtime": elapsed,
                "wall_time": elapsed, "started_at": started_at, "finished_at": now()})
    return row


def _kill_group(pid: int | None) -> None:
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _child_main(conn: Connection, task: Task) -> None:
    os.setpgid(0, 0)
    try:
        solve_task(task, conn.send)
    finally:
        conn.close()


def can_fork_children() -> bool:
    """True when this process may start multiprocessing children (it is not daemonic)."""
    return not mp.current_process().daemon


def run_guarded(task: Task) -> dict[str, Any]:
    """Run one task in a child with its hard limit; block until it is done or killed."""
    if not can_fork_children():
        return _run_subprocess(task)
    from multiprocessing.connection import wait

    run = ChildRun(task)
    while True:
        left = run.deadline - time.perf_counter()
        if left <= 0 or not wait([run.conn], timeout=left):
            return run.kill()
        row = run.receive()
        if row is not None:
            return row


def _run_subprocess(task: Task) -> dict[str, Any]:
    started, started_at = time.perf_counter(), now()
    proc = subprocess.Popen([sys.executable, "-m", "mecopt.bench.child"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(pickle.dumps(task), timeout=task.hard_limit)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        out, _ = proc.communicate()
        status, message = "timeout", f"killed at the hard limit of {task.hard_limit:g} s"
    else:
        status, message = "crashed", f"child exited with code {proc.returncode} without a result"
    partial = None
    stream = io.BytesIO(out)
    while True:
        try:
            kind, payload = pickle.load(stream)
        except (EOFError, pickle.UnpicklingError):
            break
        if kind == "result" and status == "crashed":
            return payload
        partial = payload
    return failure_row(task, status, message, time.perf_counter() - started, started_at,
                       partial)
