"""The learned policies the demo shows: packaged copies of the committed U = 20 policies.

:func:`learned_policy_file` is the one place the demo finds a learned policy:
``mecopt/data/policies/ALGO-u20.zip``, a copy of ``benchmarks/rl/policies/ALGO-u20.zip``
(see ``mecopt/data/policies/README.md``; refresh it by copying the file again). Loading
needs the ``rl`` extra; without it the demo leaves the learned rows out and says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from mecopt.errors import MissingDependencyError

#: Devices the packaged policies were trained for (their observation has this size).
LEARNED_DEVICES = 20


def learned_policy_file(algo: str) -> Path:
    """The packaged policy of learner ``algo`` (``ppo``, ``ppo-lag``, ``wm-ppo``).

    Raises
    ------
    FileNotFoundError
        When no policy of that learner is packaged (the message lists those that are).
    """
    folder = Path(str(resources.files("mecopt") / "data" / "policies"))
    path = folder / f"{algo}-u{LEARNED_DEVICES}.zip"
    if not path.is_file():
        have = sorted(p.name for p in folder.glob("*.zip"))
        raise FileNotFoundError(f"no packaged learned policy {path.name}; packaged: {have}")
    return path


def learned_entries(algos: Sequence[str]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Comparison entries (``{"name": "ALGO:PATH", "label": "ALGO (learned)"}``) of the
    packaged policies of ``algos`` that load.

    Returns
    -------
    entries, left_out
        The entries, and ``(label, reason)`` for each policy left out: the ``rl`` extra is
        missing, or the file does not load with this mecopt (e.g. its observation layout
        is older: refresh ``mecopt/data/policies/``).
    """
    labels = {a: f"{a} (learned)" for a in algos}
    try:
        from mecopt.rl._deps import require_rl

        require_rl()
    except MissingDependencyError as exc:
        return [], [(label, str(exc)) for label in labels.values()]
    import torch

    from mecopt.longterm.run import build_policy

    # The sweep reads each policy file in this process, then forks one child per run; a
    # child forked after torch has used several threads here hangs in its first torch
    # call (measured: killed at the hard limit). The networks are tiny: one thread.
    torch.set_num_threads(1)

    entries, left_out = [], []
    for algo, label in labels.items():
        name = f"{algo}:{learned_policy_file(algo)}"
        try:  # what the sweep checks before it runs anything
            build_policy(name)
        except (ValueError, TypeError, OSError) as exc:
            left_out.append(
                (
                    label,
                    f"{type(exc).__name__}: {exc} (refresh "
                    "mecopt/data/policies/ from benchmarks/rl/policies/)",
                )
            )
            continue
        entries.append({"name": name, "label": label})
    return entries, left_out
