"""The shipped SmolLM2 measurements: profile ``smollm2-babi`` and catalogue ``smollm2``."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mecopt
import mecopt.variants as mv
from mecopt.profiles import available_profiles, load_profile
from mecopt.variants.catalogue_io import CATALOGUE_DIR


def test_profile_is_a_real_measurement_on_1000_questions():
    assert "smollm2-babi" in available_profiles()
    p = load_profile("smollm2-babi")
    r = p.records
    assert len(p) >= 1000 and not p.synthetic
    assert np.all((r.alpha >= 0) & (r.alpha <= 1))
    models = p.provenance.models
    assert models["edge"]["name"] == "smollm2-135m"
    assert models["local"]["parameters"] < models["edge"]["parameters"]
    assert p.provenance.extra["measurement"]["chat"] == {"local": True, "edge": True}
    stats = p.statistics()
    assert 0 < stats.acc_local < 1 and 0 < stats.acc_edge < 1
    assert p.provenance.dataset["seed"] == 2026  # disjoint from the distillation data (seed 0)


def test_profile_in_the_one_shot_and_long_term_scenarios():
    from mecopt.longterm.scenario import InfeasibleScenarioError, LongtermScenario

    inst = mecopt.scenario("kim2026", 12, seed=3, profile="smollm2-babi")
    assert inst.meta["curve"] == "profile:smollm2-babi"
    assert inst.meta["synthetic_curve"] is False
    # The default accuracy floor (0.52) is above what these small models reach: a clear error.
    with pytest.raises(InfeasibleScenarioError, match="smollm2-babi"):
        LongtermScenario(profile="smollm2-babi")
    sc = LongtermScenario(
        profile="smollm2-babi", device="variant:smollm2-ecld-q4_0", min_accuracy=0.3
    )
    assert sc.profile == "smollm2-babi"


def test_catalogue_figures_are_measured_and_storage_matches_the_files():
    variants = mv.catalogue("smollm2")
    by = {v.name: v for v in variants}
    assert "smollm2-135m" in by and "smollm2-ecld-q4_0" in by
    doc = json.loads((CATALOGUE_DIR / "smollm2.json").read_text())
    for row in doc["rows"]:
        v = by[row["name"]]
        assert v.storage_source == "measured" and v.accuracy.source == "measured"
        assert v.storage_bytes == row["storage_bytes"]
        assert v.parameters == row["parameters"]  # the architecture reproduces the count
        if row.get("gguf_check_n"):
            assert row["gguf_answers_match"] == row["gguf_check_n"]
    # the shipped model's row is its file
    assert by["smollm2-135m"].storage_bytes == 98_362_432
    assert by["smollm2-ecld-q4_0"].storage_bytes < by["smollm2-135m"].storage_bytes


def test_catalogue_in_the_scenarios():
    inst = mecopt.scenario("kim2026", 6, seed=0, variants="smollm2")
    assert inst.meta["variant"] == "smollm2-ecld-q4_0"
    assert inst.meta["edge_variant"] == "smollm2-135m"
    assert inst.meta["variant_sources"]["accuracy"] == "measured"
    dm = mv.device_model("smollm2-ecld-q4_0@phone")
    assert dm["mean_latency_s"] > 0
