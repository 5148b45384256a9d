"""The figures the long-term simulator needs of a device running a variant.

``device_model("VARIANT@DEVICE")`` (``@DEVICE`` optional, default ``phone``) returns a dict
with the fields of :class:`mecopt.longterm.devices.DeviceModel`, so ``"variant:NAME"``
devices of the long-term system read this catalogue:

- ``mean_latency_s``: the variant's modelled latency on the device for a short QA query
  (:data:`PROMPT_TOKENS` prompt tokens, :data:`OUTPUT_TOKENS` output tokens);
- ``power_w`` and ``flops``: the device's (spec sheet, see :mod:`mecopt.variants.hardware`);
- ``hallucination_share``: the share of wrong answers that hallucinate,
  ``hallucination / (1 - accuracy)`` clipped to [0, 1] (the variant's sources). For the
  big-model catalogues the hallucination rate (1 - TruthfulQA) exceeds the MMLU error rate,
  so the share is 1 there;
- ``source``: the sources of these numbers.

The variant is looked up by name in every catalogue (:func:`mecopt.variants.catalogue`).
"""

from __future__ import annotations

import math
from typing import Any

from mecopt.errors import UnknownNameError
from mecopt.variants.catalogue import available_catalogues, catalogue
from mecopt.variants.hardware import device
from mecopt.variants.variant import Variant

__all__ = ["OUTPUT_TOKENS", "PROMPT_TOKENS", "device_model", "find_variant"]

PROMPT_TOKENS = 128
OUTPUT_TOKENS = 16


def find_variant(name: str) -> Variant:
    """The variant called ``name`` in any catalogue (case-insensitive).

    Raises
    ------
    UnknownNameError
        If no catalogue holds it.
    """
    for cat in available_catalogues():
        for v in catalogue(cat):
            if v.name.lower() == name.lower():
                return v
    raise UnknownNameError(
        f"variant {name!r} not found in the catalogues {', '.join(available_catalogues())}"
    )


def device_model(name: str) -> dict[str, Any]:
    """Long-term device figures of ``"VARIANT[@DEVICE]"`` (see the module docstring).

    Raises
    ------
    UnknownNameError
        For an unknown variant or device.
    ValueError
        If the variant's accuracy or hallucination is unknown.
    """
    var_name, _, dev_name = name.partition("@")
    v = find_variant(var_name)
    d = device(dev_name or "phone")
    acc, hall = v.accuracy.value, v.hallucination.value
    if not (math.isfinite(acc) and math.isfinite(hall)):
        raise ValueError(f"variant {v.name}: accuracy or hallucination unknown")
    share = min(1.0, max(0.0, hall / (1.0 - acc))) if acc < 1.0 else 0.0
    return {
        "name": f"{v.name}@{d.name}",
        "mean_latency_s": v.latency_s(d, PROMPT_TOKENS, OUTPUT_TOKENS),
        "power_w": d.power_w,
        "flops": d.flops,
        "hallucination_share": share,
        "source": (f"modelled latency of {v.name} on {d.name} ({PROMPT_TOKENS} + "
                   f"{OUTPUT_TOKENS} tokens); power and compute from the device spec; "
                   f"hallucination share from {v.hallucination.source} hallucination and "
                   f"{v.accuracy.source} accuracy"),
    }
