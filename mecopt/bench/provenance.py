"""Where and with what a benchmark row was produced: host, versions, git commit."""

from __future__ import annotations

import functools
import platform
import socket
import subprocess
from pathlib import Path

import numpy as np

from mecopt._version import __version__


@functools.cache
def host() -> str:
    """The host name."""
    return socket.gethostname()


@functools.cache
def git_commit(path: str | None = None) -> str:
    """``git rev-parse HEAD`` of the repository holding mecopt (``"unknown"`` outside git),
    with ``+dirty`` appended when tracked files differ from it."""
    where = Path(path) if path else Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=where, capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def environment() -> dict[str, str]:
    """Versions, host and git commit recorded with every row.

    The commit is read once per process (and inherited by forked children), so a sweep's
    rows name the commit checked out when it started, the code its solves run.
    """
    return {
        "mecopt_version": __version__,
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "host": host(),
        "git_commit": git_commit(),
    }
