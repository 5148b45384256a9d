"""The profiles that ship with mecopt, by name."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

from mecopt.errors import UnknownNameError
from mecopt.profiles.io import read_profile
from mecopt.profiles.profile import Profile
from mecopt.profiles.synthetic import synthetic_profile
from mecopt.registry import Registry

__all__ = ["PROFILES", "PROFILE_DIR", "available_profiles", "load_profile"]

#: Folder of the shipped profile files (``NAME.json`` sidecar + data file).
PROFILE_DIR = Path(__file__).resolve().parent.parent / "data" / "profiles"

#: Shipped profiles: name -> loader.
PROFILES: Registry[Callable[[], Profile]] = Registry("profile")
PROFILES.register("synthetic", synthetic_profile)
for _sidecar in sorted(PROFILE_DIR.glob("*.json")):
    PROFILES.register(_sidecar.stem, lambda p=_sidecar: read_profile(p))


def available_profiles() -> list[str]:
    """Names of the shipped profiles (``"synthetic"`` first)."""
    return PROFILES.names()


@cache
def _load_named(name: str) -> Profile:
    return PROFILES.get(name)()


def load_profile(name_or_path: str | os.PathLike[str] | Profile) -> Profile:
    """Return a shipped profile by name, or read one from a file.

    Parameters
    ----------
    name_or_path
        A name from :func:`available_profiles`, the path of a profile (its ``.json`` sidecar,
        data file or stem), or a :class:`Profile` (returned as is).

    Returns
    -------
    Profile
        The profile. Shipped profiles are loaded once and cached (profiles are immutable).

    Raises
    ------
    UnknownNameError
        If ``name_or_path`` is neither a shipped name nor an existing profile file; the message
        lists the valid names.
    ValueError
        If the file exists but is malformed.
    """
    if isinstance(name_or_path, Profile):
        return name_or_path
    key = os.fspath(name_or_path)
    if isinstance(name_or_path, str) and key in PROFILES:
        return _load_named(key)
    path = Path(key)
    candidates = [path, path.with_name(path.name + ".json")]
    if any(c.is_file() for c in candidates):
        return read_profile(path)
    valid = ", ".join(repr(n) for n in available_profiles())
    raise UnknownNameError(
        f"unknown profile {key!r}: not a shipped profile nor an existing profile file; "
        f"valid names: {valid}"
    )
