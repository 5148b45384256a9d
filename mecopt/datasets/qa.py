"""Question-answer records with known one-word answers, and their JSONL file format.

A QA file holds one JSON object per line with the string fields ``id``, ``task``, ``context``,
``question`` and ``answer``. Ids are unique within a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["QA_FIELDS", "QARecord", "format_prompt", "read_qa_jsonl", "write_qa_jsonl"]

#: The fields of a QA record, in file order.
QA_FIELDS = ("id", "task", "context", "question", "answer")


@dataclass(frozen=True)
class QARecord:
    """One question with its context and known answer.

    Parameters
    ----------
    id
        Identifier, unique within a file.
    task
        The task type that produced the question (e.g. "single-fact").
    context
        The story the question is about.
    question
        The question.
    answer
        The known answer (one word).
    """

    id: str
    task: str
    context: str
    question: str
    answer: str

    def to_dict(self) -> dict[str, str]:
        """Return the record as a plain dictionary (the JSONL line)."""
        return asdict(self)


def format_prompt(record: QARecord) -> str:
    """Return the prompt a model sees for ``record``: context, question, and an answer cue.

    Parameters
    ----------
    record
        The question.

    Returns
    -------
    str
        ``"<context>\\nQuestion: <question>\\nAnswer:"``.
    """
    return f"{record.context}\nQuestion: {record.question}\nAnswer:"


def write_qa_jsonl(records: Iterable[QARecord], path: str | Path) -> Path:
    """Write ``records`` to ``path`` as JSON lines.

    Parameters
    ----------
    records
        The records to write.
    path
        Output file; parent folders are created.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec.to_dict(), ensure_ascii=False) + "\n")
    return path


def read_qa_jsonl(path: str | Path) -> list[QARecord]:
    """Read and validate a QA file written by :func:`write_qa_jsonl` (or by hand).

    Parameters
    ----------
    path
        The JSONL file.

    Returns
    -------
    list of QARecord
        The records in file order.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If a line is not a JSON object, misses a field, has a non-string or empty field, or
        repeats an id; the message names the file, line and field.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"QA file not found: {path}")
    records: list[QARecord] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise ValueError(f"{where}: expected a JSON object, got {type(obj).__name__}")
            for field in QA_FIELDS:
                if field not in obj:
                    raise ValueError(f"{where}: missing field {field!r}")
                value = obj[field]
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(
                        f"{where}: field {field!r} must be a non-empty string, got {value!r}"
                    )
            if obj["id"] in seen:
                raise ValueError(f"{where}: duplicate id {obj['id']!r}")
            seen.add(obj["id"])
            records.append(QARecord(**{f: obj[f] for f in QA_FIELDS}))
    if not records:
        raise ValueError(f"{path}: no records")
    return records
