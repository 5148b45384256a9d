"""``python -m mecopt.bench.child``: solve one pickled task read from standard input.

Writes the pickled ``("instance", ...)`` and ``("result", ...)`` messages to standard output.
Used by :mod:`mecopt.bench.guard` where forking is not allowed (daemonic Dask workers).
"""

from __future__ import annotations

import os
import pickle
import sys

from mecopt.bench.execute import Message, solve_task


def main() -> int:
    """Read the task, solve it, write the messages."""
    task = pickle.load(sys.stdin.buffer)
    # Keep the message stream clean: anything a solver prints goes to standard error.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)

    def send(message: Message) -> None:
        pickle.dump(message, out)
        out.flush()

    solve_task(task, send)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
