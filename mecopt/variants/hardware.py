"""Devices that host compact models, device populations and accessibility.

A :class:`Device` has memory, memory bandwidth, peak FLOP/s and power. Figures are from the
public spec sheets named in ``sources``; the **efficiencies** (share of peak bandwidth and
FLOP/s a decoder reaches), the **usable memory share** and, where a sheet gives only a range,
the **power** are modelled, and labelled so.

**Accessibility** of a variant is the share of a device population (a discrete distribution
of memory sizes, :class:`DevicePopulation`) whose usable memory holds the variant's runtime
memory: ``sum(share[k] for memory[k] * usable >= need)``. It lies in [0, 1] and can only fall
as the variant's memory grows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mecopt.errors import UnknownNameError

__all__ = ["DEFAULT_POPULATION", "Device", "DevicePopulation", "device", "devices"]

GB = 1e9


@dataclass(frozen=True)
class Device:
    """A device class that can run a model.

    Attributes
    ----------
    name
        Device name.
    kind
        ``"phone"``, ``"board"``, ``"laptop"`` or ``"edge-server"``.
    memory_bytes
        Memory (RAM, unified or GPU), bytes, > 0.
    bandwidth
        Peak memory bandwidth, bytes/s, > 0.
    flops
        Peak dense FP16 (or INT8 / 2) FLOP/s, > 0.
    power_w
        Power while running a model, W, > 0.
    usable
        Share of memory a model may use (modelled), in (0, 1].
    bandwidth_eff, flops_eff
        Share of the peaks reached (modelled), in (0, 1].
    sources
        Source of each figure.
    """

    name: str
    kind: str
    memory_bytes: float
    bandwidth: float
    flops: float
    power_w: float
    usable: float = 0.6
    bandwidth_eff: float = 0.7
    flops_eff: float = 0.4
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "bandwidth", "flops", "power_w"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"Device.{name} = {value!r} ({self.name}): must be > 0")
        for name in ("usable", "bandwidth_eff", "flops_eff"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"Device.{name} = {value!r} ({self.name}): must be in (0, 1]")

    @property
    def usable_bytes(self) -> float:
        """Memory a model may occupy, bytes."""
        return self.memory_bytes * self.usable


_MOD = "modelled"
_DEVICES = (
    Device(
        "phone", "phone", 12 * GB, 76.8e9, 8e12, 8.0, usable=0.6,
        sources={
            "memory": "flagship phone with 12 GB LPDDR5X (e.g. Snapdragon 8 Gen 3 phones)",
            "bandwidth": "Snapdragon 8 Gen 3 product brief: LPDDR5X 4800 MHz, 64-bit = 76.8 GB/s",
            "flops": _MOD, "power": _MOD + " (sustained SoC power under load)",
        },
    ),
    Device(
        "jetson-orin-nano", "board", 8 * GB, 68e9, 10e12, 15.0, usable=0.75,
        sources={
            "memory": "NVIDIA Jetson Orin Nano 8GB data sheet: 8 GB 128-bit LPDDR5",
            "bandwidth": "same data sheet: 68 GB/s",
            "flops": "same data sheet: 40 INT8 TOPS (sparse) = 10 dense FP16 TFLOP/s",
            "power": "same data sheet: 7-15 W (upper mode)",
        },
    ),
    Device(
        "jetson-agx-orin", "board", 64 * GB, 204.8e9, 68.75e12, 60.0, usable=0.8,
        sources={
            "memory": "NVIDIA Jetson AGX Orin 64GB data sheet: 64 GB 256-bit LPDDR5",
            "bandwidth": "same data sheet: 204.8 GB/s",
            "flops": "same data sheet: 275 INT8 TOPS (sparse) = 68.75 dense FP16 TFLOP/s",
            "power": "same data sheet: 15-60 W (upper mode)",
        },
    ),
    Device(
        "laptop", "laptop", 16 * GB, 100e9, 7e12, 20.0, usable=0.7,
        sources={
            "memory": "Apple MacBook Air M3 spec sheet: 16 GB unified memory configuration",
            "bandwidth": "Apple M3 announcement: 100 GB/s memory bandwidth",
            "flops": _MOD, "power": _MOD,
        },
    ),
    Device(
        "edge-server", "edge-server", 24 * GB, 300e9, 121e12, 72.0, usable=0.9,
        bandwidth_eff=0.8, flops_eff=0.5,
        sources={
            "memory": "NVIDIA L4 data sheet: 24 GB GDDR6",
            "bandwidth": "same data sheet: 300 GB/s",
            "flops": "same data sheet: 121 dense FP16 tensor TFLOP/s (242 with sparsity)",
            "power": "same data sheet: 72 W maximum power",
        },
    ),
)  # fmt: skip


def devices() -> dict[str, Device]:
    """The known device classes by name."""
    return {d.name: d for d in _DEVICES}


def device(name: str | Device) -> Device:
    """Look up a device class; a :class:`Device` passes through.

    Raises
    ------
    UnknownNameError
        For an unknown name; the message lists the valid ones.
    """
    if isinstance(name, Device):
        return name
    try:
        return devices()[name]
    except KeyError:
        raise UnknownNameError(f"unknown device {name!r}; valid: {', '.join(devices())}") from None


@dataclass(frozen=True)
class DevicePopulation:
    """A population of devices as a discrete distribution of memory sizes.

    Parameters
    ----------
    memory_gb
        Memory sizes, GB (> 0).
    share
        Share of devices with each size (>= 0, normalised to sum 1).
    usable
        Share of memory a model may use, in (0, 1].
    source
        Where the distribution comes from.
    """

    memory_gb: tuple[float, ...]
    share: tuple[float, ...]
    usable: float = 0.6
    source: str = "modelled"

    def __post_init__(self) -> None:
        mem = np.asarray(self.memory_gb, dtype=float)
        sh = np.asarray(self.share, dtype=float)
        if mem.ndim != 1 or mem.size == 0 or mem.shape != sh.shape:
            raise ValueError(
                "DevicePopulation: memory_gb and share must be equal-length, non-empty"
            )
        if not np.all(np.isfinite(mem)) or np.any(mem <= 0):
            bad = mem[~(np.isfinite(mem) & (mem > 0))][0]
            raise ValueError(
                f"DevicePopulation.memory_gb contains {bad!r}: a device needs memory > 0"
            )
        if np.any(sh < 0) or not np.isfinite(sh).all() or sh.sum() <= 0:
            raise ValueError("DevicePopulation.share must be >= 0 with a positive sum")
        if not 0 < self.usable <= 1:
            raise ValueError(f"DevicePopulation.usable = {self.usable!r}: must be in (0, 1]")

    def accessibility(self, need_bytes: float | np.ndarray) -> float | np.ndarray:
        """Share of the population whose usable memory holds ``need_bytes`` (vectorised)."""
        need = np.asarray(need_bytes, dtype=float)
        cap = np.asarray(self.memory_gb) * GB * self.usable
        sh = np.asarray(self.share, dtype=float)
        sh = sh / sh.sum()
        acc = (cap[None, :] >= need.reshape(-1, 1)) @ sh
        acc = np.clip(acc, 0.0, 1.0)
        return float(acc[0]) if need.ndim == 0 else acc.reshape(need.shape)


#: Default phone population (modelled): RAM of phones in use, 4-16 GB.
DEFAULT_POPULATION = DevicePopulation(
    memory_gb=(4, 6, 8, 12, 16), share=(0.15, 0.20, 0.30, 0.25, 0.10), usable=0.6,
    source="modelled: RAM distribution of phones in use (4-16 GB)",
)
