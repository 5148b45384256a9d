"""Measuring a device and an edge model over a QA set and writing the resulting profile."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from mecopt.datasets.qa import QA_FIELDS, QARecord, read_qa_jsonl
from mecopt.measure._deps import import_torch, import_transformers
from mecopt.measure.harness import Answer, answer_queries, build_prompt, uses_chat
from mecopt.measure.sources import load_model, source_name
from mecopt.profiles.io import write_profile
from mecopt.profiles.profile import Profile
from mecopt.profiles.provenance import Provenance, hardware_info, software_versions
from mecopt.profiles.records import ProfileRecords

__all__ = ["describe_model", "load_model", "measure_answers", "measure_profile"]

ModelSpec = str | os.PathLike[str] | tuple[Any, Any]


def describe_model(model: Any, source: str) -> dict[str, Any]:
    """Describe a model for a profile's provenance: source, architecture, size."""
    config = getattr(model, "config", None)
    return {
        "name": source,
        "architecture": type(model).__name__,
        "model_type": getattr(config, "model_type", None),
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "num_hidden_layers": getattr(config, "num_hidden_layers", None),
        "hidden_size": getattr(config, "hidden_size", None),
    }


def _resolve(spec: ModelSpec, role: str) -> tuple[Any, Any, str]:
    if isinstance(spec, tuple):
        model, tokenizer = spec
        source = getattr(getattr(model, "config", None), "name_or_path", "") or f"in-memory {role}"
        return model, tokenizer, str(source)
    model, tokenizer = load_model(spec)
    return model, tokenizer, source_name(spec)


def _data_hash(records: Sequence[QARecord]) -> str:
    h = hashlib.sha256()
    for rec in records:
        h.update(json.dumps([getattr(rec, f) for f in QA_FIELDS]).encode("utf-8"))
    return h.hexdigest()


