"""Uncertainty profiles: measured accuracy of the device and edge models versus alpha.

A :class:`Profile` holds per-query records (the device model's margin uncertainty ``alpha``,
whether each model answered correctly, latencies, prompt sizes) with their provenance, fits
monotone accuracy curves to them, reports the statistics that show whether alpha predicts
errors, and draws instance data with :meth:`Profile.sample`. Shipped profiles load by name
with :func:`load_profile`.
"""

from mecopt.profiles.binned import BinnedTable, binned_table, wilson_interval
from mecopt.profiles.curves import AccuracyCurve, IsotonicCurve, LinearCurve, fit_isotonic
from mecopt.profiles.io import read_profile, read_records, write_profile, write_records
from mecopt.profiles.named import PROFILE_DIR, PROFILES, available_profiles, load_profile
from mecopt.profiles.profile import Profile
from mecopt.profiles.provenance import Provenance, hardware_info, software_versions
from mecopt.profiles.records import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, ProfileRecords
from mecopt.profiles.sample import SAMPLE_MODES, ProfileSample
from mecopt.profiles.statistics import (
    ProfileStatistics,
    auroc,
    calibration_error,
    compute_statistics,
    spearman,
)
from mecopt.profiles.synthetic import synthetic_profile

__all__ = [
    "OPTIONAL_COLUMNS",
    "PROFILES",
    "PROFILE_DIR",
    "REQUIRED_COLUMNS",
    "SAMPLE_MODES",
    "AccuracyCurve",
    "BinnedTable",
    "IsotonicCurve",
    "LinearCurve",
    "Profile",
    "ProfileRecords",
    "ProfileSample",
    "ProfileStatistics",
    "Provenance",
    "auroc",
    "available_profiles",
    "binned_table",
    "calibration_error",
    "compute_statistics",
    "fit_isotonic",
    "hardware_info",
    "load_profile",
    "read_profile",
    "read_records",
    "software_versions",
    "spearman",
    "synthetic_profile",
    "wilson_interval",
    "write_profile",
    "write_records",
]
