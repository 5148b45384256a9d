"""The compact model a device hosts: its latency scale, power and hallucination behaviour.

Each device of the long-term system runs one compact variant of the base model. What the
simulator needs from it is:

- ``mean_latency_s``: mean time to answer one query on the device. A query's own local
  latency is this mean times the query's relative latency in the profile (its measured
  latency over the profile's mean), so the per-query variation of the profile is kept
  while the device sets the scale;
- ``power_w``: average power while generating, so a local answer costs
  ``power_w x latency`` joules;
- ``flops``: the device's compute, which sets the query's work: the edge model needs
  ``edge_work_factor x latency x flops`` FLOP (as in arXiv 2602.07958, an 8B edge model
  against a 1B device model);
- ``hallucination_share``: the share of the device model's wrong answers that are
  hallucinations (a confident answer naming something absent from the input).

:data:`BUILTIN_DEVICES` holds the built-in models. Their numbers are **modelled**, not
measured: the latency is the published mean of the 1B device model of arXiv 2602.07958
(35.8 ms), the compute its device capability (91.06 TFLOP/s); 5 W is a phone system-on-chip
under sustained load (phones and Jetson-class boards draw roughly 7-25 W running 4-bit 8B
models, arXiv 2602.13628 context, so a 1B model at 5 W is an assumption); the hallucination
shares are assumptions (a compact model turns more of its errors into hallucinations than
the base model). When :mod:`mecopt.variants` provides a catalogue, :func:`device_model`
accepts ``"variant:NAME"`` and reads the variant's figures from it.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import math

from mecopt.errors import MissingDependencyError, UnknownNameError


@dataclasses.dataclass(frozen=True)
class DeviceModel:
    """A device with its compact model.

    Parameters
    ----------
    name
        Short name.
    mean_latency_s
        Mean local answering time, s (> 0).
    power_w
        Power while answering locally, W (>= 0).
    flops
        Device compute, FLOP/s (> 0); sets each query's edge work.
    hallucination_share
        Share of the device model's wrong answers that are hallucinations, in [0, 1].
    source
        ``"modelled"``, ``"published"`` or ``"measured"``, with a note on where the numbers
        come from.
    """

    name: str
    mean_latency_s: float
    power_w: float
    flops: float
    hallucination_share: float
    source: str = "modelled"

    def __post_init__(self) -> None:
        for field, low, strict in (("mean_latency_s", 0.0, True), ("power_w", 0.0, False),
                                   ("flops", 0.0, True)):
            value = float(getattr(self, field))
            if not math.isfinite(value) or value < low or (strict and value <= low):
                rule = "> 0" if strict else ">= 0"
                raise ValueError(f"DeviceModel.{field} = {value!r}: must be {rule}")
        share = float(self.hallucination_share)
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"DeviceModel.hallucination_share = {share!r}: must lie in [0, 1]")

    @property
    def energy_per_query_j(self) -> float:
        """Mean energy of one local answer, J."""
        return self.power_w * self.mean_latency_s


#: Built-in device models (modelled; see the module docstring).
BUILTIN_DEVICES: dict[str, DeviceModel] = {
    "phone-1b": DeviceModel(
        "phone-1b", mean_latency_s=35.8e-3, power_w=5.0, flops=91.06e12,
        hallucination_share=0.6,
        source="modelled: latency and compute of the 1B device model of arXiv 2602.07958, "
               "5 W and the hallucination share assumed",
    ),
    "phone-1b-lowpower": DeviceModel(
        "phone-1b-lowpower", mean_latency_s=50e-3, power_w=2.5, flops=65e12,
        hallucination_share=0.6,
        source="modelled: a slower, frugal phone (assumed)",
    ),
}

#: The default device model of the long-term scenarios.
DEFAULT_DEVICE = "phone-1b"


def variants_available() -> bool:
    """Whether the compact-variant catalogue :mod:`mecopt.variants` is installed."""
    try:
        return importlib.util.find_spec("mecopt.variants") is not None
    except (ImportError, ValueError):
        return False


def device_model(name: str | DeviceModel) -> DeviceModel:
    """Return a device model by name (or ``name`` itself if it is one).

    Parameters
    ----------
    name
        A key of :data:`BUILTIN_DEVICES`, or ``"variant:NAME"`` to read a variant of
        :mod:`mecopt.variants` (its ``device_model(NAME)`` must return the figures).

    Raises
    ------
    UnknownNameError
        For an unknown name (the message lists the built-in ones).
    MissingDependencyError
        For ``"variant:..."`` when :mod:`mecopt.variants` is not installed.
    """
    if isinstance(name, DeviceModel):
        return name
    if isinstance(name, str) and name.startswith("variant:"):
        if not variants_available():
            raise MissingDependencyError(
                f"device {name!r}: the compact-variant catalogue mecopt.variants is not "
                f"installed in this build; built-in devices: {', '.join(BUILTIN_DEVICES)}"
            )
        module = importlib.import_module("mecopt.variants")
        reader = getattr(module, "device_model", None)
        if reader is None:
            raise MissingDependencyError(
                f"device {name!r}: mecopt.variants has no device_model(NAME) reader"
            )
        out = reader(name.partition(":")[2])
        if not isinstance(out, DeviceModel):
            out = DeviceModel(**dict(out))
        return out
    if name not in BUILTIN_DEVICES:
        raise UnknownNameError(
            f"unknown device model {name!r}; valid names: "
            + ", ".join(repr(n) for n in BUILTIN_DEVICES) + ", or 'variant:NAME'"
        )
    return BUILTIN_DEVICES[name]
