"""Where a profile's numbers came from: models, data set, date, hardware, software."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

__all__ = ["Provenance", "hardware_info", "software_versions"]


def hardware_info() -> dict[str, Any]:
    """Describe the machine this process runs on (CPU, core count, OS)."""
    return {
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }


def software_versions(*packages: str) -> dict[str, str]:
    """Versions of Python and of the given installed packages (``"not installed"`` if absent)."""
    out = {"python": sys.version.split()[0]}
    for name in ("mecopt", "numpy", "scipy", *packages):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass(frozen=True)
class Provenance:
    """The origin of a profile's records.

    Parameters
    ----------
    description
        One-line description of the profile.
    synthetic
        ``True`` if the records were drawn from an assumed curve rather than measured.
    models
        The device ("local") and edge ("edge") models: names, sizes, training.
    dataset
        The questions: generator, seed, size, file hash.
    date
        ISO date of the measurement.
    hardware
        The machine measured on.
    software
        Package versions used.
    extra
        Anything else (measurement settings, notes).
    """

    description: str
    synthetic: bool
    models: dict[str, Any]
    dataset: dict[str, Any]
    date: str = field(default_factory=lambda: _dt.date.today().isoformat())
    hardware: dict[str, Any] = field(default_factory=hardware_info)
    software: dict[str, Any] = field(default_factory=software_versions)
    extra: dict[str, Any] = field(default_factory=dict)

    REQUIRED = ("description", "synthetic", "models", "dataset", "date", "hardware", "software")

    def to_dict(self) -> dict[str, Any]:
        """Return the provenance as a JSON-able dictionary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "provenance") -> Provenance:
        """Build from a dictionary, checking that every required field is present.

        Raises
        ------
        ValueError
            If ``data`` is not a mapping or a required field is missing or of the wrong type.
        """
        if not isinstance(data, dict):
            raise ValueError(f"{source}: provenance must be a JSON object")
        missing = [k for k in cls.REQUIRED if k not in data]
        if missing:
            raise ValueError(f"{source}: provenance misses field(s) {', '.join(missing)}")
        unknown = [k for k in data if k not in cls.REQUIRED and k != "extra"]
        if unknown:
            raise ValueError(f"{source}: unknown provenance field(s) {', '.join(unknown)}")
        if not isinstance(data["synthetic"], bool):
            raise ValueError(
                f"{source}: provenance field 'synthetic' must be true or false, "
                f"got {data['synthetic']!r}"
            )
        for key in ("models", "dataset", "hardware", "software"):
            if not isinstance(data[key], dict):
                raise ValueError(
                    f"{source}: provenance field {key!r} must be a JSON object, got {data[key]!r}"
                )
        return cls(**{k: data[k] for k in cls.REQUIRED}, extra=dict(data.get("extra", {})))