def _load_partial(path: Path, header: dict[str, Any]) -> dict[str, Answer]:
    """Read the answers of an earlier, interrupted run (checking it measured the same thing)."""
    if not path.is_file():
        return {}
    done: dict[str, Answer] = {}
    with path.open(encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    if not lines:
        return {}
    try:
        old = json.loads(lines[0])
    except json.JSONDecodeError:
        raise ValueError(
            f"{path}: line 1 is not valid JSON; delete the file to start over"
        ) from None
    if old != header:
        raise ValueError(
            f"{path} belongs to a different measurement (models, data or settings differ); "
            "delete it or pass another output path"
        )
    for lineno, line in enumerate(lines[1:], start=2):
        try:
            obj = json.loads(line)
            done[obj["id"]] = Answer(**obj)
        except (json.JSONDecodeError, KeyError, TypeError):
            if lineno == len(lines):  # a line cut short by an interruption: redo that query
                break
            raise ValueError(f"{path}: line {lineno} is not a valid answer record") from None
    return done


def _run_role(
    model: Any,
    tokenizer: Any,
    records: Sequence[QARecord],
    partial: Path | None,
    header: dict[str, Any],
    progress: bool,
    role: str,
    **kwargs: Any,
) -> dict[str, Answer]:
    from tqdm.auto import tqdm

    done = _load_partial(partial, header) if partial is not None else {}
    todo = [r for r in records if r.id not in done]
    fh = None
    if partial is not None:
        partial.parent.mkdir(parents=True, exist_ok=True)
        fresh = not partial.is_file() or partial.stat().st_size == 0 or not done
        if fresh:
            partial.write_text(json.dumps(header) + "\n", encoding="utf-8")
        else:  # rewrite the valid lines, dropping a torn last line
            partial.write_text(
                "\n".join([json.dumps(header)] + [json.dumps(a.to_dict()) for a in done.values()])
                + "\n",
                encoding="utf-8",
            )
        fh = partial.open("a", encoding="utf-8")
    try:
        bar = tqdm(
            total=len(records),
            initial=len(done),
            desc=f"measuring {role}",
            disable=not progress,
            unit="q",
        )
        for ans in answer_queries(model, tokenizer, todo, **kwargs):
            done[ans.id] = ans
            if fh is not None:
                fh.write(json.dumps(ans.to_dict()) + "\n")
                fh.flush()
            bar.update(1)
        bar.close()
    finally:
        if fh is not None:
            fh.close()
    return done


def measure_profile(
    local: ModelSpec,
    edge: ModelSpec,
    data: str | os.PathLike[str] | Sequence[QARecord],
    output: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    max_new_tokens: int = 5,
    k: int = 10,
    aggregate: Literal["first", "mean", "max"] = "first",
    alpha_at: Literal["answer", "start"] = "answer",
    chat: bool | Literal["auto"] = "auto",
    batch_size: int = 1,
    threads: int | None = None,
    progress: bool = True,
    model_info: dict[str, dict[str, Any]] | None = None,
    dataset_info: dict[str, Any] | None = None,
) -> Profile:
    """Answer every question with a device and an edge model, and build their profile.

    Each model answers greedily (see :func:`~mecopt.measure.harness.answer_queries`); the
    device model's alpha, both models' correctness and latencies, the prompt size and the
    device model's output length become one record per question. With ``output``, the answers
    are appended to ``<output>.local.jsonl`` and ``<output>.edge.jsonl`` as they come, and a
    later call with the same models, data and settings resumes where one stopped (one role can
    also be measured ahead with :func:`measure_answers`).

    Parameters
    ----------
    local, edge
        The device and edge models: a model folder, a ``.gguf`` file or a shipped model name
        (see :func:`mecopt.measure.load_model`; nothing is downloaded), or a
        ``(model, tokenizer)`` pair already in memory.
    data
        A QA JSONL file (see :mod:`mecopt.datasets`) or a sequence of :class:`QARecord`.
    output
        Where to write the profile (``.json`` sidecar + ``.csv``, or a stem); ``None`` keeps
        everything in memory.
    name, description
        The profile's name (default: the output's stem) and description.
    max_new_tokens, k, aggregate, alpha_at, chat, batch_size
        Generation and metric settings (see :func:`~mecopt.measure.harness.answer_queries`),
        recorded in the provenance; ``chat="auto"`` uses a model's chat template when its
        tokenizer has one.
    threads
        If given, ``torch.set_num_threads(threads)`` before measuring.
    progress
        Show progress bars.
    model_info
        Extra provenance per role (``{"local": {...}, "edge": {...}}``), e.g. how the models
        were trained.
    dataset_info
        Extra provenance of the data set (e.g. generator and seed).

    Returns
    -------
    Profile
        The measured profile (also written to ``output`` when given).

    Raises
    ------
    FileNotFoundError
        If the data file or a model file or folder does not exist.
    ValueError
        If the data is malformed, or a partial file belongs to another measurement.
    MissingDependencyError
        If a package the models need is not installed (the message names the command).
    """
    torch = import_torch()
    import_transformers()
    records, data_name = _records(data)
    if threads is not None:
        torch.set_num_threads(int(threads))
    settings = {
        "max_new_tokens": max_new_tokens, "k": k, "aggregate": aggregate,
        "alpha_at": alpha_at, "batch_size": batch_size,
    }  # fmt: skip
    digest = _data_hash(records)
    answers: dict[str, dict[str, Answer]] = {}
    described: dict[str, dict[str, Any]] = {}
    chats: dict[str, bool] = {}
    for role, spec in (("local", local), ("edge", edge)):
        answers[role], described[role], chats[role] = measure_answers(
            spec, records, output, role=role, progress=progress, digest=digest, chat=chat,
            **settings,
        )  # fmt: skip
        described[role].update((model_info or {}).get(role, {}))
    loc = [answers["local"][r.id] for r in records]
    edg = [answers["edge"][r.id] for r in records]
    prof_records = ProfileRecords.from_columns(
        {
            "id": [r.id for r in records],
            "task": [r.task for r in records],
            "alpha": [a.alpha for a in loc],
            "local_correct": [int(a.correct) for a in loc],
            "edge_correct": [int(a.correct) for a in edg],
            "local_latency_s": [a.latency_s for a in loc],
            "edge_latency_s": [a.latency_s for a in edg],
            "prompt_bytes": [a.prompt_bytes for a in loc],
            "output_tokens": [a.output_tokens for a in loc],
        },
        source="measurement",
    )
    latency = "wall-clock generate() time"
    if batch_size > 1:
        latency += f", in batches of {batch_size}: the batch's time / its questions"
    provenance = Provenance(
        description=description or f"measured on {data_name}",
        synthetic=False,
        models=described,
        dataset={
            "file": data_name,
            "n": len(records),
            "sha256": digest,
            "tasks": sorted({r.task for r in records}),
            **(dataset_info or {}),
        },
        hardware={**hardware_info(), "torch_threads": torch.get_num_threads()},
        software=software_versions("torch", "transformers", "tokenizers"),
        extra={
            "measurement": {
                **settings,
                "chat": chats,
                "decoding": "greedy",
                "metric": "margin-based, arXiv 2602.07958",
                "correctness": "bAbI tasks: the output's first answer word equals the answer "
                "(mecopt.measure.answers); other tasks: whole-word match",
                "latency": latency,
            }
        },
    )
    stem = _stem(output)
    profile_name = name or (stem.name if stem is not None else "measured")
    profile = Profile(profile_name, prof_records, provenance)
    if output is not None:
        write_profile(profile, Path(output))
    return profile


def _records(data: str | os.PathLike[str] | Sequence[QARecord]) -> tuple[list[QARecord], str]:
    if isinstance(data, str | os.PathLike):
        records, name = read_qa_jsonl(data), os.fspath(data)
    else:
        records, name = list(data), "in-memory records"
    if not records:
        raise ValueError("no questions to measure")
    return records, name


def _stem(output: str | os.PathLike[str] | None) -> Path | None:
    if output is None:
        return None
    path = Path(output)
    return path.with_suffix("") if path.suffix in (".json", ".csv") else path


def measure_answers(
    spec: ModelSpec,
    data: str | os.PathLike[str] | Sequence[QARecord],
    output: str | os.PathLike[str] | None = None,
    *,
    role: str = "local",
    progress: bool = True,
    digest: str | None = None,
    chat: bool | Literal["auto"] = "auto",
    **settings: Any,
) -> tuple[dict[str, Answer], dict[str, Any], bool]:
    """Answer every question with one model, resumably: one model's half of a profile.

    With ``output``, answers go to ``<output>.<role>.jsonl`` as they come: the file
    :func:`measure_profile` resumes from, so one role can be measured ahead of the other.

    Parameters
    ----------
    spec
        The model (see :func:`measure_profile`).
    data
        A QA file or records.
    output
        The profile's path or stem, or ``None``.
    role
        ``"local"`` or ``"edge"``.
    progress
        Show a progress bar.
    digest
        SHA-256 of the records (computed when not given).
    chat
        Chat template: ``True``, ``False`` or ``"auto"``.
    **settings
        ``max_new_tokens``, ``k``, ``aggregate``, ``alpha_at``, ``batch_size`` of
        :func:`~mecopt.measure.harness.answer_queries`.

    Returns
    -------
    answers, description, chat
        Answers by question id, the model's provenance entry, and whether the chat template
        was used.
    """
    records, _ = _records(data)
    model, tokenizer, source = _resolve(spec, role)
    use_chat = uses_chat(tokenizer, chat)
    prompts = hashlib.sha256()
    for rec in records:  # a changed prompt format must not resume old answers
        prompts.update(build_prompt(rec, tokenizer, chat=use_chat).encode("utf-8"))
    header = {
        "role": role, "model": source, "data_sha256": digest or _data_hash(records),
        **settings, "chat": use_chat, "prompts_sha256": prompts.hexdigest(),
    }  # fmt: skip
    stem = _stem(output)
    partial = stem.with_name(f"{stem.name}.{role}.jsonl") if stem is not None else None
    answers = _run_role(
        model, tokenizer, records, partial, header, progress, role, warmup=True,
        chat=use_chat, **settings,
    )  # fmt: skip
    return answers, describe_model(model, source), use_chat
