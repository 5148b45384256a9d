"""Compact model variants: base models, compression, device hardware, catalogues.

The data source of the compact models devices run (ECLD, arXiv 2602.13628): structured
pruning, low-bit quantisation and distillation of a base LLM, scored on storage, memory,
latency and energy per query on a device, accuracy, hallucination, generalisation and
accessibility. Every figure carries its source: ``measured``, ``published`` or ``modelled``.

Stable API (used by the long-term system and the deployment choice, :mod:`mecopt.deploy`)::

    import mecopt.variants as mv

    mv.base_models()                        # {"Llama-3.1-8B": BaseModel, ...}
    v = mv.compress("Llama-3.1-8B", preset="q4_k_m")   # or prune=, bits=, group_size=, distill=
    v = mv.ecld("Llama-3.1-8B")             # the ECLD default (3.24 GB)
    mv.catalogue("llama-3.1-8b")            # list[Variant]; also "babi-tiny" (measured)
    dev = mv.device("phone")                # also "jetson-orin-nano", "laptop", "edge-server"
    v.storage_bytes, v.runtime_memory(context_tokens=4096)
    v.latency_s(dev, prompt_tokens=256, output_tokens=128)   # seconds, modelled
    v.energy_j(dev, 256, 128)                                # J, modelled
    v.accuracy.value, v.accuracy.source     # Figure(value, source, note)
    v.hallucination, v.generalisation
    v.accessibility(mv.DEFAULT_POPULATION)  # share of devices that can host it, [0, 1]
    mv.pareto_front(variants, x="storage")
    mv.device_model("Llama-3.1-8B-ecld@phone")   # figures for mecopt.longterm "variant:NAME"

Measured variants (``catalogue("babi-tiny")``) also carry ``v.measured``: recipe, AUROC,
measured CPU ``latency_s`` and ``energy_j`` per query. The real compression pipeline (needs the
``measure`` extra) is :func:`mecopt.variants.build.build_variants`.
"""

from mecopt.variants.architecture import BaseModel, base_model, base_models
from mecopt.variants.catalogue import available_catalogues, catalogue
from mecopt.variants.device_model import device_model, find_variant
from mecopt.variants.formats import PRESETS, PUBLISHED_GGUF_GB, preset_storage_bytes
from mecopt.variants.hardware import DEFAULT_POPULATION, Device, DevicePopulation, device, devices
from mecopt.variants.pareto import pareto_front, pareto_mask
from mecopt.variants.published import Figure
from mecopt.variants.variant import ECLD_DEFAULT, MODEL_BITS, Variant, compress, ecld

__all__ = [
    "DEFAULT_POPULATION", "ECLD_DEFAULT", "MODEL_BITS", "PRESETS", "PUBLISHED_GGUF_GB",
    "BaseModel", "Device", "DevicePopulation", "Figure", "Variant", "available_catalogues",
    "base_model", "base_models", "catalogue", "compress", "device", "device_model", "devices",
    "ecld", "find_variant",
    "pareto_front", "pareto_mask", "preset_storage_bytes",
]  # fmt: skip
