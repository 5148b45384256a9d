"""Question-answer data sets with known answers, for measuring models.

The procedural bAbI-style generator (:func:`generate_babi`) and the JSONL QA file format
(:func:`read_qa_jsonl`, :func:`write_qa_jsonl`).
"""

from mecopt.datasets.babi import (
    ANSWER_INSTRUCTIONS,
    ANSWER_WORDS,
    BABI_TASKS,
    babi_vocabulary,
    generate_babi,
)
from mecopt.datasets.qa import QA_FIELDS, QARecord, format_prompt, read_qa_jsonl, write_qa_jsonl

__all__ = [
    "ANSWER_INSTRUCTIONS",
    "ANSWER_WORDS",
    "BABI_TASKS",
    "QA_FIELDS",
    "QARecord",
    "babi_vocabulary",
    "format_prompt",
    "generate_babi",
    "read_qa_jsonl",
    "write_qa_jsonl",
]
