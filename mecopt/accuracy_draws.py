"""How a scenario draws each user's uncertainty alpha and the two models' accuracies.

The scenarios' ``curve`` option names an :class:`AccuracyDraw`: a strategy object with
``sample(n, rng) -> (alpha, acc_local, acc_edge)``. Measured ones come from profiles
(:mod:`mecopt.profiles`, whose fitted accuracy-versus-alpha curves are
:class:`mecopt.profiles.AccuracyCurve`); the default here is synthetic.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from mecopt.registry import Registry


class AccuracyDraw(Protocol):
    """Strategy object drawing per-user uncertainty and accuracies."""

    name: str
    synthetic: bool

    def sample(
        self, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(alpha, acc_local, acc_edge)``, each of shape (n,), in [0, 1]."""
        ...


class SyntheticLinear:
    """The synthetic default curve (not measured).

    ``alpha ~ Beta(2, 2)``, ``acc_local = 0.9 (1 - alpha)`` and
    ``acc_edge = 0.86 - 0.6 alpha``. The means, 0.45 and 0.56, match the published
    aggregate accuracies of the device and edge models (about 45 % and 56 %, arXiv
    2602.07958); the slopes encode the reported negative correlation between alpha and the
    device model's accuracy, weaker for the larger edge model. Synthetic until replaced by
    a measured profile.
    """

    name = "synthetic"
    synthetic = True

    def sample(
        self, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        alpha = rng.beta(2.0, 2.0, size=n)
        return alpha, 0.9 * (1.0 - alpha), 0.86 - 0.6 * alpha


class ProfileCurve:
    """A measured profile (see :mod:`mecopt.profiles`) used as an accuracy curve.

    Parameters
    ----------
    profile
        A profile name or a path to a profile file.
    mode
        ``"expected"`` (fitted probabilities) or ``"outcomes"`` (resampled 0/1 outcomes).
    """

    def __init__(self, profile: str, mode: str = "expected") -> None:
        from mecopt.profiles import load_profile

        self._profile = load_profile(profile)
        self.name = f"profile:{profile}"
        self.mode = mode
        #: Taken from the profile's provenance: a synthetic profile stays labelled so.
        self.synthetic = bool(self._profile.synthetic)

    def sample(
        self, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = self._profile.sample(n, rng, mode=self.mode)
        return s.alpha, s.acc_local, s.acc_edge


#: The built-in curves by name.
CURVES: Registry[AccuracyDraw] = Registry("accuracy curve")
CURVES.register(SyntheticLinear.name, SyntheticLinear())


def get_curve(curve: str | None = None, profile: str | None = None,
              profile_mode: str = "expected") -> AccuracyDraw:
    """Return the curve named ``curve`` or, when ``profile`` is given, that profile's."""
    if profile is not None:
        if curve not in (None, "synthetic"):
            raise ValueError(f"give either curve={curve!r} or profile={profile!r}, not both")
        if profile_mode not in ("expected", "outcomes"):
            raise ValueError(
                f"profile_mode = {profile_mode!r}: must be 'expected' or 'outcomes'"
            )
        return ProfileCurve(profile, profile_mode)
    return CURVES.get(curve or "synthetic")
