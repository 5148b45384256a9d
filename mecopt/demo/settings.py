"""Every setting of the main job (``mecopt demo``) in one record."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: The parts of the demo, in the order they run.
PARTS = ("single-slot", "longterm", "variants")


def _whole(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} = {value!r}: must be a whole number in {low}..{high}")
    return value


@dataclass(frozen=True)
class DemoSettings:
    """What the demo runs; the defaults are what ``mecopt demo`` shows.

    Attributes
    ----------
    parts
        Which parts run (a subset of :data:`PARTS`).
    users, seed, time_limit
        Single slot: kim2026 with ``users`` users, scenario seed, seconds per exact solve.
    lt_scenario, lt_horizon, lt_seed
        Long term: scenario, slots T and the trace seed (also each policy's own seed). Seed
        20 is the first held out from everything the learned policies saw: training traces
        (seeds >= 1,000,000), the traces their design was tried on (0-19) and the
        evaluation traces of ``benchmarks/rl`` (100-119).
    lt_policies
        Online policies (with their default options) compared with the learned ones and
        ``hindsight``.
    learned
        Learned policies shown (packaged files, see :mod:`mecopt.demo.learned`); they were
        trained at U = :data:`mecopt.demo.learned.LEARNED_DEVICES` devices, which is the
        number of devices of the long-term trace.
    hindsight_limit
        Seconds for the hindsight optimum; past it, its proven bound and gap are shown.
    run_limit
        Seconds after which one long-term run is stopped (recorded as a timeout).
    workers
        Long-term runs at a time (each in its own process).
    catalogue, device_classes, deploy_users, output_tokens
        Compact variants: the catalogue, the device classes users cycle through, the users
        of the kim2026 instance and the answer length in tokens.
    """

    parts: tuple[str, ...] = PARTS
    users: int = 60
    seed: int = 0
    time_limit: float = 120.0
    lt_scenario: str = "default"
    lt_horizon: int = 100
    lt_seed: int = 20
    lt_policies: tuple[str, ...] = ("greedy", "goa", "lyapunov", "priced")
    learned: tuple[str, ...] = ("ppo-lag", "wm-ppo")
    hindsight_limit: float = 60.0
    run_limit: float = 300.0
    workers: int = 2
    catalogue: str = "babi-tiny"
    device_classes: tuple[str, ...] = ("phone", "jetson-orin-nano", "laptop")
    deploy_users: int = 30
    output_tokens: int = 32

    def __post_init__(self) -> None:
        unknown = [p for p in self.parts if p not in PARTS]
        if unknown or not self.parts:
            raise ValueError(f"parts = {list(self.parts)!r}: choose from {', '.join(PARTS)}")
        _whole("users", self.users, 1, 10_000)
        _whole("lt_horizon", self.lt_horizon, 1, 10_000)
        _whole("deploy_users", self.deploy_users, 1, 1_000)
        _whole("workers", self.workers, 1, 64)
        for name in ("time_limit", "hindsight_limit", "run_limit"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ValueError(f"{name} = {value!r}: must be a finite number > 0")
