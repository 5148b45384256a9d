"""The variant model: storage against published GGUF sizes, ECLD default, devices, quality."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mecopt.variants as mv
from mecopt.errors import UnknownNameError
from mecopt.variants.formats import PUBLISHED_GGUF_GB, preset_storage_bytes


@pytest.fixture(scope="module")
def llama8b() -> mv.BaseModel:
    return mv.base_model("Llama-3.1-8B")


@pytest.mark.parametrize(
    ("name", "params_b"),
    [("Llama-3.1-8B", 8.03), ("Qwen3-8B", 8.19), ("Mistral-NeMo-12B", 12.25),
     ("Llama-3.2-1B", 1.24), ("Llama-3.2-3B", 3.21)],
)
def test_base_model_parameter_counts(name: str, params_b: float) -> None:
    assert mv.base_models()[name].parameters / 1e9 == pytest.approx(params_b, abs=0.01)


@pytest.mark.parametrize("preset", sorted(PUBLISHED_GGUF_GB))
def test_preset_sizes_match_published_gguf_files(llama8b, preset: str) -> None:
    modelled = preset_storage_bytes(llama8b, preset) / 1e9
    assert modelled == pytest.approx(PUBLISHED_GGUF_GB[preset], rel=0.03)


def test_f16_base_is_15_to_16_gb(llama8b) -> None:
    v = mv.compress(llama8b, preset="f16")
    assert 15.0e9 <= v.storage_bytes <= 16.2e9
    assert mv.compress(llama8b).storage_bytes == pytest.approx(v.storage_bytes, rel=0.001)


def test_ecld_default_near_published_3_3_gb() -> None:
    v = mv.ecld("Llama-3.1-8B")
    assert v.storage_bytes / 1e9 == pytest.approx(3.3, rel=0.10)
    assert v.distilled and v.prune == mv.ECLD_DEFAULT["prune"]
    # 70-80 % storage reduction from the float16 base, as published
    assert 0.70 <= 1 - v.storage_bytes / mv.compress("Llama-3.1-8B").storage_bytes <= 0.82


def test_compress_storage_formula_for_group_codes(llama8b) -> None:
    v4 = mv.compress(llama8b, bits=4, group_size=32)
    v8 = mv.compress(llama8b, bits=8, group_size=32)
    assert v4.bits_per_weight == pytest.approx(4 + 32 / 32, abs=0.01)
    assert v8.storage_bytes > v4.storage_bytes


def test_pruning_shrinks_parameters_and_latency(llama8b) -> None:
    full = mv.compress(llama8b, preset="q4_k_m")
    small = mv.compress(llama8b, prune=0.5, prune_kind="depth", distill=True, preset="q4_k_m")
    assert small.arch.layers == 16 and small.parameters < full.parameters
    dev = mv.device("phone")
    assert small.latency_s(dev, 256, 128) < full.latency_s(dev, 256, 128)
    assert small.energy_j(dev, 256, 128) == pytest.approx(
        dev.power_w * small.latency_s(dev, 256, 128))


def test_decode_is_bandwidth_bound_on_a_phone(llama8b) -> None:
    v = mv.compress(llama8b, preset="q4_k_m")
    tok_s = 1.0 / v.decode_s("phone")
    assert 5 <= tok_s <= 25  # published range for 4-bit 8B models on phones: ~10-20 tokens/s


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"bits": 7}, "bits"), ({"prune": 1.0}, "prune"), ({"prune": -0.1}, "prune"),
     ({"bits": 4, "group_size": 100}, "group_size"), ({"prune_kind": "diagonal"}, "prune_kind"),
     ({"bits": 4, "preset": "q4_k_m"}, "bits or preset")],
)
def test_bad_knobs_name_the_field(llama8b, kwargs, field) -> None:
    with pytest.raises(ValueError, match=field):
        mv.compress(llama8b, **kwargs)


def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError, match="Llama-3.1-8B"):
        mv.base_model("gpt-9")
    with pytest.raises(UnknownNameError, match="q4_k_m"):
        mv.compress("Llama-3.1-8B", preset="q9_z")
    with pytest.raises(UnknownNameError, match="phone"):
        mv.device("toaster")


def test_accessibility_in_unit_interval_and_monotone() -> None:
    pop = mv.DEFAULT_POPULATION
    need = np.linspace(0, 20e9, 200)
    acc = pop.accessibility(need)
    assert np.all((acc >= 0) & (acc <= 1))
    assert np.all(np.diff(acc) <= 0)
    assert acc[0] == pytest.approx(1.0) and acc[-1] == 0.0
    variants = sorted(mv.catalogue("llama-3.1-8b"), key=lambda v: v.runtime_memory())
    accs = [v.accessibility(pop) for v in variants]
    assert all(a >= b for a, b in zip(accs, accs[1:], strict=False))
    assert accs[-1] == 0.0  # the float16 base fits no phone: a result, not an error


def test_population_and_device_validation() -> None:
    with pytest.raises(ValueError, match="memory"):
        mv.DevicePopulation(memory_gb=(0.0, 8.0), share=(0.5, 0.5))
    with pytest.raises(ValueError, match="memory_bytes"):
        mv.Device("empty", "phone", 0.0, 1e9, 1e12, 5.0)


def test_quality_sources_are_labelled(llama8b) -> None:
    base = mv.compress(llama8b)
    assert base.accuracy.source == "published" and base.accuracy.value == pytest.approx(0.653)
    q4 = mv.compress(llama8b, preset="q4_k_m")
    assert q4.accuracy.source == "modelled" and q4.accuracy.value < base.accuracy.value
    assert "published WinoGrande" in q4.accuracy.note
    depth = mv.compress(llama8b, prune=0.5, prune_kind="depth", distill=True)
    assert depth.accuracy.source == "published"
    assert depth.accuracy.value == pytest.approx(0.587, abs=0.005)  # Minitron-4B-Depth 58.7
    undistilled = mv.compress(llama8b, prune=0.5, prune_kind="depth")
    assert undistilled.accuracy.source == "modelled"
    assert undistilled.accuracy.value < depth.accuracy.value
    assert mv.ecld().accuracy.source == "modelled"
    unknown = mv.compress("Qwen3-8B", preset="q4_k_m")
    assert math.isnan(unknown.accuracy.value) and unknown.accuracy.source == "modelled"


def test_pareto_front_is_non_dominated() -> None:
    costs = np.array([[1, 1], [2, 0], [2, 2], [0, 3], [1, 1]])
    mask = mv.pareto_mask(costs)
    assert mask.tolist() == [True, True, False, True, True]
    front = mv.pareto_front(mv.catalogue("llama-3.1-8b"))
    names = {v.name for v in front}
    assert "Llama-3.1-8B-ecld" in names and "Llama-3.1-8B-width35" not in names


def test_catalogue_names() -> None:
    assert "llama-3.1-8b" in mv.available_catalogues()
    with pytest.raises(UnknownNameError, match="llama-3.1-8b"):
        mv.catalogue("nope")


def test_scenario_hook_takes_the_device_model_from_a_catalogue() -> None:
    import mecopt

    plain = mecopt.scenario("kim2026", 8, seed=3)
    inst = mecopt.scenario("kim2026", 8, seed=3, variants="llama-3.1-8b")
    ecld = mv.ecld()
    assert inst.acc_local.mean() == pytest.approx(ecld.accuracy.value, rel=0.05)
    assert np.all(inst.hall_local == ecld.hallucination.value)
    assert np.all(inst.hall_edge == pytest.approx(0.55))  # the float16 base, published
    assert np.all(inst.local_energy > 0)
    assert np.array_equal(inst.local_delay, plain.local_delay)  # delays are the scenario's
    assert inst.meta["variant"] == "Llama-3.1-8B-ecld"
    assert inst.meta["variant_sources"]["hall_edge"] == "published"
    with pytest.raises(ValueError, match="variant"):
        mecopt.scenario("kim2026", 4, seed=0, variants="llama-3.1-8b", variant="nope")
    with pytest.raises(UnknownNameError, match="catalogue"):
        mecopt.scenario("kim2026", 4, seed=0, variants="nope")


def test_measured_babi_tiny_catalogue() -> None:
    import mecopt

    variants = mv.catalogue("babi-tiny")
    recipes = {v.measured["recipe"] for v in variants}
    assert len(variants) >= 5
    assert {"quantisation only", "pruning only", "pruning + distillation",
            "pruning + distillation + quantisation", "same size, trained from scratch"} <= recipes
    for v in variants:
        assert v.storage_source == "measured" and v.accuracy.source == "measured"
        assert v.parameters == v.measured["parameters"]  # the architecture reproduces the count
        assert 0 <= v.accuracy.value <= 1 and 0 <= v.hallucination.value <= 1
    by = {v.name: v for v in variants}
    assert by["ecld-q3"].storage_bytes < by["edge-q3"].storage_bytes < by["edge-f32"].storage_bytes
    inst = mecopt.scenario("kim2026", 6, seed=0, variants="babi-tiny")
    assert inst.meta["variant"] == "ecld-q4"
    assert inst.meta["variant_sources"]["local_energy"] == "measured"


def test_long_term_device_model_reads_the_catalogue() -> None:
    from mecopt.longterm.devices import device_model

    dm = device_model("variant:Llama-3.1-8B-ecld@jetson-orin-nano")
    v = mv.ecld()
    assert dm.mean_latency_s == pytest.approx(v.latency_s("jetson-orin-nano", 128, 16))
    assert dm.power_w == mv.device("jetson-orin-nano").power_w
    # 1 - TruthfulQA (0.57) exceeds the MMLU error rate (0.39): the share clips at 1
    assert dm.hallucination_share == pytest.approx(
        min(1.0, v.hallucination.value / (1 - v.accuracy.value)))
    tiny = device_model("variant:ecld-q4")
    assert 0 <= tiny.hallucination_share <= 1 and tiny.mean_latency_s > 0
    with pytest.raises(UnknownNameError, match="not found"):
        mv.device_model("nope@phone")
